import { Badge, Button, Card, Group, List, Table, Text, Title } from '@mantine/core';
import type { Deployment } from '@vytis/contracts';
import { Link } from 'react-router';
import { useDecideMember, useRevokePass } from '../../api/deployments.ts';
import { ConfirmAction } from '../../components/Confirm.tsx';
import { Time } from '../../components/Time.tsx';
import { declineSentence, nameOf, releaseSentence, revokeSentence } from './words.ts';

const MEMBER_COLOURS: Record<string, string> = {
  pending: 'yellow',
  released: 'teal',
  declined: 'red',
  replaced: 'gray',
};

/** The team, each member's home state's decision, and what the viewer may do about each (`can`). */
export function Members({ d }: { d: Deployment }) {
  const decide = useDecideMember(d.id);
  const revoke = useRevokePass(d.id);
  const active = d.members.filter((m) => m.status !== 'replaced');
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        Members and their home states' release
      </Title>
      <Table.ScrollContainer minWidth={640}>
        <Table data-testid="members">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Member</Table.Th>
              <Table.Th>Home</Table.Th>
              <Table.Th>Release</Table.Th>
              <Table.Th>Why on the team</Table.Th>
              <Table.Th>Action</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {d.members.map((m) => (
              <Table.Tr key={m.responderId} style={m.status === 'replaced' ? { opacity: 0.6 } : undefined}>
                <Table.Td>
                  {m.name ?? (
                    <Text
                      span
                      c="dimmed"
                      size="sm"
                      title="Shown to its home state, the host and coordinators"
                    >
                      a responder of {m.party}
                    </Text>
                  )}
                  {m.you ? (
                    <Badge ml="xs" size="sm" variant="outline">
                      you
                    </Badge>
                  ) : null}
                </Table.Td>
                <Table.Td>{m.party}</Table.Td>
                <Table.Td>
                  <Badge color={MEMBER_COLOURS[m.status]} variant="light">
                    {m.status}
                  </Badge>
                  {m.decidedBy ? (
                    <Text size="xs" c="dimmed" className="wrap-anywhere">
                      {m.decidedBy}, <Time at={m.decidedAt} />
                      {m.decisionReason ? ` — ${m.decisionReason}` : ''}
                    </Text>
                  ) : null}
                </Table.Td>
                <Table.Td>
                  <List size="xs">
                    {m.reasons.map((r) => (
                      <List.Item key={r}>{r}</List.Item>
                    ))}
                  </List>
                </Table.Td>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    {m.can.release ? (
                      <ConfirmAction
                        label="Release"
                        title={`Release ${nameOf(m)}?`}
                        consequence={releaseSentence(d, m)}
                        buttonProps={{ size: 'xs', 'aria-label': `Release ${nameOf(m)}` }}
                        onConfirm={() =>
                          decide.mutateAsync({ responderId: m.responderId, decision: 'release' })
                        }
                      />
                    ) : null}
                    {m.can.decline ? (
                      <ConfirmAction
                        label="Decline"
                        title={`Decline ${nameOf(m)}?`}
                        consequence={declineSentence(d, m)}
                        confirmLabel="Decline and solve again"
                        reason="required"
                        reasonLabel="Why they cannot go"
                        danger
                        buttonProps={{ size: 'xs', 'aria-label': `Decline ${nameOf(m)}` }}
                        onConfirm={(reason) =>
                          decide.mutateAsync({
                            responderId: m.responderId,
                            decision: 'decline',
                            ...(reason ? { reason } : {}),
                          })
                        }
                      />
                    ) : null}
                    {m.can.pass ? (
                      <Button
                        size="xs"
                        variant="light"
                        component={Link}
                        to={`/deployments/${d.id}/passes/${m.responderId}`}
                      >
                        {m.you ? 'My pass' : 'Pass'}
                      </Button>
                    ) : null}
                    {m.can.revokePass ? (
                      <ConfirmAction
                        label="Revoke pass"
                        title={`Revoke the pass of ${nameOf(m)}?`}
                        consequence={revokeSentence(d, m)}
                        reason="required"
                        reasonLabel="Why the pass is revoked"
                        danger
                        buttonProps={{ size: 'xs', 'aria-label': `Revoke pass of ${nameOf(m)}` }}
                        onConfirm={(reason) =>
                          revoke.mutateAsync({ responderId: m.responderId, reason: reason ?? '' })
                        }
                      />
                    ) : null}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Text size="sm" mt="xs" data-testid="release-by-party">
        {active.filter((m) => m.status === 'released').length} of {active.length} released —{' '}
        {[...new Set(active.map((m) => m.party))]
          .sort()
          .map((party) => {
            const theirs = active.filter((m) => m.party === party);
            const released = theirs.filter((m) => m.status === 'released').length;
            return `${party}: ${released === theirs.length ? 'all released' : `${released} of ${theirs.length} released`}`;
          })
          .join(' · ')}
      </Text>
    </Card>
  );
}
