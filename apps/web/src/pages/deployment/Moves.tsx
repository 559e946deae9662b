import { Card, Group, Text, Title } from '@mantine/core';
import type { Deployment } from '@vytis/contracts';
import { useMoveDeployment } from '../../api/deployments.ts';
import { ConfirmAction } from '../../components/Confirm.tsx';
import { humanize } from '../../components/format.ts';
import { moveSentence, standDownSentence } from './words.ts';

/** The moves the viewer may make now (`can.moveTo`), and the stand-down (`can.standDown`). */
export function Moves({ d }: { d: Deployment }) {
  const move = useMoveDeployment(d.id);
  if (!d.can.move && !d.can.standDown) return null;
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        Move the deployment along
      </Title>
      <Text size="sm" mb="xs">
        Now: {humanize(d.status)}.
      </Text>
      <Group>
        {d.can.moveTo.map((to) => (
          <ConfirmAction
            key={to}
            label={humanize(to)}
            title={`The team goes ${humanize(to).toLowerCase()}?`}
            consequence={moveSentence(d, to)}
            buttonProps={{ variant: 'default' }}
            onConfirm={() => move.mutateAsync({ status: to })}
          />
        ))}
        {d.can.standDown ? (
          <ConfirmAction
            label="Stand down"
            title="Stand the team down?"
            consequence={standDownSentence(d)}
            reason="optional"
            reasonLabel="Why the mission ends"
            danger
            onConfirm={(reason) => move.mutateAsync({ status: 'stood_down', ...(reason ? { reason } : {}) })}
          />
        ) : null}
      </Group>
    </Card>
  );
}
