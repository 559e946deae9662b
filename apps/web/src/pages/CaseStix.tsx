// The STIX 2.1 side of a case: the case as a bundle to download, a bundle to import (with the
// upload's progress and every object the node refused), and the intelligence objects that bundles
// brought in, each with its relationships and the object exactly as received.
import {
  Alert,
  Anchor,
  Button,
  Checkbox,
  Code,
  Drawer,
  Group,
  Paper,
  Progress,
  Select,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  type Case,
  type IntelObject,
  type IntelObjectDetail,
  type StixImportResult,
  TLPS,
} from '@vytis/contracts';
import { useState } from 'react';
import { ApiError, api, getCsrfToken } from '../api/client.ts';
import { useMe } from '../auth.tsx';
import { TlpBadge } from '../components/badges.tsx';
import { fmtTime } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';
import { TaxiiCollectionHint } from './Taxii.tsx';

/** The media type a bundle is sent as (the node takes application/json too). */
const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

/** The STIX 2.1 object types a case may hold as intelligence, offered by the type filter. */
const STIX_TYPES = [
  'attack-pattern',
  'campaign',
  'course-of-action',
  'grouping',
  'identity',
  'incident',
  'infrastructure',
  'intrusion-set',
  'location',
  'malware',
  'malware-analysis',
  'marking-definition',
  'note',
  'opinion',
  'relationship',
  'report',
  'sighting',
  'threat-actor',
  'tool',
];

const tlpOptions = TLPS.map((t) => ({ value: t, label: `TLP:${t.toUpperCase()}` }));

type IntelPage = { items: IntelObject[]; nextCursor: string | null };

/** The bundle's address: an exercise case is exported only when asked for (`exercise=include`). */
export const stixBundleHref = (c: Pick<Case, 'id' | 'exercise'>) =>
  `/api/v1/cases/${c.id}/stix${c.exercise ? '?exercise=include' : ''}`;

/**
 * "Download STIX": the case as a bundle of what the viewer may pass on. The node refuses RED, and
 * another party's AMBER+STRICT, with a 403; the link is not offered then, the reason is said instead.
 */
export function StixDownload({ kase }: { kase: Case }) {
  const me = useMe();
  const held =
    kase.tlp === 'red'
      ? 'TLP:RED is never passed on'
      : kase.tlp === 'amber+strict' && kase.ownerParty !== me.party
        ? `TLP:AMBER+STRICT is passed on only by ${kase.ownerParty}`
        : null;
  if (held) {
    return (
      <Text size="xs" c="dimmed" data-testid="stix-download-held">
        No STIX export: {held}
      </Text>
    );
  }
  return (
    <Button
      component="a"
      href={stixBundleHref(kase)}
      download={`case-${kase.id}${kase.exercise ? '-exercise' : ''}.stix.json`}
      size="xs"
      variant="default"
    >
      Download STIX
    </Button>
  );
}

/** One object the node refused: its index in the bundle's `objects`, its STIX id, and why. */
export interface RefusedObject {
  index: number;
  id: string;
  reason: string;
}

/** Splits the node's `<stix id>: <reason>` (the id is absent when the object had none). */
export function refusedObject(index: number, message: string): RefusedObject {
  const match = /^([a-z0-9-]+--[^\s:]+): ([\s\S]*)$/.exec(message);
  return match ? { index, id: match[1]!, reason: match[2]! } : { index, id: '', reason: message };
}

/** The refused objects of a 400 (nothing imported): each detail names `body/objects/N`. */
function refusedOf(error: unknown): RefusedObject[] {
  if (!(error instanceof ApiError) || error.status !== 400) return [];
  return error.details.flatMap((d) => {
    const index = /objects\/(\d+)$/.exec(d.field)?.[1];
    return index === undefined ? [] : [refusedObject(Number(index), d.message)];
  });
}

type Upload = { progress: number } | { result: StixImportResult } | { error: unknown };

/**
 * Sends a bundle with XMLHttpRequest (fetch reports no upload progress): `onProgress` gets the
 * percentage sent, the promise the node's answer (an ApiError with its details when refused).
 */
