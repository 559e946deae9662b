/**
 * PostgreSQL array literals, written here for statements that take a column of many values as one
 * parameter (`unnest($1::text[], $2::text[], …)`).
 *
 * Why: a batch then goes as one statement text whatever its size, which the server prepares once
 * per connection (a multi-row VALUES list is a new text for every row count, parsed and planned
 * each time), and the driver's own encoding of a long array costs more than this. Rows of long
 * text full of quotes (JSON) go cheaper still as one JSON parameter (`json_to_recordset`).
 */

const ESCAPED = /["\\]/;
const ESCAPED_ALL = /["\\]/g;

function quoted(value: string): string {
  return ESCAPED.test(value) ? `"${value.replace(ESCAPED_ALL, '\\$&')}"` : `"${value}"`;
}

/** Each value quoted, with `"` and `\` backslash-escaped. */
export function textArray(values: readonly string[]): string {
  if (values.length === 0) return '{}';
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) literal += ',';
    literal += quoted(values[i]!);
  }
  return `${literal}}`;
}

export function booleanArray(values: readonly boolean[]): string {
  return `{${values.map((value) => (value ? 't' : 'f')).join(',')}}`;
}

/** Safe integers (for `::int[]`, `::bigint[]`). */
export function integerArray(values: readonly number[]): string {
  for (const value of values) {
    if (!Number.isSafeInteger(value)) throw new TypeError(`not a safe integer: ${value}`);
  }
  return `{${values.join(',')}}`;
}
