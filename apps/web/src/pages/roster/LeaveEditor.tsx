import { Button, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import type { Responder } from '@vytis/contracts';
import { useState } from 'react';
import { useSetAvailability } from '../../api/roster.ts';
import { ConfirmAction } from '../../components/Confirm.tsx';
import { fmtTime, humanize, localInputToIso } from '../../components/format.ts';
import { Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';

/** A responder's leave and unavailability: add a period, remove one (confirmed). */
export function LeaveEditor({ responder }: { responder: Responder }) {
  const save = useSetAvailability();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [kind, setKind] = useState<string>('leave');
  const [note, setNote] = useState('');
  const periods = responder.unavailability;
  const add = async () => {
    const period = {
      from: localInputToIso(from) ?? '',
      to: localInputToIso(to) ?? '',
      kind: kind as (typeof periods)[number]['kind'],
      ...(note.trim() ? { note: note.trim() } : {}),
    };
    await save.mutateAsync({ responder, body: { unavailability: [...periods, period] } });
    setFrom('');
    setTo('');
    setNote('');
  };
  return (
    <Stack gap="xs">
      {periods.length === 0 ? <Text size="sm">No leave recorded.</Text> : null}
      {periods.map((p, i) => (
        <Group key={`${p.from}-${p.to}`} justify="space-between">
          <Text size="sm">
            {humanize(p.kind)}: <Time at={p.from} /> → <Time at={p.to} />
            {p.note ? ` (${p.note})` : ''}
          </Text>
          <ConfirmAction
            label="Remove"
            title={`Remove this ${p.kind} of ${responder.name}?`}
            consequence={`${responder.name} counts as available again from ${fmtTime(p.from)} to ${fmtTime(p.to)}.`}
            danger
            buttonProps={{
              size: 'xs',
              variant: 'default',
              'aria-label': `Remove ${p.kind} from ${fmtTime(p.from)}`,
            }}
            onConfirm={() =>
              save.mutateAsync({ responder, body: { unavailability: periods.filter((_, j) => j !== i) } })
            }
          />
        </Group>
      ))}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void add().catch(() => {});
        }}
      >
        <Group align="flex-end">
          <TextInput
            type="datetime-local"
            label="From (your zone)"
            required
            value={from}
            onChange={(e) => setFrom(e.currentTarget.value)}
          />
          <TextInput
            type="datetime-local"
            label="To (your zone)"
            required
            value={to}
            onChange={(e) => setTo(e.currentTarget.value)}
          />
          <Select
            label="Kind"
            data={['leave', 'unavailable', 'training']}
            value={kind}
            onChange={(v) => v && setKind(v)}
            allowDeselect={false}
            w={140}
          />
          <TextInput label="Note" value={note} onChange={(e) => setNote(e.currentTarget.value)} />
          <Button type="submit" loading={save.isPending}>
            Add period
          </Button>
        </Group>
      </form>
      <Problem error={save.error} title="Leave not saved" />
    </Stack>
  );
}