function sendBundle(
  url: string,
  file: File,
  onProgress: (percent: number) => void,
): Promise<StixImportResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('content-type', STIX_MEDIA_TYPE);
    xhr.setRequestHeader('accept', 'application/json');
    const csrf = getCsrfToken();
    if (csrf) xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100));
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 200) return resolve(body as StixImportResult);
      const e = (body as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
      const details = Array.isArray(e?.details) ? (e.details as { field: string; message: string }[]) : [];
      reject(new ApiError(xhr.status, e?.code ?? 'error', e?.message ?? `HTTP ${xhr.status}`, details));
    };
    xhr.onerror = () => reject(new Error('the upload failed'));
    xhr.send(file);
  });
}

/**
 * "Import STIX bundle": a .json file into the case. Without "keep the good objects" one bad object
 * refuses the whole bundle (nothing is written); either way the refused objects are listed.
 */
export function StixImport({ caseId }: { caseId: string }) {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [partial, setPartial] = useState(false);
  const [tlp, setTlp] = useState<string | null>(null);
  const [upload, setUpload] = useState<Upload | null>(null);
  const sending = upload !== null && 'progress' in upload;

  const start = () => {
    if (!file) return;
    setUpload({ progress: 0 });
    const query = new URLSearchParams({ partial: String(partial) });
    if (tlp) query.set('tlp', tlp);
    sendBundle(`/api/v1/cases/${caseId}/stix?${query}`, file, (progress) => setUpload({ progress })).then(
      (result) => {
        setUpload({ result });
        void queryClient.invalidateQueries({ queryKey: ['case', caseId] });
        void queryClient.invalidateQueries({ queryKey: ['observables', caseId] });
        void queryClient.invalidateQueries({ queryKey: ['intelligence', caseId] });
      },
      (error: unknown) => setUpload({ error }),
    );
  };

  const result = upload && 'result' in upload ? upload.result : null;
  const error = upload && 'error' in upload ? upload.error : null;
  const refused = result ? result.problems.map((p) => refusedObject(p.line, p.message)) : refusedOf(error);
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Import STIX bundle
      </Title>
      <Stack>
        <Group align="flex-end" wrap="wrap">
          <div>
            <Text size="sm" fw={500} component="label" htmlFor="stix-file">
              STIX 2.1 bundle (.json)
            </Text>
            <input
              id="stix-file"
              type="file"
              accept=".json,application/json,application/stix+json"
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
              style={{ display: 'block', marginTop: 4 }}
            />
          </div>
          <Select
            label="TLP of unmarked objects"
            placeholder="the case's"
            data={tlpOptions}
            value={tlp}
            onChange={setTlp}
            clearable
            w={320}
          />
          <Checkbox
            mb={8}
            label="Keep the good objects even if some are refused"
            checked={partial}
            onChange={(e) => setPartial(e.currentTarget.checked)}
          />
          <Button onClick={start} disabled={!file || sending}>
            Import bundle
          </Button>
        </Group>
        {upload && 'progress' in upload ? (
          <div>
            <Text size="sm">
              {upload.progress < 100
                ? `Uploading… ${upload.progress}%`
                : 'Uploaded; the node is checking and storing the objects…'}
            </Text>
            <Progress
              value={upload.progress}
              animated={upload.progress === 100}
              aria-label="STIX import progress"
            />
          </div>
        ) : null}
        {result ? (
          <Text role="status" data-testid="stix-result">
            {result.objects} objects: {result.imported} observables added, {result.duplicates} already held;
            intelligence {result.intelligence.added} added, {result.intelligence.updated} updated,{' '}
            {result.intelligence.unchanged} unchanged, {result.intelligence.older} older ignored;{' '}
            {result.rejected} refused
          </Text>
        ) : null}
        {error && refused.length ? (
          <Alert color="red" title="Nothing was imported" role="alert">
            {error instanceof Error ? error.message : String(error)}
          </Alert>
        ) : (
          <Problem error={error} title="Nothing was imported" />
        )}
        {refused.length ? <RefusedTable refused={refused} total={result?.rejected} /> : null}
      </Stack>
    </Paper>
  );
}

