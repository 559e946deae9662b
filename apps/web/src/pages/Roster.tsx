import { Anchor, Badge, Button, Card, Group, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useInfiniteQuery, useQueries, useQuery } from '@tanstack/react-query';
import { type Responder, type Rotation, type ShiftList, SKILLS } from '@vytis/contracts';
import { useState } from 'react';
import { api } from '../api/client.ts';
import { useParties } from '../api/queries.ts';
import { useMe } from '../auth.tsx';
import { fmtDate, fmtTime, humanize, viewerZone } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';

/** Monday 00:00 of this week in the viewer's zone, and the Monday after. */
function thisWeek(): { from: string; to: string } {
  const now = new Date();
  const monday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - ((now.getDay() + 6) % 7));
  const next = new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() + 7);
  return { from: monday.toISOString(), to: next.toISOString() };
}

export function RosterPage() {
  const me = useMe();
  const parties = useParties();
  const [party, setParty] = useState<string | null>(null);
  const [skill, setSkill] = useState<string | null>(null);
  const responders = useInfiniteQuery({
    queryKey: ['responders', party, skill],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api<{ items: Responder[]; total: number; nextCursor: string | null }>('/responders', {
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
      <Problem error={responders.error} />
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
                <Table.Td>
                  <Text size="sm">remote {r.readiness.remoteHours} h</Text>
                  <Text size="sm">on site {r.readiness.onsiteHours} h</Text>
                </Table.Td>
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
