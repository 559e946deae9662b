import type { Readable } from 'node:stream';
import { TLPS } from '@vytis/contracts';
import { parse as parseCsv } from 'csv-parse';
import { AppError } from '../../errors.ts';

/** The formats an indicator file may come in. */
export const BULK_FORMATS = ['csv', 'ndjson', 'lines'] as const;
export type BulkFormat = (typeof BULK_FORMATS)[number];

export type BulkRecord =
  | { line: number; type: string; value: string; comment?: string; tlp?: string; toIds?: boolean }
  | { line: number; error: string };

const TLP_SET = new Set<string>(TLPS);
const NDJSON_FIELDS = new Set(['type', 'value', 'comment', 'tlp', 'toIds']);

/** The format a file's name or a request's media type implies; null when neither says. */
export function formatOf(nameOrMediaType: string): BulkFormat | null {
  const lower = nameOrMediaType.toLowerCase();
  if (lower.endsWith('.csv') || lower.startsWith('text/csv')) return 'csv';
  if (
    /\.(nd)?jsonl?$/.test(lower) ||
    lower.startsWith('application/x-ndjson') ||
    lower.startsWith('application/jsonl')
  )
    return 'ndjson';
  if (lower.endsWith('.txt') || lower.startsWith('text/plain')) return 'lines';
  return null;
}

/** Counts what flows through, and refuses more than `maxBytes`. */
async function* limited(source: Readable, maxBytes: number, onBytes: (bytes: number) => void) {
  let bytes = 0;
  for await (const chunk of source) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    bytes += buffer.length;
    if (bytes > maxBytes) {
      throw new AppError('payload_too_large', `the file is larger than the limit of ${maxBytes} bytes`);
    }
    onBytes(bytes);
    yield buffer;
  }
}

/** Text lines with their 1-based numbers; a BOM and `\r\n` are handled, empty lines skipped. */
async function* lines(chunks: AsyncIterable<Buffer>): AsyncGenerator<{ line: number; text: string }> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let rest = '';
  let line = 0;
  let first = true;
  for await (const chunk of chunks) {
    let text = rest + decoder.decode(chunk, { stream: true });
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      line++;
      const raw = text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl);
      if (raw.trim() !== '') yield { line, text: raw };
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.decode();
  if (rest.trim() !== '') yield { line: line + 1, text: rest.endsWith('\r') ? rest.slice(0, -1) : rest };
}

/**
 * The records of an indicator file, streamed: each with its line number, or what is wrong with
 * that line. CSV is `type,value[,comment]` (a header row is skipped); NDJSON is one
 * `{"type","value","comment"?,"tlp"?,"toIds"?}` per line; `lines` is one value per line of `type`.
 */
export async function* bulkRecords(
  source: Readable,
  options: {
    format: BulkFormat;
    type?: string | undefined;
    maxBytes: number;
    onBytes?: (bytes: number) => void;
  },
): AsyncGenerator<BulkRecord> {
  const chunks = limited(source, options.maxBytes, options.onBytes ?? (() => {}));
  if (options.format === 'csv') {
    yield* csvRecords(chunks);
    return;
  }
  for await (const { line, text } of lines(chunks)) {
    if (options.format === 'lines') {
      yield { line, type: options.type ?? '', value: text };
      continue;
    }
    yield ndjsonRecord(line, text);
  }
}

function ndjsonRecord(line: number, text: string): BulkRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {
      line,
      error: 'is not JSON: each line must be an object like {"type":"domain","value":"example.org"}',
    };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { line, error: 'must be a JSON object with type and value' };
  }
  const record = parsed as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !NDJSON_FIELDS.has(key));
  if (unknown.length > 0)
    return { line, error: `unknown field ${unknown.join(', ')}; fields: ${[...NDJSON_FIELDS].join(', ')}` };
  const { type, value, comment, tlp, toIds } = record;
  if (typeof type !== 'string') return { line, error: 'type must be a string (a MISP attribute type)' };
  if (typeof value !== 'string') return { line, error: 'value must be a string' };
  if (comment !== undefined && typeof comment !== 'string')
    return { line, error: 'comment must be a string' };
  if (tlp !== undefined && (typeof tlp !== 'string' || !TLP_SET.has(tlp))) {
    return { line, error: `tlp must be one of ${TLPS.join(', ')}` };
  }
  if (toIds !== undefined && typeof toIds !== 'boolean')
    return { line, error: 'toIds must be true or false' };
  return {
    line,
    type,
    value,
    ...(comment !== undefined ? { comment } : {}),
    ...(tlp !== undefined ? { tlp } : {}),
    ...(toIds !== undefined ? { toIds } : {}),
  };
}

async function* csvRecords(chunks: AsyncIterable<Buffer>): AsyncGenerator<BulkRecord> {
  const parser = parseCsv({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true });
  const feeding = (async () => {
    try {
      for await (const chunk of chunks) {
        if (!parser.write(chunk)) await new Promise((resolve) => parser.once('drain', resolve));
      }
      parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();
  let first = true;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      const line = info.lines;
      if (first) {
        first = false;
        if (record[0]?.trim().toLowerCase() === 'type') continue;
      }
      if (record.length < 2 || record.length > 3) {
        yield { line, error: `has ${record.length} field(s); a CSV line is type,value[,comment]` };
        continue;
      }
      const [type, value, comment] = record as [string, string, string | undefined];
      yield {
        line,
        type: type.trim(),
        value,
        ...(comment !== undefined && comment !== '' ? { comment } : {}),
      };
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    const where = (error as { lines?: number }).lines;
    throw new AppError(
      'invalid_input',
      `the CSV cannot be read${where ? ` at line ${where}` : ''}: ${(error as Error).message}`,
      where ? [{ field: `body/lines/${where}`, line: where, message: (error as Error).message }] : undefined,
    );
  }
  await feeding;
}
