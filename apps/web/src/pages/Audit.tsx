import { Alert, Button, Code, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api/client.ts';
import { fmtTime } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';

interface AuditEvent {
  seq: number;
  at: string;
  actor: { type: string; id: string | null; name: string; party: string | null };
  action: string;
  object: { type: string; id: string | null };
  summary: unknown;
  requestId: string | null;
  prevHash: string;
  hash: string;
}
interface Verify {
  ok: boolean;
  events: number;
  checkpoints: number;
  firstBadSeq: number | null;
  reason: string | null;
  problems: { code: string; seq: number | null; message: string }[];
}

export function AuditPage() {
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const verify = useQuery({
    queryKey: ['audit', 'verify'],
    queryFn: () => api<Verify>('/audit/verify'),
    staleTime: 0,
  });
  const log = useInfiniteQuery({
    queryKey: ['audit', 'log', action, actor],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api<{ items: AuditEvent[]; nextCursor: string | null }>('/audit', {
        query: {
          order: 'desc',
          limit: 100,
          cursor: pageParam,
          action: action.trim() || undefined,
          actor: actor.trim() || undefined,
        },
      }),
    getNextPageParam: (last) => last.nextCursor,
  });
  const items = log.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Audit log
        </Title>
        <Button variant="default" onClick={() => void verify.refetch()} loading={verify.isFetching}>
          Verify the chain again
        </Button>
      </Group>
      {verify.data ? (
        <Alert
          color={verify.data.ok ? 'teal' : 'red'}
          title={verify.data.ok ? 'The chain verifies' : 'The chain does NOT verify'}
          data-testid="audit-verify"
          role="status"
        >
          {verify.data.events} events, {verify.data.checkpoints} signed checkpoints
          {verify.data.ok
            ? ': every hash links, every checkpoint signature holds.'
            : verify.data.firstBadSeq === null
              ? `. ${verify.data.reason}`
              : `. First bad event: #${verify.data.firstBadSeq} — ${verify.data.reason}`}
          {verify.data.problems.length > 1 ? (
            <Stack gap={2} mt="xs">
              {verify.data.problems.slice(1).map((p) => (
                <Text key={`${p.code}:${p.message}`} size="sm">
                  Also: {p.message}
                </Text>
              ))}
            </Stack>
          ) : null}
        </Alert>
      ) : (
        <Problem error={verify.error} title="Verification failed to run" />
      )}
      <Group align="flex-end">
        <TextInput
          label="Action"
          placeholder="e.g. request.vote"
          value={action}
          onChange={(e) => setAction(e.currentTarget.value)}
        />
        <TextInput label="Actor name" value={actor} onChange={(e) => setActor(e.currentTarget.value)} />
      </Group>
      <Problem error={log.error} />
      {log.isPending ? (
        <Loading />
      ) : (
        <Table striped data-testid="audit-log" fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>#</Table.Th>
              <Table.Th>When</Table.Th>
              <Table.Th>Actor</Table.Th>
              <Table.Th>Action</Table.Th>
              <Table.Th>Object</Table.Th>
              <Table.Th>Summary</Table.Th>
              <Table.Th>Hash</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((e) => (
              <Table.Tr key={e.seq}>
                <Table.Td>{e.seq}</Table.Td>
                <Table.Td style={{ whiteSpace: 'nowrap' }}>{fmtTime(e.at)}</Table.Td>
                <Table.Td>
                  {e.actor.name}
                  {e.actor.party ? ` (${e.actor.party})` : ''}
                </Table.Td>
                <Table.Td>
                  <Code>{e.action}</Code>
                </Table.Td>
                <Table.Td className="wrap-anywhere">
                  {e.object.type}
                  {e.object.id ? ` ${e.object.id.slice(0, 8)}` : ''}
                </Table.Td>
                <Table.Td className="wrap-anywhere" maw={380}>
                  <Text size="xs" ff="monospace" lineClamp={3}>
                    {JSON.stringify(e.summary)}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Code title={e.hash}>{e.hash.slice(0, 10)}…</Code>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {log.hasNextPage ? (
        <Button
          variant="default"
          w="fit-content"
          onClick={() => void log.fetchNextPage()}
          loading={log.isFetchingNextPage}
        >
          Older events
        </Button>
      ) : null}
      {items.length === 0 && !log.isPending ? <Text c="dimmed">No events match.</Text> : null}
    </Stack>
  );
}
