import { Anchor, Button, Card, Group, List, Text, Title } from '@mantine/core';
import type { AssistanceRequest } from '@vytis/contracts';
import { Link, useNavigate } from 'react-router';
import { useOpenRequestCase, useRequestCases } from '../../api/requests.ts';
import { humanize } from '../../components/format.ts';
import { Problem } from '../../components/Problem.tsx';

/** The cases that work the request; for whom `can.openCase`, a case opened from it. */
export function RequestCases({ r }: { r: AssistanceRequest }) {
  const navigate = useNavigate();
  const cases = useRequestCases(r.id);
  const open = useOpenRequestCase(r);
  if (!cases.data?.items.length && !r.can.openCase) return null;
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Cases
        </Title>
        {r.can.openCase ? (
          <Button
            variant="default"
            onClick={() => open.mutate(undefined, { onSuccess: (c) => navigate(`/cases/${c.id}`) })}
            loading={open.isPending}
          >
            Open a case for it
          </Button>
        ) : null}
      </Group>
      <Problem error={cases.error ?? open.error} />
      {cases.data?.items.length ? (
        <List size="sm">
          {cases.data.items.map((c) => (
            <List.Item key={c.id}>
              <Anchor component={Link} to={`/cases/${c.id}`}>
                {c.title}
              </Anchor>{' '}
              ({c.ownerParty}, {humanize(c.status)}, {c.counts.observables} observables)
            </List.Item>
          ))}
        </List>
      ) : (
        <Text c="dimmed" size="sm">
          No case you may see works this request yet.
        </Text>
      )}
    </Card>
  );
}