function RefusedTable({ refused, total }: { refused: RefusedObject[]; total?: number | undefined }) {
  return (
    <div>
      <Text size="sm" fw={500} id="stix-refused-caption">
        Refused objects
        {total !== undefined && total > refused.length ? ` (the first ${refused.length} of ${total})` : ''}
      </Text>
      <Table data-testid="stix-refused" aria-labelledby="stix-refused-caption" fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Index</Table.Th>
            <Table.Th>STIX id</Table.Th>
            <Table.Th>Reason</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {refused.map((r) => (
            <Table.Tr key={`${r.index}:${r.id}`}>
              <Table.Td>{r.index}</Table.Td>
              <Table.Td className="wrap-anywhere" ff="monospace">
                {r.id || '—'}
              </Table.Td>
              <Table.Td className="wrap-anywhere">{r.reason}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </div>
  );
}

type Named = Pick<IntelObject, 'name' | 'stixId' | 'type' | 'sourceRef' | 'targetRef'>;

/**
 * What a row shows for an object: its name; else, for a relationship or a sighting (which have
 * none), its two ends by name where the objects listed so far know them, by type otherwise; else
 * its STIX id.
 */
function labelOf(o: Named, byStixId: ReadonlyMap<string, Named>): string {
  if (o.name) return o.name;
  const end = (ref: string) => byStixId.get(ref)?.name ?? ref.split('--')[0]!;
  if (o.type === 'sighting' && o.sourceRef) return `sighting of ${end(o.sourceRef)}`;
  if (o.sourceRef && o.targetRef) return `${end(o.sourceRef)} → ${end(o.targetRef)}`;
  return o.stixId;
}

/**
 * The case's intelligence objects the viewer may see, oldest first, a page at a time, filtered by
 * STIX type; one opens in a drawer with its relationships and the object as received.
 */
export function Intelligence({ caseId, pageSize = 50 }: { caseId: string; pageSize?: number }) {
  const [type, setType] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const list = useInfiniteQuery({
    queryKey: ['intelligence', caseId, type, pageSize],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api<IntelPage>(`/cases/${caseId}/intelligence`, {
        query: { type, limit: pageSize, cursor: pageParam },
      }),
    getNextPageParam: (last) => last.nextCursor,
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const byStixId = new Map(items.map((o) => [o.stixId, o]));
  // Custom (x-…) types are offered once seen; the chosen one stays offered.
  const types = [...new Set([...STIX_TYPES, ...items.map((o) => o.type), ...(type ? [type] : [])])].sort();
  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Title order={2} size="h4">
          Intelligence objects
        </Title>
        <Select
          label="Type of object"
          placeholder="All types"
          data={types}
          value={type}
          onChange={setType}
          clearable
          searchable
          w={240}
        />
      </Group>
      <TaxiiCollectionHint caseId={caseId} />
      <Problem error={list.error} />
      {list.isPending ? (
        <Loading />
      ) : (
        <Table striped data-testid="intelligence" fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Type</Table.Th>
              <Table.Th>Name</Table.Th>
              <Table.Th>TLP</Table.Th>
              <Table.Th>Modified</Table.Th>
              <Table.Th>From</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((o) => (
              <Table.Tr key={o.id}>
                <Table.Td>{o.type}</Table.Td>
                <Table.Td className="wrap-anywhere" maw={420}>
                  <Anchor component="button" ta="left" onClick={() => setOpen(o.id)}>
                    {labelOf(o, byStixId)}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <TlpBadge tlp={o.tlp} />
                </Table.Td>
                <Table.Td style={{ whiteSpace: 'nowrap' }}>{fmtTime(o.modified)}</Table.Td>
                <Table.Td>{o.originParty}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {list.data && items.length === 0 ? (
        <Text c="dimmed">
          {type
            ? `No intelligence object of type ${type} you may see.`
            : 'No intelligence object you may see.'}
        </Text>
      ) : null}
      {list.hasNextPage ? (
        <Button
          variant="default"
          onClick={() => void list.fetchNextPage()}
          loading={list.isFetchingNextPage}
          w="fit-content"
        >
          More
        </Button>
      ) : null}
      <Drawer
        opened={open !== null}
        onClose={() => setOpen(null)}
        title="Intelligence object"
        position="right"
        size="xl"
      >
        {open ? <IntelDetail caseId={caseId} id={open} known={items} onOpen={setOpen} /> : null}
      </Drawer>
    </Stack>
  );
}

/** One object: what Vytis knows of it, its relationships either way, and the object as received. */
function IntelDetail({
  caseId,
  id,
  known,
  onOpen,
}: {
  caseId: string;
  id: string;
  /** The objects listed so far: an other end among them opens in its turn. */
  known: IntelObject[];
  onOpen: (id: string) => void;
}) {
  const detail = useQuery({
    queryKey: ['intelligence-object', caseId, id],
    queryFn: () => api<IntelObjectDetail>(`/cases/${caseId}/intelligence/${id}`),
  });
  if (detail.isPending) return <Loading />;
  if (detail.error) return <Problem error={detail.error} />;
  const { item, object, relationships } = detail.data;
  const byStixId = new Map(known.map((o) => [o.stixId, o]));
  return (
    <Stack data-testid="intel-detail">
      <div>
        <Text size="sm" c="dimmed">
          {item.type}
        </Text>
        <Title order={3} size="h4" className="wrap-anywhere">
          {labelOf(item, byStixId)}
        </Title>
        <Group gap="xs" mt={4}>
          <TlpBadge tlp={item.tlp} />
          <Text size="sm">
            from {item.originParty} (imported by {item.createdBy}, {fmtTime(item.createdAt)}) · modified{' '}
            {fmtTime(item.modified)}
          </Text>
        </Group>
        <Text size="xs" ff="monospace" className="wrap-anywhere" mt={4}>
          {item.stixId}
        </Text>
      </div>
      <Title order={4} size="h5">
        Relationships ({relationships.length})
      </Title>
      {relationships.length ? (
        <Table data-testid="intel-relationships" fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Direction</Table.Th>
              <Table.Th>Relationship</Table.Th>
              <Table.Th>Other end</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {relationships.map((r) => {
              const other = byStixId.get(r.other.stixId);
              const otherLabel = `${r.other.type ?? 'object'}: ${r.other.name ?? r.other.stixId}`;
              return (
                <Table.Tr key={r.relationship.id}>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>
                    {r.direction === 'out' ? 'this → other' : 'other → this'}
                  </Table.Td>
                  <Table.Td>
                    <Anchor component="button" ta="left" onClick={() => onOpen(r.relationship.id)}>
                      <RelationshipKind caseId={caseId} relationship={r.relationship} />
                    </Anchor>
                  </Table.Td>
                  <Table.Td className="wrap-anywhere">
                    {other ? (
                      <Anchor component="button" ta="left" onClick={() => onOpen(other.id)}>
                        {otherLabel}
                      </Anchor>
                    ) : (
                      otherLabel
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      ) : (
        <Text c="dimmed" size="sm">
          None you may see.
        </Text>
      )}
      <Title order={4} size="h5" id="intel-raw-title">
        As received
      </Title>
      {/* Text, never markup: React escapes it. Focusable, so the keyboard scrolls it. */}
      <Code
        block
        role="region"
        aria-labelledby="intel-raw-title"
        tabIndex={0}
        mah={480}
        style={{ overflow: 'auto' }}
        data-testid="intel-raw"
      >
        {JSON.stringify(object, null, 2)}
      </Code>
    </Stack>
  );
}

/**
 * What kind of link a relationship is: its `relationship_type` (a sighting says so), as the detail
 * lists it; from the relationship as received only where the node does not list it. A
 * relationship's own name wins.
 */
function RelationshipKind({ caseId, relationship }: { caseId: string; relationship: IntelObject }) {
  const listed: string | null | undefined = relationship.relationshipType;
  const detail = useQuery({
    queryKey: ['intelligence-object', caseId, relationship.id],
    queryFn: () => api<IntelObjectDetail>(`/cases/${caseId}/intelligence/${relationship.id}`),
    enabled: relationship.type === 'relationship' && !relationship.name && listed === undefined,
  });
  if (relationship.name) return <>{relationship.name}</>;
  if (relationship.type !== 'relationship') return <>{relationship.type}</>;
  const kind =
    listed !== undefined
      ? listed
      : (detail.data?.object as Record<string, unknown> | undefined)?.relationship_type;
  return <>{typeof kind === 'string' ? kind : 'relationship'}</>;
}
