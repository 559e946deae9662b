import { Card, List, Table, Text, Title } from '@mantine/core';
import type { AssistanceRequest } from '@vytis/contracts';
import { humanize } from '../../components/format.ts';

/** Eligibility and priority, each with its reasons. */
export function RequestAssessment({ r }: { r: AssistanceRequest }) {
  return (
    <>
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Eligibility
        </Title>
        {r.eligibility ? (
          <>
            <Text fw={700} c={r.eligibility.eligible ? 'teal' : 'red'}>
              {r.eligibility.eligible
                ? `Eligible${r.eligibility.requires ? ` — the council decides by ${r.eligibility.requires}` : ''}`
                : 'Not eligible'}
            </Text>
            <Text size="sm" c="dimmed">
              {r.party} was {humanize(r.eligibility.partyStatus ?? 'no status')} on {r.eligibility.day}{' '}
              (framework v{r.eligibility.frameworkVersion})
            </Text>
            <List size="sm" mt="xs">
              {r.eligibility.reasons.map((reason) => (
                <List.Item key={reason}>{reason}</List.Item>
              ))}
            </List>
          </>
        ) : (
          <Text c="dimmed">Decided when the request is submitted.</Text>
        )}
      </Card>
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Priority {r.priority.score} / 100
        </Title>
        <Table>
          <Table.Tbody>
            {r.priority.reasons.map((p) => (
              <Table.Tr key={p.criterion}>
                <Table.Td>{humanize(p.criterion)}</Table.Td>
                <Table.Td fw={700}>{p.points}</Table.Td>
                <Table.Td>{p.reason}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Card>
    </>
  );
}
