// Times are stored in UTC and shown in the viewer's own time zone, with the zone named.

export const viewerZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

const dateTime = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});
const dateOnly = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'short', day: '2-digit' });

export const fmtTime = (iso: string | null | undefined) => (iso ? dateTime.format(new Date(iso)) : '—');
const utc = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZone: 'UTC',
});
/** The same instant in UTC, for the hover title: what colleagues in other zones and logs say. */
export const fmtUtc = (iso: string) => `${utc.format(new Date(iso))} UTC`;
export const fmtDate = (iso: string | null | undefined) => (iso ? dateOnly.format(new Date(iso)) : '—');

/** "in 3 h 05 min", "2 d 4 h ago": a clock's distance from now. */
export function fmtDistance(ms: number): string {
  const abs = Math.abs(ms);
  const min = Math.floor(abs / 60_000);
  const h = Math.floor(min / 60);
  const d = Math.floor(h / 24);
  const text =
    d >= 2 ? `${d} d ${h % 24} h` : h >= 1 ? `${h} h ${String(min % 60).padStart(2, '0')} min` : `${min} min`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

const WORDS: Record<string, string> = {
  'crrt-mou': 'CRRT MoU',
  'cyber-solidarity-act': 'Cyber Solidarity Act',
  'ot-ics': 'OT / ICS',
  eu_institution: 'EU institution',
  'ict-service-management': 'ICT service management',
  onsite: 'On site',
};

export const humanize = (s: string) =>
  WORDS[s] ??
  s
    .replace(/^nis2_/, 'NIS2 ')
    .replace(/[_.-]+/g, ' ')
    .replace(/^./, (c) => c.toUpperCase());

/** `<input type="datetime-local">` value ⇄ ISO (UTC), in the viewer's zone. */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
export function isoToLocalInput(iso: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${iso.getFullYear()}-${pad(iso.getMonth() + 1)}-${pad(iso.getDate())}T${pad(iso.getHours())}:${pad(iso.getMinutes())}`;
}
