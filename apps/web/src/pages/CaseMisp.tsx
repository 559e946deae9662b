// The MISP side of a case: the case as a MISP event to download, an event file to import (with the
// upload's progress and every attribute or object the node refused, by its path in the file), and
// the MISP events the case holds, with their tags and galaxy clusters.
import { Badge, Group, Paper, Stack, Text, Title, UnstyledButton } from '@mantine/core';
import type { Case, MispEventSummary, MispImportResult } from '@vytis/contracts';
import { useId, useState } from 'react';
import { mispEventsKey, useMispEvents } from '../api/misp.ts';
import { PapBadge, TlpBadge } from '../components/badges.tsx';
import { CaseExport } from '../components/CaseExport.tsx';
import { FileImport } from '../components/FileImport.tsx';
import { fmtTime } from '../components/format.ts';
import { Markdown } from '../components/Markdown.tsx';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';

/** "Download MISP event": the case as one MISP event of what the viewer may pass on. */
export function MispDownload({ kase }: { kase: Case }) {
  return (
    <CaseExport
      kase={kase}
      format="misp"
      extension="misp.json"
      label="Download MISP event"
      heldLabel="No MISP export"
    />
  );
}

/** Splits the node's `<path>: <reason>` (`Event.Attribute[3]: …`); a message naming no path is kept whole. */
export function refusedElement(message: string): { path: string; reason: string } {
  const match = /^((?:\[\d+\])?Event[^\s:]*): ([\s\S]*)$/.exec(message);
  return match ? { path: match[1]!, reason: match[2]! } : { path: '', reason: message };
}

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
  return (
    <FileImport<MispImportResult>
      name="misp"
      title="Import MISP event"
      url={`/api/v1/cases/${caseId}/misp`}
      contentType="application/json"
      fileLabel="MISP event file (.json)"
      accept=".json,application/json"
      tlpLabel="TLP of unmarked events"
      partialLabel="Keep the good attributes and objects even if some are refused"
      buttonLabel="Import MISP event"
      progressLabel="MISP import progress"
      storing="Uploaded; the node is checking and storing the attributes and objects…"
      invalidates={[['case', caseId], ['observables', caseId], mispEventsKey(caseId)]}
      renderResult={summaryOf}
      refusedCaption="Refused attributes and objects"
      refusedColumns={[{ header: 'In the file', code: true }, { header: 'Reason' }]}
      refusedCells={(r) => {
        const { path, reason } = refusedElement(r.message);
        return [path || '—', reason];
      }}
    />
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
          <Time at={event.createdAt} />
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
          bg="var(--mantine-color-default-hover)"
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
