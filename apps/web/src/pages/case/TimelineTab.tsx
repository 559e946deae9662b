import { Button, Group, Stack, Text, TextInput, Timeline } from '@mantine/core';
import { useState } from 'react';
import { useAddTimelineEntry, useCaseTimeline } from '../../api/cases.ts';
import { localInputToIso } from '../../components/format.ts';
import { Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';
import { fieldError } from './shared.ts';

export function TimelineTab({ caseId, canAdd }: { caseId: string; canAdd: boolean }) {
  const entries = useCaseTimeline(caseId);
  const [text, setText] = useState('');
  const [at, setAt] = useState('');
  const add = useAddTimelineEntry(caseId);
  return (
    <Stack>
      {canAdd ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate(
              { text, happenedAt: localInputToIso(at) ?? new Date().toISOString() },
              { onSuccess: () => setText('') },
            );
          }}
        >
          <Group align="flex-end">
            <TextInput
              type="datetime-local"
              label="When it happened"
              value={at}
              onChange={(e) => setAt(e.currentTarget.value)}
            />
            <TextInput
              label="What happened"
              value={text}
              onChange={(e) => setText(e.currentTarget.value)}
              w={420}
              error={fieldError(add.error, 'text')}
            />
            <Button type="submit" disabled={!text.trim()} loading={add.isPending}>
              Add to the timeline
            </Button>
          </Group>
        </form>
      ) : null}
      <Problem error={entries.error} />
      <Timeline bulletSize={12}>
        {entries.data?.items.map((t) => (
          <Timeline.Item key={t.id} title=<Time at={t.happenedAt} />>
            <Text size="sm" className="wrap-anywhere">
              {t.text}
            </Text>
            <Text size="xs" c="dimmed">
              recorded by {t.recordedBy}, <Time at={t.recordedAt} />
            </Text>
          </Timeline.Item>
        ))}
      </Timeline>
    </Stack>
  );
}
