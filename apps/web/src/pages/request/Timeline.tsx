import { Anchor, Card, Text, Timeline, Title } from '@mantine/core';
import { Link } from 'react-router';
import { useRequestTimeline } from '../../api/requests.ts';
import { humanize } from '../../components/format.ts';
import { Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';

/** Everything that happened to the request, oldest first, with the reasons given. */
export function RequestTimeline({ id }: { id: string }) {
  const timeline = useRequestTimeline(id);
  const items = timeline.data?.items ?? [];
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="sm">
        Timeline
      </Title>
      <Problem error={timeline.error} />
      <Timeline bulletSize={12} lineWidth={2} active={items.length}>
        {items.map((t, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: entries are append-only
          <Timeline.Item key={i} title={humanize(t.kind)}>
            <Text size="xs" c="dimmed">
              <Time at={t.at} /> · {t.actor}
              {t.party ? ` (${t.party})` : ''}
              {t.toStatus ? ` · ${t.fromStatus ?? '—'} → ${t.toStatus}` : ''}
            </Text>
            {typeof t.detail.comment === 'string' ||
            typeof t.detail.vote === 'string' ||
            typeof t.detail.reason === 'string' ? (
              <Text size="sm" className="wrap-anywhere">
                {[t.detail.vote, t.detail.comment, t.detail.reason]
                  .filter((x) => typeof x === 'string')
                  .join(' — ')}
              </Text>
            ) : null}
          </Timeline.Item>
        ))}
      </Timeline>
      {items.length === 0 && !timeline.isPending ? <Text c="dimmed">Nothing yet.</Text> : null}
      <Anchor component={Link} to="/requests" size="sm" mt="sm">
        Back to the board
      </Anchor>
    </Card>
  );
}
