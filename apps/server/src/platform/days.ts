import { invalidInput } from '../errors.ts';

/** Calendar days in UTC, written `YYYY-MM-DD`: the unit of effective dates and "as of" answers. */
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The days and instants the node accepts: years 1000 to 9998, which PostgreSQL and JavaScript both
 * hold and print in the same four-digit form, with a year to spare for what a route adds to them
 * (a clock's month, a listing's 92 days, the end of a day).
 */
const FIRST_DAY = '1000-01-01';
const LAST_DAY = '9998-12-31';
export const EARLIEST_INSTANT_MS = Date.parse(`${FIRST_DAY}T00:00:00Z`);
export const LATEST_INSTANT_MS = Date.parse(`${LAST_DAY}T23:59:59.999Z`);
export const isStorableInstant = (ms: number) =>
  Number.isFinite(ms) && ms >= EARLIEST_INSTANT_MS && ms <= LATEST_INSTANT_MS;

export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/** The last instant of a UTC day: what was in force "on" that day. */
export const endOfUtcDay = (day: string): Date => new Date(`${day}T23:59:59.999Z`);

/** Whether `value` is a real `YYYY-MM-DD` calendar day in the range the node keeps. */
export function isCalendarDay(value: string): boolean {
  if (!DAY.test(value) || value < FIRST_DAY || value > LAST_DAY) return false;
  const at = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(at.getTime()) && utcDay(at) === value;
}

/**
 * A day given as `YYYY-MM-DD` (a real calendar day) or as any ISO 8601 timestamp (its UTC day).
 * Anything else, or a day outside the years 1000 to 9998, is a 400 naming `field`, so the caller
 * knows what to fix.
 */
export function parseDay(value: string, field: string): string {
  const isDay = DAY.test(value);
  const at = new Date(isDay ? `${value}T00:00:00Z` : value);
  if (!isStorableInstant(at.getTime()) || (isDay && utcDay(at) !== value)) {
    throw invalidInput(
      `${field} must be a date (YYYY-MM-DD) or an ISO 8601 timestamp, from ${FIRST_DAY} to ${LAST_DAY}`,
      [{ field, message: `not a valid date: ${value.slice(0, 40)}` }],
    );
  }
  return utcDay(at);
}

/**
 * An instant given as an ISO 8601 timestamp, from the year 1000 to 9998 (UTC); anything else is a
 * 400 naming `field`.
 */
export function parseInstant(value: string, field: string): Date {
  const at = new Date(value);
  if (!isStorableInstant(at.getTime())) {
    throw invalidInput(
      `${field} must be an ISO 8601 timestamp from ${FIRST_DAY} to ${LAST_DAY}, e.g. 2026-11-23T12:00:00Z`,
      [{ field, message: `not a valid time: ${value.slice(0, 40)}` }],
    );
  }
  return at;
}
