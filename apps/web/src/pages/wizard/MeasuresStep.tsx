import { Paper, Stack, Switch, Textarea } from '@mantine/core';
import type { StepProps } from './fields.ts';

/** Step 3: what was done to limit the damage, and the other help the entity has. */
export function MeasuresStep({ form: f, set, pick, field }: StepProps) {
  return (
    <Paper withBorder p="md">
      <Stack>
        <Textarea
          label="What was already done to limit the damage"
          description="Needed to submit"
          autosize
          minRows={3}
          maxLength={5000}
          value={f.measuresTaken}
          onChange={(e) => set('measuresTaken', e.currentTarget.value)}
          {...field('measuresTaken')}
        />
        <Textarea
          label="Other help available (contracts, insurance, other teams)"
          description='Needed to submit; "none" if there is none'
          autosize
          minRows={2}
          maxLength={5000}
          value={f.otherHelp}
          onChange={(e) => set('otherHelp', e.currentTarget.value)}
          {...field('otherHelp')}
        />
        <Switch
          label="This is an exercise (same flow, marked everywhere, not in real figures)"
          checked={f.exercise}
          onChange={(e) => pick('exercise', e.currentTarget.checked)}
        />
      </Stack>
    </Paper>
  );
}
