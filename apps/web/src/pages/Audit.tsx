import {
  Alert,
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import type { AuditEvent } from '@vytis/contracts';
import { useState } from 'react';
import { Link } from 'react-router';
import {
  type AuditFilters,
  auditExportUrl,
  useAuditActions,
  useAuditLog,
  useAuditVerify,
  useCheckpoints,
} from '../api/audit.ts';
import { localInputToIso, viewerZone } from '../components/format.ts';
import { LoadMore } from '../components/LoadMore.tsx';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';

/** Where an event's object opens in the app, when it is one a person opens. */
function objectHref(object: AuditEvent['object']): string | null {
  if (!object.id) return null;
  switch (object.type) {
    case 'request':
      return `/requests/${object.id}`;
    case 'case':
      return `/cases/${object.id}`;
    case 'deployment':
      return `/deployments/${object.id}`;
    case 'user':
      return '/users';
    case 'responder':
    case 'rotation':
      return '/roster';
    default:
      return null;
  }
}

function Verification() {
  const verify = useAuditVerify();
  const checkpoints = useCheckpoints();
  const v = verify.data;
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Title order={2} size="h4">
          Integrity of the log
        </Title>
        <Button
          variant="default"
          onClick={() => {
            void verify.refetch();
            void checkpoints.refetch();
          }}
          loading={verify.isFetching}
        >
          Verify the chain again
        </Button>
      </Group>
      {v ? (
        <Alert
          color={v.ok ? 'teal' : 'red'}
          title={v.ok ? 'The chain verifies' : 'The chain does NOT verify'}
          data-testid="audit-verify"
          role="status"
        >
          {v.ok
            ? `All ${v.events} events link to one another by their hashes, and all ${v.checkpoints} signed checkpoints hold`
            : `${v.events} events, ${v.checkpoints} signed checkpoints. ${
                v.firstBadSeq === null ? v.reason : `First bad event: #${v.firstBadSeq} — ${v.reason}`
              }`}
          {v.ok && v.externalCheckpoints > 0
            ? `, as do ${v.externalCheckpoints} checkpoints kept outside the database`
            : ''}
          {v.ok ? '.' : ''}
          {v.newestCheckpointAt ? (
            <Text size="sm">
              Newest checkpoint signed <Time at={v.newestCheckpointAt} />
              {v.tree ? `; Merkle tree over ${v.tree.size} events matches the chain` : ''}.
            </Text>
          ) : (
            <Text size="sm">No checkpoint signed yet.</Text>
          )}
          {v.cosignatures.map((c) => (
            <Text size="sm" key={c.witness}>
              Witness {c.witness} cosigned {c.count} checkpoint(s), the newest over {c.newestSize} events.
            </Text>
          ))}
          {v.problems.slice(1).map((p) => (
            <Text key={`${p.code}:${p.message}`} size="sm">
              Also: {p.message}
            </Text>
          ))}
        </Alert>
      ) : (
        <Problem error={verify.error} title="Verification failed to run" />
      )}
      <Table.ScrollContainer minWidth={640}>
        <Table data-testid="audit-checkpoints" fz="sm">
          <Table.Caption>The latest signed checkpoints</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Signed</Table.Th>
              <Table.Th>Events</Table.Th>
              <Table.Th>Head</Table.Th>
              <Table.Th>Signature</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(checkpoints.data?.items ?? []).map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>
                  <Time at={c.signedAt} />
                </Table.Td>
                <Table.Td>{c.size}</Table.Td>
                <Table.Td>
                  <Code title={c.head}>{c.head.slice(0, 12)}…</Code>
                </Table.Td>
                <Table.Td>
                  {c.signatureStatus === 'valid' ? (
                    <Badge color="teal.9">valid</Badge>
                  ) : c.signatureStatus === 'invalid' ? (
                    <Badge color="red">invalid</Badge>
                  ) : (
                    <Badge color="gray.8">another key</Badge>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

export function AuditPage() {
  const [action, setAction] = useState<string | null>(null);
  const [actor, setActor] = useState('');
  const [objectId, setObjectId] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const filters: AuditFilters = {
    action: action ?? undefined,
    actor: actor.trim() || undefined,
    objectId: objectId.trim() || undefined,
    since: localInputToIso(since),
    until: localInputToIso(until),
  };
  const actions = useAuditActions();
  const log = useAuditLog(filters);
  const items = log.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Stack>
      <Title order={1} size="h2">
        Audit log
      </Title>
      <Verification />
      <Title order={2} size="h4">
        Events
      </Title>
      <Group align="flex-end">
        <Select
          label="Action"
          placeholder="any action"
          data={(actions.data?.items ?? []).map((a) => ({
            value: a.action,
            label: `${a.action} (${a.count})`,
          }))}
          value={action}
          onChange={setAction}
          searchable
          clearable
          w={280}
        />
        <TextInput label="Actor name" value={actor} onChange={(e) => setActor(e.currentTarget.value)} />
        <TextInput label="Object id" value={objectId} onChange={(e) => setObjectId(e.currentTarget.value)} />
        <TextInput
          type="datetime-local"
          label={`From (${viewerZone()})`}
          value={since}
          onChange={(e) => setSince(e.currentTarget.value)}
        />
        <TextInput
          type="datetime-local"
          label={`Until (${viewerZone()})`}
          value={until}
          onChange={(e) => setUntil(e.currentTarget.value)}
        />
      </Group>
      <Group>
        <Text size="sm">Export what the filters select (oldest first, at most 10 000 events):</Text>
        <Anchor href={auditExportUrl('csv', filters)} download data-testid="audit-export-csv">
          CSV
        </Anchor>
        <Anchor href={auditExportUrl('ndjson', filters)} download data-testid="audit-export-ndjson">
          NDJSON
        </Anchor>
      </Group>
      <Problem error={log.error ?? actions.error} />
      {log.isPending ? (
        <Loading />
      ) : (
        <Table.ScrollContainer minWidth={760}>
          <Table striped data-testid="audit-log" fz="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>#</Table.Th>
                <Table.Th>When</Table.Th>
                <Table.Th>What happened</Table.Th>
                <Table.Th>Action</Table.Th>
                <Table.Th>Object</Table.Th>
                <Table.Th>Hash</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((e) => {
                const href = objectHref(e.object);
                return (
                  <Table.Tr key={e.seq}>
                    <Table.Td>{e.seq}</Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      <Time at={e.at} />
                    </Table.Td>
                    <Table.Td className="wrap-anywhere" maw={480}>
                      <Text size="sm">{e.text}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Code>{e.action}</Code>
                    </Table.Td>
                    <Table.Td className="wrap-anywhere">
                      {href ? (
                        <Anchor component={Link} to={href} size="sm">
                          {e.object.type} {e.object.id?.slice(0, 8)}
                        </Anchor>
                      ) : (
                        <>
                          {e.object.type}
                          {e.object.id ? ` ${e.object.id.slice(0, 8)}` : ''}
                        </>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Code title={e.hash}>{e.hash.slice(0, 10)}…</Code>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <LoadMore list={log} label="Older events" />
      {items.length === 0 && !log.isPending ? <Text>No events match.</Text> : null}
    </Stack>
  );
}
