/** A time as a reader of a printed report reads it: to the minute, in UTC, and saying so. */
export function printedTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
