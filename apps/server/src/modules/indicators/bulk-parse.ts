import type { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { TLPS } from '@vytis/contracts';
import { AppError } from '../../errors.ts';

/** The formats an indicator file may come in. */
export const BULK_FORMATS = ['csv', 'ndjson', 'lines'] as const;
export type BulkFormat = (typeof BULK_FORMATS)[number];

export type BulkRecord =
  | {
      line: number;
      type: string;
      value: string;
      comment?: string;
      tlp?: string;
      toIds?: boolean;
      /** Exported from an exercise case (the `exercise` field of an export's line). */
      exercise?: boolean;
    }
  | { line: number; error: string };

interface BulkOptions {
  format: BulkFormat;
  type?: string | undefined;
  maxBytes: number;
  /** The most records a file may hold (MAX_RECORDS unless a test or an operator says fewer). */
  maxRecords?: number | undefined;
  onBytes?: (bytes: number) => void;
}

const TLP_SET = new Set<string>(TLPS);
const NDJSON_FIELDS = new Set(['type', 'value', 'comment', 'tlp', 'toIds', 'exercise']);

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

/**
 * The file as text, one piece per chunk read: UTF-8 (invalid bytes become U+FFFD), or UTF-16LE
 * when it starts with that byte order mark; a byte order mark is dropped.
 */
async function* decoded(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let decoder: TextDecoder | undefined;
  let head = Buffer.alloc(0);
  for await (const chunk of chunks) {
    if (!decoder) {
      // The byte order mark decides the encoding: wait for its bytes.
      head = Buffer.concat([head, chunk]);
      if (head.length < 3) continue;
      decoder = new TextDecoder(head[0] === 0xff && head[1] === 0xfe ? 'utf-16le' : 'utf-8');
      yield decoder.decode(head, { stream: true });
      continue;
    }
    yield decoder.decode(chunk, { stream: true });
  }
  if (!decoder) {
    decoder = new TextDecoder('utf-8');
    yield decoder.decode(head, { stream: true });
  }
  yield decoder.decode();
}

/**
 * The longest line (or CSV record) a file may have, in UTF-16 code units. A value is at most 2 KiB
 * and a comment 2000 characters, so a real line is far shorter; a longer one is refused at once,
 * before more of it is kept, so a file that is one huge line costs no more than its first 64 KiB.
 */
export const MAX_LINE_CHARS = 64 * 1024;

function lineTooLong(line: number): AppError {
  const message = `is longer than ${MAX_LINE_CHARS} characters; each line holds one indicator`;
  return new AppError('invalid_input', `line ${line} ${message}; nothing was imported`, [
    { field: `body/lines/${line}`, line, message },
  ]);
}

/**
 * Text lines with their 1-based numbers, a batch per chunk; `\r\n` is handled, empty lines skipped.
 * Each piece is searched once: the unfinished line is kept as pieces, not searched again.
 */
async function* lineBatches(texts: AsyncIterable<string>): AsyncGenerator<{ line: number; text: string }[]> {
  let rest: string[] = [];
  let restLength = 0;
  let line = 0;
  for await (const piece of texts) {
    const batch: { line: number; text: string }[] = [];
    let start = 0;
    for (let nl = piece.indexOf('\n'); nl !== -1; nl = piece.indexOf('\n', start)) {
      line++;
      if (restLength + nl - start > MAX_LINE_CHARS + 1) throw lineTooLong(line);
      let whole = piece.slice(start, nl);
      if (rest.length > 0) {
        whole = rest.join('') + whole;
        rest = [];
        restLength = 0;
      }
      const raw = whole.endsWith('\r') ? whole.slice(0, -1) : whole;
      if (raw.trim() !== '') batch.push({ line, text: raw });
      start = nl + 1;
    }
    if (start < piece.length) {
      restLength += piece.length - start;
      if (restLength > MAX_LINE_CHARS + 1) throw lineTooLong(line + 1);
      rest.push(piece.slice(start));
    }
    if (batch.length > 0) yield batch;
  }
  const last = rest.join('');
  if (last.trim() !== '') yield [{ line: line + 1, text: last.endsWith('\r') ? last.slice(0, -1) : last }];
}

/**
 * The records of an indicator file, streamed in batches (one per chunk read): each with its line
 * number, or what is wrong with that line. CSV is `type,value[,comment]` (a header row is
 * skipped); NDJSON is one `{"type","value","comment"?,"tlp"?,"toIds"?,"exercise"?}` per line (as exported); `lines` is one
 * value per line of `type`.
 */
export async function* bulkRecordBatches(
  source: Readable,
  options: BulkOptions,
): AsyncGenerator<BulkRecord[]> {
  const maxRecords = options.maxRecords ?? MAX_RECORDS;
  let records = 0;
  for await (const batch of recordBatches(source, options)) {
    records += batch.length;
    if (records > maxRecords) throw tooManyRecords(maxRecords);
    yield batch;
  }
}

/**
 * The most indicators one file may hold. An import is checked whole before anything is written,
 * so its rows are in memory at once (about 100 bytes each): this bounds what one file costs the
 * node, whatever its byte size. Larger sets are imported as several files.
 */
export const MAX_RECORDS = 1_000_000;

function tooManyRecords(max: number): AppError {
  return new AppError(
    'payload_too_large',
    `the file holds more than ${max} indicators; split it into files of at most ${max} lines and import each; nothing was imported`,
  );
}

async function* recordBatches(source: Readable, options: BulkOptions): AsyncGenerator<BulkRecord[]> {
  const texts = decoded(limited(source, options.maxBytes, options.onBytes ?? (() => {})));
  if (options.format === 'csv') {
    yield* csvRecordBatches(texts);
    return;
  }
  const type = options.type ?? '';
  for await (const lines of lineBatches(texts)) {
    yield options.format === 'lines'
      ? lines.map(({ line, text }) => ({ line, type, value: text }))
      : lines.map(({ line, text }) => ndjsonRecord(line, text));
  }
}

const BACKSLASH = 92;
const OPENERS = new Set([91, 123]);
const CLOSERS = new Set([93, 125]);

/** Whether arrays or objects nest deeper than `limit` in a JSON text: one pass, strings skipped. */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (OPENERS.has(code)) {
      if (++depth > limit) return true;
    } else if (CLOSERS.has(code)) depth--;
  }
  return false;
}

