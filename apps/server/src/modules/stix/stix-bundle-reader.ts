/**
 * The objects of a STIX 2.1 bundle read from a byte stream, one at a time, without ever holding the
 * whole input: an import of a bundle of millions of objects needs memory for the largest object only.
 *
 * A small hand-written scanner rather than a streaming library (stream-json and the like): all it
 * has to find is where each element of the top-level `objects` array begins and ends, which takes
 * string/escape state and a bracket stack, about a hundred lines; each element is then handed whole
 * to JSON.parse, which does the real parsing (fast, native, and no recursion of ours). It works on
 * bytes, where every JSON delimiter is ASCII and every byte of a multi-byte UTF-8 character is ≥ 0x80,
 * so a character split across chunks needs no care until an element is decoded as a whole. The
 * nesting limit is checked as the bytes go by, before JSON.parse sees them; the size limit too.
 *
 * The top-level keys may come in any order, so an `objects` array before `"type": "bundle"` is read
 * before the reader knows whether the input is a bundle at all. The caller must therefore not write
 * anything before the generator has finished: an error at the end invalidates the objects already
 * yielded.
 */

export interface BundleReadLimits {
  /** How deep an object may nest, counting the object itself as 1. */
  maxDepth: number;
  /** How many bytes of JSON text one object (or any other top-level value) may take. */
  maxObjectBytes: number;
}

export const DEFAULT_BUNDLE_LIMITS: BundleReadLimits = { maxDepth: 64, maxObjectBytes: 8 * 1024 * 1024 };

export interface BundleObject {
  /** Its position in `objects`, from 0. */
  index: number;
  /** As parsed; `type` and `id` are not checked here (the mapping refuses an object without them). */
  object: Record<string, unknown> & { type: string; id: string };
  /** Its JSON text exactly as received (numbers, escapes and key order untouched). */
  text: string;
}

