import { fmtTime, fmtUtc } from './format.ts';

/** An instant in the viewer's zone (the zone named), with UTC on hover and for machines. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <>—</>;
  return (
    <time dateTime={at} title={fmtUtc(at)}>
      {fmtTime(at)}
    </time>
  );
}
