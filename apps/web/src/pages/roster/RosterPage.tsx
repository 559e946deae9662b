// /roster: the standby roster. Who is on duty this week, calendar subscriptions, the duty rotations
// and the responders, each section in its own file of this folder.
import { Stack, Title } from '@mantine/core';
import { useState } from 'react';
import { useResponders, useRotations } from '../../api/roster.ts';
import { useMe } from '../../auth.tsx';
import { CalendarSubscriptions } from '../CalendarFeeds.tsx';
import { DutyWeekCard } from './DutyWeek.tsx';
import { type ResponderFilters, Responders } from './Responders.tsx';
import { RotationsCard } from './Rotations.tsx';

export function RosterPage() {
  const me = useMe();
  const [filters, setFilters] = useState<ResponderFilters>({ party: null, skill: null });
  // The rotations name and pick their people among the responders listed below (as filtered there).
  const responders = useResponders(filters.party, filters.skill);
  const rotations = useRotations();
  const dutyParties = [...new Set([me.party, ...(rotations.data?.items ?? []).map((r) => r.party)])].sort();
  const items = responders.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Stack>
      <Title order={1} size="h2">
        Standby roster
      </Title>
      <DutyWeekCard parties={dutyParties} />
      <CalendarSubscriptions parties={dutyParties} />
      <RotationsCard responders={items} />
      <Responders filters={filters} onFilters={setFilters} />
    </Stack>
  );
}
