// The MISP side of a case: the case as a MISP event to download, an event file to import (with the
// upload's progress and every attribute or object the node refused, by its path in the file), and
// the MISP events the case holds, with their tags and galaxy clusters.
import {
  Alert,
  Badge,
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
  UnstyledButton,
} from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { type Case, type MispEventSummary, type MispImportResult, TLPS } from '@vytis/contracts';
import { useId, useState } from 'react';
import { ApiError } from '../api/client.ts';
import { mispEventsKey, sendMispFile, useMispEvents } from '../api/misp.ts';
import { useMe } from '../auth.tsx';
import { PapBadge, TlpBadge } from '../components/badges.tsx';
import { fmtTime } from '../components/format.ts';
import { Markdown } from '../components/Markdown.tsx';
import { Loading, Problem } from '../components/Problem.tsx';

const tlpOptions = TLPS.map((t) => ({ value: t, label: `TLP:${t.toUpperCase()}` }));

/** The event's address: an exercise case is exported only when asked for (`exercise=include`). */
export const mispEventHref = (c: Pick<Case, 'id' | 'exercise'>) =>
  `/api/v1/cases/${c.id}/misp${c.exercise ? '?exercise=include' : ''}`;

/**
 * "Download MISP event": the case as one MISP event of what the viewer may pass on. The node
 * refuses RED, and another party's AMBER+STRICT, with a 403; the link is not offered then, the
 * reason is said instead.
 */
export function MispDownload({ kase }: { kase: Case }) {
  const me = useMe();
  const held =
    kase.tlp === 'red'
      ? 'TLP:RED is never passed on'
      : kase.tlp === 'amber+strict' && kase.ownerParty !== me.party
        ? `TLP:AMBER+STRICT is passed on only by ${kase.ownerParty}`
        : null;
  if (held) {
    return (
      <Text size="xs" c="dimmed" data-testid="misp-download-held">
        No MISP export: {held}
      </Text>
    );
  }
  return (
    <Button
      component="a"
      href={mispEventHref(kase)}
      download={`case-${kase.id}${kase.exercise ? '-exercise' : ''}.misp.json`}
      size="xs"
      variant="default"
    >
      Download MISP event
    </Button>
  );
}

/** One attribute or object the node refused: its place in the file (`Event.Attribute[3]`), and why. */
export interface RefusedElement {
  path: string;
  reason: string;
}

/** Splits the node's `<path>: <reason>`; a message naming no path is kept whole. */
export function refusedElement(message: string): RefusedElement {
  const match = /^((?:\[\d+\])?Event[^\s:]*): ([\s\S]*)$/.exec(message);
  return match ? { path: match[1]!, reason: match[2]! } : { path: '', reason: message };
}

/** The refused elements of a 400 (nothing imported): each detail names `body/objects/N`. */
function refusedOf(error: unknown): RefusedElement[] {
  if (!(error instanceof ApiError) || error.status !== 400) return [];
  return error.details.filter((d) => /objects\/\d+$/.test(d.field)).map((d) => refusedElement(d.message));
}

type Upload = { progress: number } | { result: MispImportResult } | { error: unknown };

/** What an import did, said in a line. */
const summaryOf = (r: MispImportResult) =>
  `${r.events.read} event(s) read: ${r.events.added} added, ${r.events.updated} updated, ${r.events.unchanged} unchanged; ` +
  `attributes and objects ${r.elements.added} added, ${r.elements.updated} updated, ${r.elements.unchanged} unchanged; ` +
  `${r.imported} observables added, ${r.duplicates} already held; ${r.rejected} refused`;

/**
 * "Import MISP event": a MISP event file (`{"Event": …}`, a REST answer or a list of events) into
 * the case. Without "keep the good ones" one bad attribute or object refuses the whole file
 * (nothing is written); either way the refused ones are listed by their path in the file.
 */