export class BundleError extends Error {
  constructor(
    message: string,
    readonly objectIndex?: number,
  ) {
    super(message);
    this.name = 'BundleError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const BOM = [0xef, 0xbb, 0xbf];

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
const isDelimiter = (b: number) => isSpace(b) || b === COMMA || b === CLOSE_BRACE || b === CLOSE_BRACKET;
const showByte = (b: number) =>
  b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16)}`;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What one value is, while its bytes go by: where it started, its pieces, its bracket stack. */
class Value {
  readonly pieces: Buffer[] = [];
  bytes = 0;
  /** The open brackets, innermost last (OPEN_BRACE or OPEN_BRACKET). */
  readonly stack: number[] = [];
  inString = false;
  escaped = false;
  /** A number, true, false or null: ends at the first delimiter, which belongs to the outside. */
  scalar = false;
  started = false;
  constructor(
    readonly start: number,
    /** Where the value is, for messages: "object 3", "the top-level value of id". */
    readonly what: string,
    readonly objectIndex: number | undefined,
  ) {}
}

type State =
  | 'root' // before the top-level '{'
  | 'key-or-end' // after '{': a key or '}'
  | 'key' // after ',': a key
  | 'in-key'
  | 'colon'
  | 'member' // the value of a top-level key
  | 'element-or-end' // after '[' of objects
  | 'element' // after ',' in objects
  | 'after-element'
  | 'after-member'
  | 'done';

class Scanner {
  private state: State = 'root';
  /** Bytes consumed before the current chunk. */
  private offset = 0;
  private key: Value | null = null;
  private keyName = '';
  private value: Value | null = null;
  private index = 0;
  /** The text of the value last parsed: an object is kept as it came. */
  private lastText = '';
  private readonly seen = new Set<string>();
  private type: unknown;
  /** How many bytes of a UTF-8 byte order mark the input started with (tolerated before the bundle). */
  private bom = 0;

  constructor(private readonly limits: BundleReadLimits) {}

  private fail(message: string, objectIndex?: number): never {
    throw new BundleError(message, objectIndex);
  }
  private notJson(what: string, at: number): never {
    this.fail(`not JSON: ${what} at byte ${at}`, this.value?.objectIndex);
  }

  feed(chunk: Buffer): BundleObject[] {
    const out: BundleObject[] = [];
    let i = 0;
    // A value in progress at the end of the last chunk goes on.
    if (this.value) i = this.scanValue(this.value, chunk, i, out);
    while (i < chunk.length) {
      const b = chunk[i]!;
      const at = this.offset + i;
      switch (this.state) {
        case 'root':
          if (isSpace(b)) break;
          if (at === this.bom && at < 3 && b === BOM[at]) {
            this.bom++;
            break;
          }
          if (b === OPEN_BRACE) this.state = 'key-or-end';
          else if (b === OPEN_BRACKET || b === QUOTE || (b >= 0x30 && b <= 0x39) || b === 0x2d)
            this.fail('the top level is not a JSON object; a STIX bundle is {"type": "bundle", …}');
          else this.notJson(`unexpected ${showByte(b)}`, at);
          break;
        case 'key-or-end':
        case 'key':
          if (isSpace(b)) break;
          if (b === QUOTE) {
            this.key = new Value(at, 'a top-level key', undefined);
            this.state = 'in-key';
          } else if (b === CLOSE_BRACE && this.state === 'key-or-end') this.finishRoot();
          else this.notJson(`expected a key, found ${showByte(b)}`, at);
          break;
        case 'in-key': {
          const end = this.scanString(this.key!, chunk, i);
          if (end === -1) {
            i = chunk.length;
            continue;
          }
          this.keyName = this.parse(this.key!, this.key!.start) as string;
          this.key = null;
          if (this.seen.has(this.keyName))
            this.fail(`the bundle has the key ${JSON.stringify(this.keyName)} twice`);
          this.seen.add(this.keyName);
          this.state = 'colon';
          i = end + 1;
          continue;
        }
        case 'colon':
          if (isSpace(b)) break;
          if (b !== COLON) this.notJson(`expected ':', found ${showByte(b)}`, at);
          this.state = 'member';
          break;
        case 'member':
          if (isSpace(b)) break;
          if (this.keyName === 'objects') {
            if (b !== OPEN_BRACKET)
              this.fail('objects is not an array; a bundle holds its objects in "objects": […]');
            this.state = 'element-or-end';
            break;
          }
          this.value = new Value(at, `the top-level value of ${this.keyName}`, undefined);
          i = this.scanValue(this.value, chunk, i, out);
          continue;
        case 'element-or-end':
        case 'element':
          if (isSpace(b)) break;
          if (b === CLOSE_BRACKET && this.state === 'element-or-end') {
            this.state = 'after-member';
            break;
          }
          if (b !== OPEN_BRACE) {
            if (b === CLOSE_BRACKET) this.notJson('a comma before ]', at);
            this.fail(
              `object ${this.index} is not a JSON object (it starts with ${showByte(b)}); every element of objects must be a STIX object`,
              this.index,
            );
          }
          this.value = new Value(at, `object ${this.index}`, this.index);
          i = this.scanValue(this.value, chunk, i, out);
          continue;
        case 'after-element':
          if (isSpace(b)) break;
          if (b === COMMA) this.state = 'element';
          else if (b === CLOSE_BRACKET) this.state = 'after-member';
          else this.notJson(`expected ',' or ']' after object ${this.index - 1}, found ${showByte(b)}`, at);
          break;
        case 'after-member':
          if (isSpace(b)) break;
          if (b === COMMA) this.state = 'key';
          else if (b === CLOSE_BRACE) this.finishRoot();
          else this.notJson(`expected ',' or '}', found ${showByte(b)}`, at);
          break;
        case 'done':
          if (!isSpace(b)) this.notJson(`unexpected ${showByte(b)} after the end of the bundle`, at);
          break;
      }
      i++;
    }
    this.offset += chunk.length;
    return out;
  }

  /**
   * Scans the value's bytes from chunk[from]; returns where the outside goes on. When the
   * value ends, it is parsed and dispatched (an element to `out`, a member to the bundle's checks).
   */
  private scanValue(value: Value, chunk: Buffer, from: number, out: BundleObject[]): number {
    const { maxDepth } = this.limits;
    let i = from;
    let ended = false;
    let endExclusive = chunk.length;
    if (!value.started) {
      value.started = true;
      const first = chunk[i]!;
      if (first === QUOTE) {
        value.inString = true;
        i++;
      } else if (first === OPEN_BRACE || first === OPEN_BRACKET) {
        value.stack.push(first);
        i++;
      } else {
        value.scalar = true;
      }
    }
    for (; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (value.inString) {
        if (value.escaped) value.escaped = false;
        else if (b === BACKSLASH) value.escaped = true;
        else if (b === QUOTE) {
          value.inString = false;
          if (value.stack.length === 0) {
            ended = true;
            endExclusive = i + 1;
            break;
          }
        }
        continue;
      }
      if (value.scalar) {
        if (isDelimiter(b)) {
          ended = true;
          endExclusive = i;
          break;
        }
        continue;
      }
      if (b === QUOTE) value.inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        if (value.stack.length >= maxDepth)
          this.fail(
            `${value.what} nests deeper than ${maxDepth} levels (at byte ${this.offset + i}); the limit is ${maxDepth}`,
            value.objectIndex,
          );
        value.stack.push(b);
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        const open = value.stack.pop();
        if (open !== (b === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET))
          this.notJson(`unexpected ${showByte(b)}`, this.offset + i);
        if (value.stack.length === 0) {
          ended = true;
          endExclusive = i + 1;
          break;
        }
      }
    }
    const taken = endExclusive - from;
    value.bytes += taken;
    if (value.bytes > this.limits.maxObjectBytes)
      this.fail(
        `${value.what} is larger than ${this.limits.maxObjectBytes} bytes (the limit of one object)`,
        value.objectIndex,
      );
    if (taken > 0) value.pieces.push(chunk.subarray(from, endExclusive));
    if (!ended) return chunk.length;
    this.value = null;
    const parsed = this.parse(value, value.start);
    if (value.objectIndex !== undefined) {
      out.push({ index: value.objectIndex, object: parsed as BundleObject['object'], text: this.lastText });
      this.index++;
      this.state = 'after-element';
    } else {
      this.member(this.keyName, parsed);
      this.state = 'after-member';
    }
    return endExclusive;
  }

  /** The key's string, scanned from chunk[from]; returns the index of its closing quote, or -1. */
  private scanString(value: Value, chunk: Buffer, from: number): number {
    let i = from;
    if (value.pieces.length === 0 && value.bytes === 0) value.pieces.push(Buffer.from('"'));
    for (; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (value.escaped) value.escaped = false;
      else if (b === BACKSLASH) value.escaped = true;
      else if (b === QUOTE) break;
    }
    const end = i < chunk.length ? i : -1;
    const piece = chunk.subarray(from, end === -1 ? chunk.length : end + 1);
    value.bytes += piece.length;
    if (value.bytes > this.limits.maxObjectBytes)
      this.fail(`a top-level key is larger than ${this.limits.maxObjectBytes} bytes`);
    value.pieces.push(piece);
    return end;
  }

  private parse(value: Value, at: number): unknown {
    const bytes = value.pieces.length === 1 ? value.pieces[0]! : Buffer.concat(value.pieces);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      this.fail(`${value.what} (from byte ${at}) is not valid UTF-8 text`, value.objectIndex);
    }
    try {
      this.lastText = text;
      return JSON.parse(text);
    } catch (error) {
      const position = /position (\d+)/.exec((error as Error).message);
      const where = position ? at + Buffer.byteLength(text.slice(0, Number(position[1]))) : at;
      const what = (error as Error).message.replace(/ in JSON at position \d+.*$/, '');
      this.fail(`not JSON: ${what} at byte ${where} (in ${value.what})`, value.objectIndex);
    }
  }

  /** A top-level member other than objects: type and spec_version are checked as soon as they are read. */
  private member(key: string, value: unknown) {
    if (key === 'type') {
      this.type = value;
      this.checkType();
    } else if (key === 'spec_version') {
      this.fail(
        'this is a STIX 2.0 bundle (its bundle has spec_version); Vytis reads STIX 2.1, where spec_version is on each object',
      );
    }
  }

  private checkType() {
    if (this.type !== 'bundle')
      this.fail(
        this.type === undefined
          ? 'the top-level object has no type; a STIX bundle is {"type": "bundle", …}'
          : `the top-level type is ${JSON.stringify(this.type)}, not "bundle"; give a STIX bundle`,
      );
  }

  private finishRoot() {
    this.checkType();
    if (!this.seen.has('objects')) this.fail('the bundle has no objects; give its objects as "objects": […]');
    this.state = 'done';
  }

  end() {
    if (this.state === 'done') return;
    if (this.state === 'root' && this.offset === 0) this.fail('not JSON: the input is empty');
    if (this.state === 'root') this.fail('not JSON: the input is only whitespace');
    this.fail(
      `not JSON: the input ends at byte ${this.offset} inside ${this.value ? this.value.what : 'the bundle'}`,
      this.value?.objectIndex,
    );
  }
}

/** The objects of one STIX bundle from a byte stream, one at a time, in order; memory bounded by the largest object. */
export async function* readBundleObjects(
  source: AsyncIterable<Buffer | string>,
  limits: Partial<BundleReadLimits> = {},
): AsyncGenerator<BundleObject> {
  const scanner = new Scanner({ ...DEFAULT_BUNDLE_LIMITS, ...limits });
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (bytes.length === 0) continue;
    yield* scanner.feed(bytes);
  }
  scanner.end();
}
