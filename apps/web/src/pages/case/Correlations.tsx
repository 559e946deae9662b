import { Checkbox, Stack, Text } from '@mantine/core';
import type { Observable } from '@vytis/contracts';
import { useState } from 'react';
import { useCorrelations } from '../../api/cases.ts';
import { Loading, Problem } from '../../components/Problem.tsx';
import { WarningListFlag } from '../../components/WarningLists.tsx';
import { CorrelationTable } from '../Cases.tsx';

export function Correlations({ caseId, o }: { caseId: string; o: Observable }) {
  // An exercise correlates with exercises only; a real case with exercises only when asked.
  const [withExercises, setWithExercises] = useState(false);
  // A value on a warning list is not correlated unless asked for (the server's default).
  const [warninglisted, setWarninglisted] = useState(false);
  const list = useCorrelations(caseId, o, { withExercises, warninglisted });
  if (list.isPending) return <Loading />;
  if (list.error) return <Problem error={list.error} />;
  return (
    <Stack>
      <Text size="sm" className="wrap-anywhere">
        <code>{o.value}</code> in other {o.exercise ? 'exercises' : 'cases'} you may see
        {list.data.overCorrelating ? ` (more than ${list.data.cap}: a very common value)` : ''}:
      </Text>
      {o.exercise ? (
        <Text size="xs" c="dimmed">
          This case is an exercise: it is compared with other exercises only.
        </Text>
      ) : (
        <Checkbox
          label="Include exercises (marked)"
          checked={withExercises}
          onChange={(e) => setWithExercises(e.currentTarget.checked)}
        />
      )}
      {list.data.warnings.length ? (
        <Stack gap={4}>
          <WarningListFlag warnings={list.data.warnings} />
          <Checkbox
            label="It is on a warning list (a known-benign value): correlate it all the same"
            checked={warninglisted}
            onChange={(e) => setWarninglisted(e.currentTarget.checked)}
          />
        </Stack>
      ) : null}
      {list.data.warninglisted ? (
        <Text c="dimmed">Not correlated: the value is on a warning list.</Text>
      ) : list.data.items.length ? (
        <CorrelationTable items={list.data.items} />
      ) : (
        <Text c="dimmed">Nowhere else.</Text>
      )}
    </Stack>
  );
}