function ndjsonRecord(line: number, text: string): BulkRecord {
  // Every field of a record is a plain value: anything nested is refused before it is parsed.
  if (nestsDeeperThan(text, 1)) {
    return {
      line,
      error:
        'nests arrays or objects; each line must be one flat object like {"type":"domain","value":"example.org"}',
    };
  }
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
  const { type, value, comment, tlp, toIds, exercise } = record;
  if (typeof type !== 'string') return { line, error: 'type must be a string (a MISP attribute type)' };
  if (typeof value !== 'string') return { line, error: 'value must be a string' };
  if (comment !== undefined && typeof comment !== 'string')
    return { line, error: 'comment must be a string' };
  if (tlp !== undefined && (typeof tlp !== 'string' || !TLP_SET.has(tlp))) {
    return { line, error: `tlp must be one of ${TLPS.join(', ')}` };
  }
  if (toIds !== undefined && typeof toIds !== 'boolean')
    return { line, error: 'toIds must be true or false' };
  if (exercise !== undefined && typeof exercise !== 'boolean')
    return { line, error: 'exercise must be true or false' };
  return {
    line,
    type,
    value,
    ...(comment !== undefined ? { comment } : {}),
    ...(tlp !== undefined ? { tlp } : {}),
    ...(toIds !== undefined ? { toIds } : {}),
    ...(exercise !== undefined ? { exercise } : {}),
  };
}