export function MispImport({ caseId }: { caseId: string }) {
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
    sendMispFile(`/api/v1/cases/${caseId}/misp?${query}`, file, (progress) => setUpload({ progress })).then(
      (result) => {
        setUpload({ result });
        void queryClient.invalidateQueries({ queryKey: ['case', caseId] });
        void queryClient.invalidateQueries({ queryKey: ['observables', caseId] });
        void queryClient.invalidateQueries({ queryKey: mispEventsKey(caseId) });
      },
      (error: unknown) => setUpload({ error }),
    );
  };

  const result = upload && 'result' in upload ? upload.result : null;
  const error = upload && 'error' in upload ? upload.error : null;
  const refused = result ? result.problems.map((p) => refusedElement(p.message)) : refusedOf(error);
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Import MISP event
      </Title>
      <Stack>
        <Group align="flex-end" wrap="wrap">
          <div>
            <Text size="sm" fw={500} component="label" htmlFor="misp-file">
              MISP event file (.json)
            </Text>
            <input
              id="misp-file"
              type="file"
              accept=".json,application/json"
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
              style={{ display: 'block', marginTop: 4 }}
            />
          </div>
          <Select
            label="TLP of unmarked events"
            placeholder="the case's"
            data={tlpOptions}
            value={tlp}
            onChange={setTlp}
            clearable
            w={320}
          />
          <Checkbox
            mb={8}
            label="Keep the good attributes and objects even if some are refused"
            checked={partial}
            onChange={(e) => setPartial(e.currentTarget.checked)}
          />
          <Button onClick={start} disabled={!file || sending}>
            Import MISP event
          </Button>
        </Group>
        {upload && 'progress' in upload ? (
          <div>
            <Text size="sm">
              {upload.progress < 100
                ? `Uploading… ${upload.progress}%`
                : 'Uploaded; the node is checking and storing the attributes and objects…'}
            </Text>
            <Progress
              value={upload.progress}
              animated={upload.progress === 100}
              aria-label="MISP import progress"
            />
          </div>
        ) : null}
        {result ? (
          <Text role="status" data-testid="misp-result">
            {summaryOf(result)}
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

function RefusedTable({ refused, total }: { refused: RefusedElement[]; total?: number | undefined }) {
  return (
    <div>
      <Text size="sm" fw={500} id="misp-refused-caption">
        Refused attributes and objects
        {total !== undefined && total > refused.length ? ` (the first ${refused.length} of ${total})` : ''}
      </Text>
      <Table data-testid="misp-refused" aria-labelledby="misp-refused-caption" fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>In the file</Table.Th>
            <Table.Th>Reason</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {refused.map((r, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the list is fixed once shown; paths may repeat across events
            <Table.Tr key={`${i}:${r.path}`}>
              <Table.Td className="wrap-anywhere" ff="monospace">
                {r.path || '—'}
              </Table.Td>
              <Table.Td className="wrap-anywhere">{r.reason}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </div>
  );
}

/** The import (for those who work the case) and the case's MISP events: the case page's MISP tab. */
export function CaseMisp({ caseId, works }: { caseId: string; works: boolean }) {
  return (
    <Stack>
      {works ? <MispImport caseId={caseId} /> : null}
      <MispEvents caseId={caseId} />
    </Stack>
  );
}

/** The MISP events of the case the viewer may see, newest import last as the node lists them. */
export function MispEvents({ caseId }: { caseId: string }) {
  const events = useMispEvents(caseId);
  return (
    <Stack>
      <Title order={2} size="h4">
        MISP events
      </Title>
      <Problem error={events.error} />
      {events.isPending ? <Loading label="Reading the case's MISP events" /> : null}
      {events.data && events.data.length === 0 ? <Text c="dimmed">No MISP event you may see.</Text> : null}
      {events.data?.map((e) => (
        <MispEventCard key={e.id} event={e} />
      ))}
    </Stack>
  );
}

/** A tag as MISP names it: `tlp:…` and `PAP:…` as the labels they are, others with their colour. */
function MispTag({ name, colour }: { name: string; colour: string | null }) {
  const tlp = /^tlp:(.+)$/i.exec(name)?.[1];
  if (tlp) return <TlpBadge tlp={tlp.toLowerCase()} />;
  const pap = /^pap:(.+)$/i.exec(name)?.[1];
  if (pap) return <PapBadge pap={pap.toLowerCase()} />;
  // The dot carries the tag's colour; the text stays in the page's, whatever colour MISP chose.
  return (
    <Badge
      variant="dot"
      color={colour && /^#[0-9a-f]{3,8}$/i.test(colour) ? colour : 'gray'}
      tt="none"
      radius="sm"
      styles={{ root: { maxWidth: '100%', height: 'auto' }, label: { whiteSpace: 'normal' } }}
    >
      {name}
    </Badge>
  );
}

const THREAT_LEVEL_COLOURS: Record<string, string> = { high: 'red', medium: 'orange', low: 'yellow' };

function MispEventCard({ event }: { event: MispEventSummary }) {
  const headingId = useId();
  // A galaxy cluster's tag is shown as the cluster, not again among the tags.
  const clusterTags = new Set(event.galaxies.map((g) => g.tagName));
  // Once each: the same cluster may be the event's and an attribute's.
  const clusters = event.galaxies.filter(
    (g, i) => event.galaxies.findIndex((o) => o.tagName === g.tagName) === i,
  );
  const tags = event.tags.filter((t) => !clusterTags.has(t.name));
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={headingId} data-testid="misp-event">
      <Stack gap="xs">
        <Title order={3} size="h5" id={headingId} className="wrap-anywhere">
          {event.info}
        </Title>
        <Group gap="xs">
          <TlpBadge tlp={event.tlp} />
          {event.threatLevel ? (
            <Badge
              variant="light"
              color={THREAT_LEVEL_COLOURS[event.threatLevel] ?? 'gray'}
              tt="none"
              data-testid="misp-threat-level"
            >
              Threat level: {event.threatLevel}
            </Badge>
          ) : null}
          {event.analysis ? (
            <Badge variant="light" color="gray" tt="none" data-testid="misp-analysis">
              Analysis: {event.analysis}
            </Badge>
          ) : null}
        </Group>
        <Text size="sm" data-testid="misp-event-facts">
          {event.date ? `Dated ${event.date}` : 'Undated'}
          {event.orgc ? ` · created by ${event.orgc}` : ''} · {event.attributes} attribute(s), {event.objects}{' '}
          object(s) you may see · from {event.originParty}, imported by {event.createdBy}{' '}
          {fmtTime(event.createdAt)}
          {event.timestamp ? ` · last changed in MISP ${fmtTime(event.timestamp)}` : ''}
        </Text>
        <Text size="xs" ff="monospace" className="wrap-anywhere" c="dimmed">
          {event.uuid}
        </Text>
        {tags.length ? (
          <Group
            component="ul"
            gap={6}
            data-testid="misp-tags"
            aria-label="Tags"
            style={{ listStyle: 'none', margin: 0, padding: 0 }}
          >
            {tags.map((t) => (
              <li key={t.name}>
                <MispTag name={t.name} colour={t.colour} />
              </li>
            ))}
          </Group>
        ) : null}
        {clusters.length ? (
          <Stack gap={4} data-testid="misp-galaxies">
            <Text size="sm" fw={500}>
              Galaxy clusters
            </Text>
            {clusters.map((cluster) => (
              <GalaxyCluster key={cluster.tagName} cluster={cluster} />
            ))}
          </Stack>
        ) : null}
      </Stack>
    </Paper>
  );
}

/** "Galaxy: value", its description opened on demand (MISP's descriptions are Markdown, untrusted). */
function GalaxyCluster({ cluster }: { cluster: MispEventSummary['galaxies'][number] }) {
  const [open, setOpen] = useState(false);
  const descriptionId = useId();
  const label = (
    <>
      <strong>{cluster.galaxy}:</strong> {cluster.value}
    </>
  );
  return (
    <div data-testid="misp-cluster">
      {cluster.description ? (
        <UnstyledButton
          onClick={() => setOpen((o) => !o)}
          aria-expanded={open}
          aria-controls={open ? descriptionId : undefined}
          fz="sm"
          className="wrap-anywhere"
        >
          <span aria-hidden style={{ color: 'var(--mantine-color-dimmed)' }}>
            {open ? '▾ ' : '▸ '}
          </span>
          {label}
        </UnstyledButton>
      ) : (
        <Text size="sm" className="wrap-anywhere">
          {label}
        </Text>
      )}
      {open && cluster.description ? (
        <Paper
          id={descriptionId}
          bg="gray.0"
          p="xs"
          ml="md"
          mt={4}
          fz="sm"
          data-testid="misp-cluster-description"
        >
          <Markdown>{cluster.description}</Markdown>
          <Text size="xs" c="dimmed" ff="monospace" className="wrap-anywhere">
            {cluster.tagName}
          </Text>
        </Paper>
      ) : null}
    </div>
  );
}
