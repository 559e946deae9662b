// The STIX 2.1 side of a case: the case as a bundle to download, a bundle to import (with the
// upload's progress and every object the node refused), and the intelligence objects that bundles
// brought in, each with its relationships and the object exactly as received.
import { Anchor, Button, Code, Drawer, Group, Select, Stack, Table, Text, Title } from '@mantine/core';
import type { Case, IntelObject, StixImportResult } from '@vytis/contracts';
import { useState } from 'react';
import { caseKeys } from '../api/cases.ts';
import { stixKeys, useIntelligence, useIntelObject } from '../api/stix.ts';
import { TlpBadge } from '../components/badges.tsx';
import { CaseExport } from '../components/CaseExport.tsx';
import { FileImport } from '../components/FileImport.tsx';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';
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

/** "Download STIX": the case as a bundle of what the viewer may pass on. */
export function StixDownload({ kase }: { kase: Case }) {
  return (
    <CaseExport
      kase={kase}
      format="stix"
      extension="stix.json"
      label="Download STIX"
      heldLabel="No STIX export"
    />
  );
}

/** Splits the node's `<stix id>: <reason>` (the id is absent when the object had none). */
export function refusedObject(message: string): { id: string; reason: string } {
  const match = /^([a-z0-9-]+--[^\s:]+): ([\s\S]*)$/.exec(message);
  return match ? { id: match[1]!, reason: match[2]! } : { id: '', reason: message };
}

/**
 * "Import STIX bundle": a .json file into the case. Without "keep the good objects" one bad object
 * refuses the whole bundle (nothing is written); either way the refused objects are listed by
 * their index in the bundle's `objects` and their STIX id.
 */
export function StixImport({ caseId }: { caseId: string }) {
  return (
    <FileImport<StixImportResult>
      name="stix"
      title="Import STIX bundle"
      url={`/api/v1/cases/${caseId}/stix`}
      contentType={STIX_MEDIA_TYPE}
      fileLabel="STIX 2.1 bundle (.json)"
      accept=".json,application/json,application/stix+json"
      tlpLabel="TLP of unmarked objects"
      partialLabel="Keep the good objects even if some are refused"
      buttonLabel="Import bundle"
      progressLabel="STIX import progress"
      storing="Uploaded; the node is checking and storing the objects…"
      invalidates={[caseKeys.case(caseId), caseKeys.observables(caseId), stixKeys.intelligence(caseId)]}
      renderResult={(result) => (
        <>
          {result.objects} objects: {result.imported} observables added, {result.duplicates} already held;
          intelligence {result.intelligence.added} added, {result.intelligence.updated} updated,{' '}
          {result.intelligence.unchanged} unchanged, {result.intelligence.older} older ignored;{' '}
          {result.rejected} refused
        </>
      )}
      refusedCaption="Refused objects"
      refusedColumns={[{ header: 'Index' }, { header: 'STIX id', code: true }, { header: 'Reason' }]}
      refusedCells={(r) => {
        const { id, reason } = refusedObject(r.message);
        return [String(r.line), id || '—', reason];
      }}
    />
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
  const list = useIntelligence(caseId, type, pageSize);
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
                <Table.Td style={{ whiteSpace: 'nowrap' }}>
                  <Time at={o.modified} />
                </Table.Td>
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
  const detail = useIntelObject(caseId, id);
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
            from {item.originParty} (imported by {item.createdBy}, <Time at={item.createdAt} />) · modified{' '}
            <Time at={item.modified} />
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
  const detail = useIntelObject(
    caseId,
    relationship.id,
    relationship.type === 'relationship' && !relationship.name && listed === undefined,
  );
  if (relationship.name) return <>{relationship.name}</>;
  if (relationship.type !== 'relationship') return <>{relationship.type}</>;
  const kind =
    listed !== undefined
      ? listed
      : (detail.data?.object as Record<string, unknown> | undefined)?.relationship_type;
  return <>{typeof kind === 'string' ? kind : 'relationship'}</>;
}