async function* csvRecordBatches(texts: AsyncIterable<string>): AsyncGenerator<BulkRecord[]> {
  const reader = new CsvReader();
  let first = true;
  const records = (rows: CsvRow[]) => {
    const batch: BulkRecord[] = [];
    for (const { fields, line } of rows) {
      if (first) {
        first = false;
        if (fields[0]?.trim().toLowerCase() === 'type') continue;
      }
      if (fields.length < 2 || fields.length > 3) {
        batch.push({ line, error: `has ${fields.length} field(s); a CSV line is type,value[,comment]` });
        continue;
      }
      const [type, value, comment] = fields as [string, string, string | undefined];
      batch.push(
        comment !== undefined && comment !== ''
          ? { line, type: type.trim(), value, comment }
          : { line, type: type.trim(), value },
      );
    }
    return batch;
  };
  for await (const text of texts) {
    const batch = records(reader.read(text, false));
    if (batch.length > 0) yield batch;
  }
  const batch = records(reader.read('', true));
  if (batch.length > 0) yield batch;
}

interface CsvRow {
  fields: string[];
  /** The line the record ends on (a quoted field may span lines). */
  line: number;
}

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;
/** How records end in a file: not yet known, `\n`, `\r\n` or `\r`. */
const RecordEnd = { Unknown: 0, Lf: 1, CrLf: 2, Cr: 3 } as const;
type RecordEnd = (typeof RecordEnd)[keyof typeof RecordEnd];

/**
 * RFC 4180 CSV, read piece by piece without looking at any character twice: fields separated by
 * commas, quoted with `"` (`""` inside quotes is one quote, and quotes may span lines); records end
 * with the first of `\r\n`, `\n` or `\r` the file uses; lines without a character are skipped. A
 * quote inside an unquoted field, anything but a comma or the end of the record after a closing
 * quote, and a quote left open at the end are errors (as csv-parse has them).
 */
class CsvReader {
  private recordEnd: RecordEnd = RecordEnd.Unknown;
  private line = 1;
  private fields: string[] = [];
  /** The current field so far. */
  private field = '';
  /** Inside a quoted field. */
  private quoting = false;
  /** The line its opening quote is on. */
  private quoteLine = 0;
  /** The current field was quoted and its closing quote read. */
  private quoted = false;
  /** The last piece's last character, when its meaning depends on the next one. */
  private carry = '';
  /** The last piece ended with a `\r` inside a field: a line break, counted once the next piece shows whether `\n` follows. */
  private pendingCr = false;
  /** The characters of the current record's finished fields, with their commas. */
  private recordLength = 0;

