import { Alert, Card, Group, SegmentedControl, Stack, Table, Text, Title } from '@mantine/core';
import { type AssistanceRequest, VOTES, type VoteChoice } from '@vytis/contracts';
import { useState } from 'react';
import { useRequestAct } from '../../api/requests.ts';
import { useMe } from '../../auth.tsx';
import { ConfirmAction } from '../../components/Confirm.tsx';
import { nodeOf } from '../../components/CopyNotice.tsx';
import { Countdown } from '../../components/Countdown.tsx';
import { fmtTime, humanize } from '../../components/format.ts';
import { Time } from '../../components/Time.tsx';

/** The council's votes and decision; for whom `can.vote`, their party's vote, confirmed with its reason. */
export function RequestCouncil({ r }: { r: AssistanceRequest }) {
  const me = useMe();
  const act = useRequestAct(r);
  const mine = r.votes.find((v) => v.party === me.party);
  const [vote, setVote] = useState<VoteChoice>(mine?.vote ?? 'activate');
  if (!r.council) return null;
  const council = r.council;
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Council ({council.rule})
        </Title>
        {!r.decision ? (
          <Text size="sm">
            Closes <Countdown dueAt={council.closesAt} />
          </Text>
        ) : null}
      </Group>
      {r.decision ? (
        <Alert
          color={r.decision.outcome === 'declined' ? 'red' : 'teal'}
          title={`Decision: ${humanize(r.decision.outcome)}`}
          mb="sm"
        >
          {r.decision.reason} — <Time at={r.decision.decidedAt} />
          {r.decision.closedEarly ? ' (the outcome was certain before the deadline)' : ''}
        </Alert>
      ) : null}
      <Table data-testid="votes">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Party</Table.Th>
            <Table.Th>Vote</Table.Th>
            <Table.Th>Comment</Table.Th>
            <Table.Th>When</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {council.electorate.map((party) => {
            const v = r.votes.find((x) => x.party === party);
            return (
              <Table.Tr key={party}>
                <Table.Td>{party}</Table.Td>
                <Table.Td>
                  {v ? (
                    <Text fw={700} size="sm">
                      {humanize(v.vote)}
                    </Text>
                  ) : (
                    <Text c="dimmed" size="sm">
                      not yet
                    </Text>
                  )}
                </Table.Td>
                <Table.Td className="wrap-anywhere">{v?.comment ?? ''}</Table.Td>
                <Table.Td>
                  {v ? (
                    <>
                      <Time at={v.castAt} /> ({v.castBy})
                    </>
                  ) : null}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {r.can.vote ? (
        <Stack mt="md" gap="xs">
          <Text fw={600} id="vote-label">
            {mine ? `Change ${me.party}'s vote` : `${me.party}'s vote`}
          </Text>
          <SegmentedControl
            aria-labelledby="vote-label"
            value={vote}
            onChange={(v) => setVote(v as VoteChoice)}
            data={VOTES.map((v) => ({ value: v, label: humanize(v) }))}
          />
          {r.mirroredFrom ? (
            <Text size="sm" data-testid="vote-forwarded-hint">
              Your vote is sent to {nodeOf(r.mirroredFrom)}, where the council's decision is taken.
            </Text>
          ) : null}
          <ConfirmAction
            label="Cast vote"
            title={`Vote "${humanize(vote)}" for ${me.party}?`}
            consequence={`${me.party}'s vote (${humanize(vote)}) on the request from ${r.party} is recorded with your comment, for the council of ${council.electorate.join(', ')}. The council decides by ${council.rule} as soon as the outcome is certain, at the latest ${fmtTime(council.closesAt)}; until then ${me.party} may change its vote.`}
            confirmLabel="Cast the vote"
            reason={vote === 'decline' ? 'required' : 'optional'}
            reasonLabel="Comment"
            danger={vote === 'decline'}
            buttonProps={{ w: 'fit-content' }}
            onConfirm={(comment) => act.mutateAsync({ kind: 'vote', vote, comment })}
          />
        </Stack>
      ) : null}
    </Card>
  );
}
