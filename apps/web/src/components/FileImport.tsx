// A file imported into the node with its upload's progress: the file, the TLP of what it leaves
// unmarked, whether the good parts are kept when some are refused, and every refused part listed.
// The case page's STIX bundle and MISP event imports are this form with their own words.
import {
  Alert,
  Button,
  Checkbox,
  Group,
  Paper,
  Progress,
  Select,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { type QueryKey, useQueryClient } from '@tanstack/react-query';
import { TLPS } from '@vytis/contracts';
import { type ReactNode, useState } from 'react';
import { ApiError } from '../api/client.ts';
import { uploadFile } from '../api/upload.ts';
import { Problem } from './Problem.tsx';

const tlpOptions = TLPS.map((t) => ({ value: t, label: `TLP:${t.toUpperCase()}` }));

/** One part the node refused: its place among the parts it read (`line`), and its message. */
export interface Refusal {
  line: number;
  message: string;
}

/** What an import answers: at least the number refused and the first of them. */
export interface ImportAnswer {
  rejected: number;
  problems: Refusal[];
}

/** The refusals of a 400 (nothing imported): each detail names `body/objects/N`. */
function refusalsOf(error: unknown): Refusal[] {
  if (!(error instanceof ApiError) || error.status !== 400) return [];
  return error.details.flatMap((d) => {
    const line = /objects\/(\d+)$/.exec(d.field)?.[1];
    return line === undefined ? [] : [{ line: Number(line), message: d.message }];
  });
}

/** A column of the refusal table; `code` for names as written in the file (ids, paths). */
export interface RefusalColumn {
  header: string;
  code?: boolean;
}

type Upload<R> = { progress: number } | { result: R } | { error: unknown };

export interface FileImportProps<R extends ImportAnswer> {
  /** Names the file input (`<name>-file`) and the test ids (`<name>-result`, `<name>-refused`). */
  name: string;
  title: string;
  /** Where the file goes (`/api/v1/…`); `partial` and `tlp` are added as its query. */
  url: string;
  contentType: string;
  fileLabel: string;
  /** The file input's `accept`. */
  accept: string;
  /** The TLP select's label; without it the form offers none. */
  tlpLabel?: string;
  partialLabel: string;
  buttonLabel: string;
  progressLabel: string;
  /** Said once the file is sent, while the node checks and stores it. */
  storing: string;
  /** What the import changed: refetched once it is done. */
  invalidates: QueryKey[];
  /** The line that says what the import did. */
  renderResult: (result: R) => ReactNode;
  refusedCaption: string;
  refusedColumns: RefusalColumn[];
  /** A refusal's cells, one per column. */
  refusedCells: (refusal: Refusal) => string[];
}

/**
 * Without the "keep the good ones" box one refused part refuses the whole file (nothing is written,
 * the node answers 400 naming each part); with it the rest is imported. Either way the refused
 * parts are listed.
 */
export function FileImport<R extends ImportAnswer>(props: FileImportProps<R>) {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [partial, setPartial] = useState(false);
  const [tlp, setTlp] = useState<string | null>(null);
  const [upload, setUpload] = useState<Upload<R> | null>(null);
  const sending = upload !== null && 'progress' in upload;

  const start = () => {
    if (!file) return;
    setUpload({ progress: 0 });
    const query = new URLSearchParams({ partial: String(partial) });
    if (tlp) query.set('tlp', tlp);
    uploadFile<R>(`${props.url}?${query}`, file, props.contentType, (progress) =>
      setUpload({ progress }),
    ).then(
      (result) => {
        setUpload({ result });
        for (const queryKey of props.invalidates) void queryClient.invalidateQueries({ queryKey });
      },
      (error: unknown) => setUpload({ error }),
    );
  };

  const result = upload && 'result' in upload ? upload.result : null;
  const error = upload && 'error' in upload ? upload.error : null;
  const refused = result ? result.problems : refusalsOf(error);
  const fileId = `${props.name}-file`;
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        {props.title}
      </Title>
      <Stack>
        <Group align="flex-end" wrap="wrap">
          <div>
            <Text size="sm" fw={500} component="label" htmlFor={fileId}>
              {props.fileLabel}
            </Text>
            <input
              id={fileId}
              type="file"
              accept={props.accept}
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
              style={{ display: 'block', marginTop: 4 }}
            />
          </div>
          {props.tlpLabel ? (
            <Select
              label={props.tlpLabel}
              placeholder="the case's"
              data={tlpOptions}
              value={tlp}
              onChange={setTlp}
              clearable
              w={320}
            />
          ) : null}
          <Checkbox
            mb={8}
            label={props.partialLabel}
            checked={partial}
            onChange={(e) => setPartial(e.currentTarget.checked)}
          />
          <Button onClick={start} disabled={!file || sending}>
            {props.buttonLabel}
          </Button>
        </Group>
        {upload && 'progress' in upload ? (
          <div>
            <Text size="sm">{upload.progress < 100 ? `Uploading… ${upload.progress}%` : props.storing}</Text>
            <Progress
              value={upload.progress}
              animated={upload.progress === 100}
              aria-label={props.progressLabel}
            />
          </div>
        ) : null}
        {result ? (
          <Text role="status" data-testid={`${props.name}-result`}>
            {props.renderResult(result)}
          </Text>
        ) : null}
        {error && refused.length ? (
          <Alert color="red" title="Nothing was imported" role="alert">
            {error instanceof Error ? error.message : String(error)}
          </Alert>
        ) : (
          <Problem error={error} title="Nothing was imported" />
        )}
        {refused.length ? (
          <RefusedTable
            name={props.name}
            caption={props.refusedCaption}
            columns={props.refusedColumns}
            rows={refused.map(props.refusedCells)}
            total={result?.rejected}
          />
        ) : null}
      </Stack>
    </Paper>
  );
}

function RefusedTable({
  name,
  caption,
  columns,
  rows,
  total,
}: {
  name: string;
  caption: string;
  columns: RefusalColumn[];
  rows: string[][];
  /** How many were refused, when more than the rows the node listed. */
  total?: number | undefined;
}) {
  const captionId = `${name}-refused-caption`;
  return (
    <div>
      <Text size="sm" fw={500} id={captionId}>
        {caption}
        {total !== undefined && total > rows.length ? ` (the first ${rows.length} of ${total})` : ''}
      </Text>
      <Table data-testid={`${name}-refused`} aria-labelledby={captionId} fz="sm">
        <Table.Thead>
          <Table.Tr>
            {columns.map((c) => (
              <Table.Th key={c.header}>{c.header}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((cells, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the list is fixed once shown; its places may repeat (across MISP events)
            <Table.Tr key={`${i}:${cells[0]}`}>
              {cells.map((cell, j) => (
                <Table.Td
                  key={columns[j]?.header ?? j}
                  className="wrap-anywhere"
                  ff={columns[j]?.code ? 'monospace' : undefined}
                >
                  {cell}
                </Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </div>
  );
}
