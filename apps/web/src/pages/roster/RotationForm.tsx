import { Button, Group, MultiSelect, NumberInput, Select, Stack, TextInput } from '@mantine/core';
import type { Responder, Rotation } from '@vytis/contracts';
import { useState } from 'react';
import { useCreateRotation, useUpdateRotation } from '../../api/roster.ts';
import { viewerZone } from '../../components/format.ts';
import { Problem } from '../../components/Problem.tsx';

interface RotationDraft {
  name: string;
  party: string;
  timeZone: string;
  startsOn: string;
  shiftStart: string;
  shiftDays: number;
  shiftHours: number;
  responderIds: string[];
}

/** Create or change a rotation: who takes the shifts in turn, and when they run (in the party's zone). */
export function RotationForm({
  rotation,
  parties,
  responders,
  onDone,
}: {
  rotation: Rotation | null;
  parties: string[];
  responders: Responder[];
  onDone: () => void;
}) {
  const [draft, setDraft] = useState<RotationDraft>(() => ({
    name: rotation?.name ?? '',
    party: rotation?.party ?? parties[0] ?? '',
    timeZone: rotation?.timeZone ?? viewerZone(),
    startsOn: rotation?.startsOn ?? new Date().toISOString().slice(0, 10),
    shiftStart: rotation?.shiftStart ?? '08:00',
    shiftDays: rotation?.shiftDays ?? 1,
    shiftHours: rotation?.shiftHours ?? 24,
    responderIds: rotation?.responderIds ?? [],
  }));
  const set = <K extends keyof RotationDraft>(key: K, value: RotationDraft[K]) =>
    setDraft((d) => ({ ...d, [key]: value }));
  const create = useCreateRotation();
  const update = useUpdateRotation();
  const mutation = rotation ? update : create;
  const { party, ...fields } = draft;
  const submit = async () => {
    if (rotation) await update.mutateAsync({ rotation, patch: fields });
    else await create.mutateAsync({ ...fields, party });
    onDone();
  };
  const people = responders
    .filter((r) => r.party === draft.party)
    .map((r) => ({ value: r.id, label: r.name }));
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void submit().catch(() => {});
      }}
    >
      <Stack gap="xs">
        <Group grow align="flex-start">
          <TextInput
            label="Rotation name"
            required
            value={draft.name}
            onChange={(e) => set('name', e.currentTarget.value)}
          />
          {rotation ? null : (
            <Select
              label="Party"
              data={parties}
              value={draft.party}
              onChange={(v) => v && set('party', v)}
              allowDeselect={false}
            />
          )}
          <TextInput
            label="Time zone"
            value={draft.timeZone}
            onChange={(e) => set('timeZone', e.currentTarget.value)}
          />
        </Group>
        <Group grow align="flex-start">
          <TextInput
            type="date"
            label="First shift on"
            value={draft.startsOn}
            onChange={(e) => set('startsOn', e.currentTarget.value)}
          />
          <TextInput
            label="Shift starts at (HH:MM)"
            value={draft.shiftStart}
            onChange={(e) => set('shiftStart', e.currentTarget.value)}
          />
          <NumberInput
            label="Days between shifts"
            min={1}
            max={28}
            value={draft.shiftDays}
            onChange={(v) => set('shiftDays', Number(v))}
          />
          <NumberInput
            label="Shift length (h)"
            min={1}
            value={draft.shiftHours}
            onChange={(v) => set('shiftHours', Number(v))}
          />
        </Group>
        <MultiSelect
          label="Responders, in the order they take the shifts"
          data={people}
          value={draft.responderIds}
          onChange={(v) => set('responderIds', v)}
          searchable
        />
        <Problem error={mutation.error} title="Rotation not saved" />
        <Group>
          <Button type="submit" loading={mutation.isPending}>
            {rotation ? 'Save rotation' : 'Create rotation'}
          </Button>
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
