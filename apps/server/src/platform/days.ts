import { invalidInput } from '../errors.ts';

/** Calendar days in UTC, written `YYYY-MM-DD`: the unit of effective dates and "as of" answers. */
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/** The last instant of a UTC day: what was in force "on" that day. */
export const endOfUtcDay = (day: string): Date => new Date(`${day}T23:59:59.999Z`);

/**
 * A day given as `YYYY-MM-DD` (a real calendar day) or as any ISO 8601 timestamp (its UTC day).
 * Anything else is a 400 naming `field`, so the caller knows what to fix.
 */
export function parseDay(value: string, field: string): string {
  const isDay = DAY.test(value);
  const at = new Date(isDay ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(at.getTime()) || (isDay && utcDay(at) !== value)) {
    throw invalidInput(`${field} must be a date (YYYY-MM-DD) or an ISO 8601 timestamp`, [
      { field, message: `not a valid date: ${value}` },
    ]);
  }
  return utcDay(at);
}
