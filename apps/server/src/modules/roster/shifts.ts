import { DateTime, IANAZone } from 'luxon';
import { isCalendarDay } from '../../platform/days.ts';

/**
 * The shifts of a duty rotation: pure time arithmetic, no storage.
 *
 * A rotation is defined in its party's local time, so that "08:00" stays 08:00 on the wall clock
 * in summer and in winter: shift k (k = 0, 1, 2, … from `startsOn`) is held by
 * `responderIds[k mod n]` and starts on the local day `startsOn + k·shiftDays` at `shiftStart`,
 * local time in `timeZone`. Its UTC start therefore moves by an hour across a daylight-saving
 * change. Every instant is computed by luxon from the IANA database, never by hand.
 *
 * How long a shift lasts: `shiftHours` of real, elapsed time. When a rotation covers the whole
 * cycle (`shiftHours = 24 × shiftDays`, e.g. a 24-hour daily on-call), each shift instead ends
 * exactly when the next one starts, so coverage has neither a gap nor two people on duty at once:
 * the shift that spans the change is 23 hours (spring) or 25 hours (autumn) long. A shorter shift
 * can never reach the next one (the cycle shrinks by at most an hour, and shiftHours is then at
 * most 24 × shiftDays − 1), so shifts of one rotation never overlap.
 *
 * Local times that do not exist or exist twice:
 * - a start in the hour skipped at spring-forward (02:30 in Warsaw on 28 March 2027, where clocks
 *   jump from 02:00 to 03:00) is moved forward by the length of the gap, to 03:30: the instant
 *   the wall clock would show had it not jumped (as RFC 5545 §3.3.5 and Temporal's "compatible"
 *   disambiguation do). Its local start shows 03:30 that day only; later shifts are back at 02:30.
 * - a start in the hour repeated at fall-back (02:30 in Warsaw on 25 October 2026, which happens
 *   at +02:00 and again at +01:00) is the first occurrence, the one at the summer offset.
 */
export interface RotationPlan {
  timeZone: string;
  /** 'YYYY-MM-DD', local */
  startsOn: string;
  /** 'HH:MM', local */
  shiftStart: string;
  shiftHours: number;
  shiftDays: number;
  responderIds: readonly string[];
}

export interface PlannedShift {
  index: number;
  responderId: string;
  start: DateTime;
  end: DateTime;
}

const HOUR_MS = 3_600_000;
const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

export const isValidZone = (zone: string) => IANAZone.isValidZone(zone);

export function parseShiftStart(value: string): { hour: number; minute: number } | null {
  const match = HHMM.exec(value);
  return match ? { hour: Number(match[1]), minute: Number(match[2]) } : null;
}

/** A local calendar day, in the years the node keeps (so its shifts stay in them too). */
export function parseLocalDay(value: string): { year: number; month: number; day: number } | null {
  const match = DAY.exec(value);
  if (!match || !isCalendarDay(value)) return null;
  return { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
}

/**
 * The instant a local wall-clock time names in `zone`: in a gap, moved forward by the gap's length
 * (luxon's own rule); when repeated, the first occurrence (luxon picks the later one, so we look
 * for an earlier instant with the same wall-clock reading).
 */
export function localInstant(
  zone: string,
  wall: { year: number; month: number; day: number; hour: number; minute: number },
): DateTime {
  const chosen = DateTime.fromObject(wall, { zone });
  // The offset a few hours earlier: larger means the clocks went back in between.
  const before = DateTime.fromMillis(chosen.toMillis() - 6 * HOUR_MS, { zone }).offset;
  if (before > chosen.offset) {
    const earlier = chosen.minus({ minutes: before - chosen.offset });
    if (
      earlier.year === wall.year &&
      earlier.month === wall.month &&
      earlier.day === wall.day &&
      earlier.hour === wall.hour &&
      earlier.minute === wall.minute
    ) {
      return earlier;
    }
  }
  return chosen;
}

/** The start of shift k. The plan must have been validated (zone, day, HH:MM). */
export function shiftStartAt(plan: RotationPlan, k: number): DateTime {
  const day = DateTime.fromISO(plan.startsOn, { zone: 'utc' }).plus({ days: k * plan.shiftDays });
  const time = parseShiftStart(plan.shiftStart)!;
  return localInstant(plan.timeZone, {
    year: day.year,
    month: day.month,
    day: day.day,
    hour: time.hour,
    minute: time.minute,
  });
}

export function shiftAt(plan: RotationPlan, k: number): PlannedShift {
  const start = shiftStartAt(plan, k);
  const end =
    plan.shiftHours >= 24 * plan.shiftDays
      ? shiftStartAt(plan, k + 1)
      : start.plus({ milliseconds: plan.shiftHours * HOUR_MS });
  return {
    index: k,
    responderId: plan.responderIds[k % plan.responderIds.length]!,
    start,
    end,
  };
}

/** Every shift that overlaps [from, to), in order. */
export function shiftsBetween(plan: RotationPlan, from: Date, to: Date): PlannedShift[] {
  const first = shiftStartAt(plan, 0).toMillis();
  const cycle = plan.shiftDays * 24 * HOUR_MS;
  // Start one cycle early: a cycle may be an hour shorter or longer than 24 h × shiftDays.
  let k = Math.max(0, Math.floor((from.getTime() - first) / cycle) - 1);
  const shifts: PlannedShift[] = [];
  for (;;) {
    const shift = shiftAt(plan, k);
    if (shift.start.toMillis() >= to.getTime()) break;
    if (shift.end.toMillis() > from.getTime()) shifts.push(shift);
    k += 1;
  }
  return shifts;
}

/** ISO 8601 with the zone's offset, without milliseconds: '2027-03-28T08:00:00+03:00'. */
export const localIso = (at: DateTime) => at.toISO({ suppressMilliseconds: true, includeOffset: true })!;
/** ISO 8601 in UTC: '2027-03-28T05:00:00.000Z' (the API's timestamp form). */
export const utcIso = (at: DateTime) => at.toUTC().toJSDate().toISOString();
