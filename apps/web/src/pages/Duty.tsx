import { Alert, Badge, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import type { DutyShift, PartyDuty } from '@vytis/contracts';
import { useDutyBoard } from '../api/roster.ts';
import { viewerZone } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';

/** A time in the viewer's zone, the UTC instant on hover. */
function When({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={`${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`}>
      <Time at={iso} />
    </time>
  );
}

function Person({ shift, label }: { shift: DutyShift; label: string }) {
  const { contact } = shift;
  return (
    <Stack gap={0}>
      <Text size="sm">
        <Text span fw={700}>
          {shift.responderName}
        </Text>{' '}
        ({label}, {shift.rotationName}){' '}
        {shift.unavailable ? (
          <Badge color="red" size="xs">
            on leave / unavailable
          </Badge>
        ) : null}
      </Text>
      <Text size="xs" c="dimmed">
        <When iso={shift.start} /> → <When iso={shift.end} />
      </Text>
      <Text size="xs">
        Contact: {contact.user ? `user ${contact.user}` : 'no Vytis user linked'}
        {contact.city ? `, based in ${contact.city}` : ''}
        {contact.timeZone ? ` (${contact.timeZone})` : ''}
      </Text>
    </Stack>
  );
}

function PartyCard({ duty }: { duty: PartyDuty }) {
  const nobody = !duty.covered;
  return (
    <Card withBorder data-testid={`duty-${duty.party}`}>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          {duty.party} — {duty.name}
        </Title>
        {nobody ? (
          <Badge color="red">nobody on duty now</Badge>
        ) : duty.gaps.length > 0 ? (
          <Badge color="orange.9">gaps ahead</Badge>
        ) : (
          <Badge color="teal.9">covered</Badge>
        )}
      </Group>
      <Stack gap="xs">
        {duty.now.length === 0 ? (
          <Text size="sm">No shift under way.</Text>
        ) : (
          duty.now.map((s) => <Person key={`${s.rotationId}:${s.index}`} shift={s} label="now" />)
        )}
        {duty.next.map((s) => (
          <Person key={`${s.rotationId}:${s.index}`} shift={s} label="next" />
        ))}
        <Text size="sm">
          Escalate to:{' '}
          {duty.escalation.pocs.length > 0
            ? duty.escalation.pocs.map((p) => p.name).join(', ')
            : 'no point of contact registered'}
        </Text>
        {duty.rotations === 0 ? <Text size="sm">This party keeps no duty rotation.</Text> : null}
        {duty.gaps.length > 0 ? (
          <Alert color="orange" title="Gaps in coverage" p="xs">
            <Stack gap={2}>
              {duty.gaps.slice(0, 8).map((g) => (
                <Text size="sm" key={g.from}>
                  <When iso={g.from} /> → <When iso={g.to} />:{' '}
                  {g.reason === 'no_shift' ? 'no shift' : 'the people on shift are on leave or unavailable'}
                </Text>
              ))}
              {duty.gaps.length > 8 ? <Text size="sm">and {duty.gaps.length - 8} more</Text> : null}
            </Stack>
          </Alert>
        ) : null}
      </Stack>
    </Card>
  );
}

export function DutyPage() {
  const board = useDutyBoard();
  return (
    <Stack>
      <Title order={1} size="h2">
        On duty
      </Title>
      <Problem error={board.error} />
      {board.isPending ? (
        <Loading />
      ) : board.data ? (
        <>
          <Text size="sm" c="dimmed">
            Now and the next 7 days, until <When iso={board.data.until} />; times in your zone ({viewerZone()}
            ), UTC on hover. Parties without cover come first.
          </Text>
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            {board.data.parties.map((p) => (
              <PartyCard key={p.party} duty={p} />
            ))}
          </SimpleGrid>
          {board.data.parties.length === 0 ? <Text>No party you may see keeps a roster.</Text> : null}
        </>
      ) : null}
    </Stack>
  );
}
