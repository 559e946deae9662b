import { Anchor, Badge, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useDutyWeeks, useRotations, type Week } from '../../api/roster.ts';
import { fmtDate, viewerZone } from '../../components/format.ts';
import { Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';

/** Monday 00:00 of this week in the viewer's zone, and the Monday after. */
function thisWeek(): Week {
  const now = new Date();
  const monday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - ((now.getDay() + 6) % 7));
  const next = new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() + 7);
  return { from: monday.toISOString(), to: next.toISOString() };
}

/** Who is on duty this week in each of the parties, with each party's duty calendar to download. */
export function DutyWeekCard({ parties }: { parties: string[] }) {
  const rotations = useRotations();
  const week = thisWeek();
  const duty = useDutyWeeks(parties, week, rotations.isSuccess);
  return (
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
      <Table.ScrollContainer minWidth={640}>
        <Table data-testid="duty">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Party</Table.Th>
              <Table.Th>Who, when</Table.Th>
              <Table.Th>Calendar</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {parties.map((code, i) => {
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
                            <b>{s.responderName}</b> — <Time at={s.start} /> → <Time at={s.end} /> (
                            {s.rotationName})
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
      </Table.ScrollContainer>
    </Card>
  );
}
