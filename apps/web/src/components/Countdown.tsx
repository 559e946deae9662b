import { Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { fmtDistance, fmtTime, fmtUtc } from './format.ts';

/** Re-renders its users every `ms`: the clocks on screen keep counting. */
export function useNow(ms = 15_000) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

export function Countdown({ dueAt, done }: { dueAt: string; done?: boolean }) {
  const now = useNow();
  const left = new Date(dueAt).getTime() - now;
  const colour = done ? 'dimmed' : left < 0 ? 'red' : left < 6 * 3600_000 ? 'orange' : undefined;
  return (
    <Text
      span
      c={colour}
      fw={!done && left < 6 * 3600_000 ? 700 : undefined}
      title={`${fmtTime(dueAt)} (${fmtUtc(dueAt)})`}
    >
      <time dateTime={dueAt}>
        {left < 0 && !done ? `overdue, due ${fmtDistance(left)}` : fmtDistance(left)}
      </time>
    </Text>
  );
}
