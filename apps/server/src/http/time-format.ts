import { isStorableInstant } from '../platform/days.ts';

/** The part of an Ajv instance (Fastify's `ajv.onCreate` hands one over) this module uses. */
interface FormatRegistry {
  formats: Record<string, unknown>;
  addFormat(name: string, format: { type: 'string'; validate: (value: string) => boolean }): unknown;
}

export const TIME_FORMAT_HINT =
  'must be an RFC 3339 time with an offset, e.g. 2026-11-23T12:00:00Z, from the year 1000 to 9998 (UTC)';

/** Milliseconds of an RFC 3339 text JavaScript understands, or NaN (second 60 included: JS has none). */
export function instantOf(text: string): number {
  return Date.parse(text.toUpperCase().replace(' ', 'T'));
}

/**
 * Narrows Ajv's `date-time` format (ajv-formats: RFC 3339, checked field by field) to instants in
 * range, judged after the offset is applied: `9998-12-31T23:59:59-14:00` is in the year 9999 UTC,
 * and `0000-01-01T00:00:00Z` is in no year PostgreSQL has.
 */
export function registerStorableTimeFormat(ajv: FormatRegistry) {
  const rfc3339 = ajv.formats['date-time'] as { validate?: unknown } | undefined;
  if (typeof rfc3339?.validate !== 'function') throw new Error('ajv-formats did not register date-time');
  const isRfc3339 = rfc3339.validate as (value: string) => boolean;
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (value: string) => isRfc3339(value) && isStorableInstant(instantOf(value)),
  });
}

/**
 * Narrows ajv-formats' `uuid` (which also takes a `urn:uuid:` prefix) to the bare form the API
 * gives out, lower case: what PostgreSQL's uuid type reads, and what compares equal in JavaScript
 * to the ids the node answers with (a bulk result per id, a set of ids).
 */
export function registerStorableUuidFormat(ajv: FormatRegistry) {
  ajv.addFormat('uuid', {
    type: 'string',
    validate: (value: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value),
  });
}