  read(piece: string, end: boolean): CsvRow[] {
    const rows: CsvRow[] = [];
    const text = this.carry === '' ? piece : this.carry + piece;
    this.carry = '';
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text.charCodeAt(0) !== LF) this.line++;
    }
    const length = text.length;
    let i = 0;
    while (i < length) {
      if (this.quoting) {
        const close = text.indexOf('"', i);
        if (close === -1) {
          this.countLines(text, i, length, end);
          this.field += text.slice(i);
          i = length;
          break;
        }
        this.countLines(text, i, close, end);
        this.field += text.slice(i, close);
        if (close + 1 === length && !end) {
          this.carry = '"';
          i = length;
          break;
        }
        if (text.charCodeAt(close + 1) === QUOTE) {
          this.field += '"';
          i = close + 2;
          continue;
        }
        this.quoting = false;
        this.quoted = true;
        i = close + 1;
        continue;
      }
      if (this.quoted) {
        // After a closing quote: the end of the field, or of the record.
        const code = text.charCodeAt(i);
        if (code === COMMA) {
          this.endField();
          i++;
          continue;
        }
        const ending = this.recordEndAt(text, i, end);
        if (ending === -1) {
          this.carry = text.slice(i);
          i = length;
          break;
        }
        if (ending === 0) {
          throw this.error(
            `a closing quote must be followed by a comma or the end of the line, not ${JSON.stringify(text[i])}`,
          );
        }
        this.endRecord(rows);
        i += ending;
        continue;
      }
      // An unquoted field, from its start or from where the last piece ended.
      let start = i;
      for (; i < length; i++) {
        const code = text.charCodeAt(i);
        if (code > QUOTE && code !== COMMA) continue;
        if (code === COMMA) {
          this.field += text.slice(start, i);
          this.endField();
          start = i + 1;
        } else if (code === QUOTE) {
          if (i > start || this.field !== '') {
            this.field += text.slice(start, i);
            throw this.error(
              `a quote inside an unquoted field (${JSON.stringify(this.field)}); quote the whole field and double the quotes in it`,
            );
          }
          this.quoting = true;
          this.quoteLine = this.line;
          i++;
          break;
        } else if (code === LF || code === CR) {
          const ending = this.recordEndAt(text, i, end);
          if (ending === -1) {
            this.field += text.slice(start, i);
            this.carry = text.slice(i);
            start = i = length;
            break;
          }
          if (ending === 0) {
            // A line break that does not end records in this file is part of the field.
            this.countLines(text, i, i + 1, end);
            continue;
          }
          this.field += text.slice(start, i);
          this.endRecord(rows);
          i += ending - 1;
          start = i + 1;
        }
      }
      if (start < i && !this.quoting) this.field += text.slice(start, i);
    }
    this.refuseLongRecord();
    if (end) {
      if (this.quoting) {
        this.line = this.quoteLine;
        throw this.error('the quote that opens a field here is not closed by the end of the file');
      }
      if (this.quoted || this.field !== '' || this.fields.length > 0) this.endRecord(rows, false);
    }
    return rows;
  }

  /** How long the record ending at `i` is: 0 when there is none, -1 when the next piece decides. */
  private recordEndAt(text: string, i: number, end: boolean): number {
    const code = text.charCodeAt(i);
    const last = i + 1 === text.length;
    switch (this.recordEnd) {
      case RecordEnd.Lf:
        return code === LF ? 1 : 0;
      case RecordEnd.Cr:
        return code === CR ? 1 : 0;
      case RecordEnd.CrLf:
        if (code !== CR) return 0;
        if (last) return end ? 0 : -1;
        return text.charCodeAt(i + 1) === LF ? 2 : 0;
      default:
        if (code === LF) {
          this.recordEnd = RecordEnd.Lf;
          return 1;
        }
        if (code !== CR) return 0;
        if (last && !end) return -1;
        this.recordEnd = !last && text.charCodeAt(i + 1) === LF ? RecordEnd.CrLf : RecordEnd.Cr;
        return this.recordEnd === RecordEnd.CrLf ? 2 : 1;
    }
  }

  /** Counts the line breaks in text[from, to): `\n`, `\r\n` and `\r` alone are one each. */
  private countLines(text: string, from: number, to: number, end: boolean) {
    for (let i = from; i < to; i++) {
      const code = text.charCodeAt(i);
      if (code === LF) this.line++;
      else if (code === CR) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) !== LF) this.line++;
        } else if (end) this.line++;
        else this.pendingCr = true;
      }
    }
  }

  /** A record longer than a line may be is refused as soon as it is seen, before more is kept. */
  private refuseLongRecord() {
    if (this.recordLength + this.field.length <= MAX_LINE_CHARS) return;
    throw this.error(`the line is longer than ${MAX_LINE_CHARS} characters; each line holds one indicator`);
  }

  private endField() {
    this.recordLength += this.field.length + 1;
    this.fields.push(this.field);
    this.field = '';
    this.quoted = false;
  }

  /** Ends the record (and the line, unless at the end of the file); an empty line is skipped. */
  private endRecord(rows: CsvRow[], lineEnds = true) {
    if (this.fields.length > 0 || this.field !== '' || this.quoted) {
      this.endField();
      this.refuseLongRecord();
      rows.push({ fields: this.fields, line: this.line });
      this.fields = [];
      this.recordLength = 0;
    }
    if (lineEnds) this.line++;
  }

  private error(message: string) {
    return new AppError('invalid_input', `the CSV cannot be read at line ${this.line}: ${message}`, [
      { field: `body/lines/${this.line}`, line: this.line, message },
    ]);
  }
}
