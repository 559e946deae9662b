import { Anchor, Button, Group, MultiSelect, Select, Stack, Table, Text, Title } from '@mantine/core';
import { REQUEST_STATUSES, type RequestSummary, SEVERITIES } from '@vytis/contracts';
import { Link, useSearchParams } from 'react-router';
import { useParties } from '../api/queries.ts';
import { useRequestBoard } from '../api/requests.ts';
import { useMe } from '../auth.tsx';
import { ExerciseBadge, SeverityBadge, StatusBadge, TlpBadge } from '../components/badges.tsx';
import { CopyTag } from '../components/CopyNotice.tsx';
import { Countdown } from '../components/Countdown.tsx';
import { humanize } from '../components/format.ts';
import { LoadMore } from '../components/LoadMore.tsx';
import { Loading, Problem } from '../components/Problem.tsx';

export function RequestsPage() {
  const [params, setParams] = useSearchParams();
  const me = useMe();
  const parties = useParties();
  const status = params.getAll('status');
  const party = params.get('party');
  const severity = params.get('severity');
  const exercise = params.get('exercise');

  const set = (key: string, value: string | string[] | null) => {
    const next = new URLSearchParams(params);
    next.delete(key);
    if (Array.isArray(value)) for (const v of value) next.append(key, v);
    else if (value) next.set(key, value);
    setParams(next, { replace: true });
  };

  const list = useRequestBoard({ status, party, severity, exercise });
  const items: RequestSummary[] = list.data?.pages.flatMap((p) => p.items) ?? [];
  const total = list.data?.pages[0]?.total;

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Requests
        </Title>
        {me.can.fileRequest ? (
          <Button component={Link} to="/requests/new">
            New request
          </Button>
        ) : null}
      </Group>
      <Group align="flex-end" gap="sm" role="search" aria-label="Filter requests">
        <MultiSelect
          label="Status"
          placeholder={status.length ? undefined : 'any'}
          data={REQUEST_STATUSES.map((s) => ({ value: s, label: humanize(s) }))}
          value={status}
          onChange={(v) => set('status', v)}
          clearable
          w={280}
        />
        <Select
          label="Party"
          placeholder="any"
          data={(parties.data?.items ?? []).map((p) => ({ value: p.code, label: `${p.code} — ${p.name}` }))}
          value={party}
          onChange={(v) => set('party', v)}
          clearable
          searchable
          w={200}
        />
        <Select
          label="Severity"
          placeholder="any"
          data={SEVERITIES.map((s) => ({ value: s, label: s }))}
          value={severity}
          onChange={(v) => set('severity', v)}
          clearable
          w={140}
        />
        <Select
          label="Kind"
          placeholder="real and exercises"
          data={[
            { value: 'false', label: 'Real only' },
            { value: 'true', label: 'Exercises only' },
          ]}
          value={exercise}
          onChange={(v) => set('exercise', v)}
          clearable
          w={180}
        />
      </Group>
      <Problem error={list.error} />
      {list.isPending ? (
        <Loading />
      ) : (
        <>
          <Text size="sm" c="dimmed" aria-live="polite">
            {total} request{total === 1 ? '' : 's'}, highest priority first
          </Text>
          <Table striped highlightOnHover data-testid="requests-board">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Priority</Table.Th>
                <Table.Th>Title</Table.Th>
                <Table.Th>Party</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Severity</Table.Th>
                <Table.Th>TLP</Table.Th>
                <Table.Th>Next clock</Table.Th>
                <Table.Th>For you</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td fw={700}>{r.priority}</Table.Td>
                  <Table.Td className="wrap-anywhere" maw={420}>
                    <Anchor component={Link} to={`/requests/${r.id}`}>
                      {r.title}
                    </Anchor>{' '}
                    <ExerciseBadge exercise={r.exercise} /> <CopyTag origin={r.mirroredFrom} />
                  </Table.Td>
                  <Table.Td>{r.party}</Table.Td>
                  <Table.Td>
                    <StatusBadge status={r.status} />
                  </Table.Td>
                  <Table.Td>
                    <SeverityBadge severity={r.severity} />
                  </Table.Td>
                  <Table.Td>
                    <TlpBadge tlp={r.tlp} />
                  </Table.Td>
                  <Table.Td>
                    {r.nextDeadline ? (
                      <>
                        {humanize(r.nextDeadline.kind)}: <Countdown dueAt={r.nextDeadline.dueAt} />
                      </>
                    ) : (
                      '—'
                    )}
                  </Table.Td>
                  <Table.Td>{forYou(r)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <LoadMore list={list} label="Show more" />
        </>
      )}
    </Stack>
  );
}

/** What the row waits on from the viewer, as the server offers it (`can`). */
function forYou(r: RequestSummary): string {
  const waiting = [r.can.vote && 'your vote', r.can.submit && 'submit', r.can.withdraw && 'may withdraw']
    .filter(Boolean)
    .join(', ');
  return waiting || '—';
}
