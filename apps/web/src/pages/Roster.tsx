import { Anchor, Badge, Button, Card, Group, Select, Stack, Table, Text, Title } from '@mantine/core';
import {
  type InfiniteData,
  useInfiniteQuery,
  useMutation,
  useQueries,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { type Responder, type Rotation, type ShiftList, SKILLS, type User } from '@vytis/contracts';
import { useState } from 'react';
import { api } from '../api/client.ts';
import { useParties } from '../api/queries.ts';
import { useAuth, useMe } from '../auth.tsx';
import { fmtDate, fmtTime, humanize, viewerZone } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';
import { CalendarSubscriptions } from './CalendarFeeds.tsx';

/** Monday 00:00 of this week in the viewer's zone, and the Monday after. */
function thisWeek(): { from: string; to: string } {
  const now = new Date();
  const monday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - ((now.getDay() + 6) % 7));
  const next = new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() + 7);
  return { from: monday.toISOString(), to: next.toISOString() };
}

type ResponderPage = { items: Responder[]; total: number; nextCursor: string | null };

export function RosterPage() {
  const me = useMe();
  const { has } = useAuth();
  const queryClient = useQueryClient();
  const parties = useParties();
  const [party, setParty] = useState<string | null>(null);
  const [skill, setSkill] = useState<string | null>(null);
  const responders = useInfiniteQuery({
    queryKey: ['responders', party, skill],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api<ResponderPage>('/responders', {
        query: { party, skill, limit: 100, cursor: pageParam },
      }),
    getNextPageParam: (last) => last.nextCursor,
  });
  const rotations = useQuery({
    queryKey: ['rotations'],
    queryFn: () => api<{ items: Rotation[] }>('/rotations'),
  });
  const week = thisWeek();
  const dutyParties = [...new Set([me.party, ...(rotations.data?.items ?? []).map((r) => r.party)])].sort();
  const duty = useQueries({
    queries: dutyParties.map((code) => ({
      queryKey: ['duty', code, week.from],
      queryFn: () => api<ShiftList>(`/parties/${code}/duty`, { query: week }),
      enabled: rotations.isSuccess,
    })),
  });
  const items = responders.data?.pages.flatMap((p) => p.items) ?? [];

  // A party's PoC (or an admin) links a responder of the party to the user who is that person, so
  // they find their deployments and open their own pass.
  const admin = has('admin');
  const keeps = (party: string) => admin || (has('poc') && me.party === party);
  const users = useQuery({
    queryKey: ['users', admin ? 'all' : me.party],
    queryFn: () =>
      api<{ items: User[]; nextCursor: string | null }>('/users', {
        query: { party: admin ? undefined : me.party, limit: 500 },
      }),
    enabled: has('poc', 'admin'),
    staleTime: 60_000,
  });
  const userById = new Map((users.data?.items ?? []).map((u) => [u.id, u]));
  const linkedTo = new Map(items.flatMap((r) => (r.userId ? [[r.userId, r] as const] : [])));
  const link = useMutation({
    mutationFn: ({ responder, userId }: { responder: Responder; userId: string | null }) =>
      api<Responder>(`/responders/${responder.id}`, {
        method: 'PATCH',
        body: { userId },
        ifMatch: responder.version,
      }),
    onSuccess: (updated) => {
      queryClient.setQueryData(['responder', updated.id], updated);
      queryClient.setQueriesData<InfiniteData<ResponderPage>>({ queryKey: ['responders'] }, (data) =>
        data
          ? {
              ...data,
              pages: data.pages.map((page) => ({
                ...page,
                items: page.items.map((r) => (r.id === updated.id ? updated : r)),
              })),
            }
          : data,
      );
    },
  });
  const userCell = (r: Responder) => {
    if (!keeps(r.party)) {
      return r.userId ? (
        <Badge variant="light" color="teal" size="sm">
          linked
        </Badge>
      ) : (
        <Text size="sm" c="dimmed">
          —
        </Text>
      );
    }
    const linked = r.userId ? userById.get(r.userId) : undefined;
    const options = (users.data?.items ?? [])
      .filter((u) => u.party === r.party && (!u.disabledAt || u.id === r.userId))
      .sort(
        (a, b) =>
          Number(b.roles.includes('responder')) - Number(a.roles.includes('responder')) ||
          a.name.localeCompare(b.name),
      )
      .map((u) => {
        const other = linkedTo.get(u.id);
        return {
          value: u.id,
          label: u.roles.includes('responder') ? u.name : `${u.name} (not a responder)`,
          disabled: Boolean(other && other.id !== r.id),
        };
      });
    return (
      <Stack gap={2}>
        <Select
          aria-label={`User of ${r.name}`}
          placeholder="not linked"
          data={options}
          value={r.userId}
          onChange={(userId) => {
            if (userId !== r.userId) link.mutate({ responder: r, userId });
          }}
          clearable
          searchable
          size="xs"
          w={180}
          disabled={link.isPending && link.variables?.responder.id === r.id}
          nothingFoundMessage={`No user of ${r.party}`}
        />
        {linked && !linked.roles.includes('responder') ? (
          <Text size="xs" c="orange.9">
            has no responder role: cannot open passes
          </Text>
        ) : null}
      </Stack>
    );
  };

  return (
    <Stack>
      <Title order={1} size="h2">
        Standby roster
      </Title>
      <Card withBorder>
        <Group justify="space-between" mb="xs">
          <Title order={2} size="h4">
            On duty this week
          </Title>
          <Text size="sm" c="dimmed">
            {fmtDate(week.from)} – {fmtDate(new Date(new Date(week.to).getTime() - 1).toISOString())}, in your
            zone ({viewerZone()})
          </Text>
        </Group>
        <Problem error={rotations.error} />
        <Table data-testid="duty">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Party</Table.Th>
              <Table.Th>Who, when</Table.Th>
              <Table.Th>Calendar</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {dutyParties.map((code, i) => {
              const shifts = duty[i]?.data?.items ?? [];
              return (
                <Table.Tr key={code}>
                  <Table.Td fw={700}>{code}</Table.Td>
                  <Table.Td>
                    {duty[i]?.error ? (
                      <Text c="dimmed" size="sm">
                        not visible to you
                      </Text>
                    ) : shifts.length === 0 ? (
                      <Text c="dimmed" size="sm">
                        no shift this week
                      </Text>
                    ) : (
                      <Stack gap={2}>
                        {shifts.map((s) => (
                          <Text key={`${s.rotationId}:${s.index}`} size="sm">
                            <b>{s.responderName}</b> — {fmtTime(s.start)} → {fmtTime(s.end)} ({s.rotationName}
                            )
                            {s.unavailable ? (
                              <Badge ml="xs" color="red" size="xs">
                                unavailable part of it
                              </Badge>
                            ) : null}
                          </Text>
                        ))}
                      </Stack>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Anchor href={`/api/v1/parties/${code}/duty.ics`} download={`duty-${code}.ics`}>
                      {code} duty (.ics)
                    </Anchor>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Card>
      <CalendarSubscriptions parties={dutyParties} />
      <Group align="flex-end">
        <Select
          label="Party"
          placeholder="all you may see"
          data={(parties.data?.items ?? []).map((p) => ({ value: p.code, label: `${p.code} — ${p.name}` }))}
          value={party}
          onChange={setParty}
          clearable
          searchable
          w={220}
        />
        <Select
          label="Skill"
          placeholder="any"
          data={SKILLS.map((s) => ({ value: s, label: humanize(s) }))}
          value={skill}
          onChange={setSkill}
          clearable
          w={240}
        />
        <Text size="sm" c="dimmed" aria-live="polite">
          {responders.data?.pages[0]?.total ?? '…'} responders
        </Text>
      </Group>
      <Problem error={responders.error ?? users.error} />
      <Problem error={link.error} title="The link to a user was not saved" />
      {responders.isPending ? (
        <Loading />
      ) : (
        <Table striped data-testid="responders">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Party</Table.Th>
              <Table.Th>Skills (level)</Table.Th>
              <Table.Th>Languages</Table.Th>
              <Table.Th>Clearance</Table.Th>
              <Table.Th>Base</Table.Th>
              <Table.Th>Ready in</Table.Th>
              <Table.Th>User</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td>
                  {r.name}
                  <Text size="xs" c="dimmed">
                    {r.affiliation}
                  </Text>
                </Table.Td>
                <Table.Td>{r.party}</Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    {r.skills.map((s) => (
                      <Badge key={s.skill} variant="light" size="sm" tt="none">
                        {s.skill} {s.level}
                      </Badge>
                    ))}
                  </Group>
                </Table.Td>
                <Table.Td>{r.languages.join(', ')}</Table.Td>
                <Table.Td>{humanize(r.clearance)}</Table.Td>
                <Table.Td>{r.base.city}</Table.Td>
                <Table.Td style={{ whiteSpace: 'nowrap' }}>
                  <Text size="sm">remote {r.readiness.remoteHours} h</Text>
                  <Text size="sm">on site {r.readiness.onsiteHours} h</Text>
                </Table.Td>
                <Table.Td>{userCell(r)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {responders.hasNextPage ? (
        <Button
          variant="default"
          onClick={() => void responders.fetchNextPage()}
          loading={responders.isFetchingNextPage}
          w="fit-content"
        >
          Show more
        </Button>
      ) : null}
    </Stack>
  );
}
