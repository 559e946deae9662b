/**
 * STIX 2.1 patterning (§9): quoting values into patterns, and a parser of the pattern grammar
 * (OASIS `STIXPattern.g4`) for observation expressions joined by AND, OR and FOLLOWEDBY, comparison
 * expressions with every comparison operator, and every literal; qualifiers (WITHIN, REPEATS,
 * START/STOP) are reported as unsupported. It returns the parsed expression, so an import can read
 * simple comparisons back, and checks the rule the grammar cannot: comparisons joined by AND in one
 * observation expression are about one object type (§9.5).
 */

/** A string literal (§9.3): in single quotes, with `\` and `'` escaped by a backslash — nothing else is. */
export function quote(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** A property name in an object path: bare when the grammar allows it, else quoted (`hashes.'SHA-256'`). */
export function pathStep(name: string): string {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) ? name : quote(name);
}

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'timestamp'; value: string }
  | { kind: 'hex'; value: string }
  | { kind: 'binary'; value: string };

export type PathStep = { kind: 'property'; name: string } | { kind: 'index'; index: number | '*' };

export interface ObjectPath {
  objectType: string;
  steps: PathStep[];
}

export type Comparison =
  | { kind: 'and' | 'or'; left: Comparison; right: Comparison }
  | { kind: 'test'; path: ObjectPath; negated: boolean; operator: string; value: Literal | Literal[] }
  | { kind: 'exists'; path: ObjectPath };

export type Observation =
  | { kind: 'and' | 'or' | 'followedby'; left: Observation; right: Observation }
  | { kind: 'observation'; comparison: Comparison };

export type ParseResult = { ok: true; pattern: Observation } | { ok: false; message: string };

interface Token {
  kind: 'word' | 'string' | 'number' | 'punct' | 'typed';
  text: string;
  /** The decoded value of a string, or the prefix letter of t'', h'', b''. */
  value?: string;
  at: number;
}

class PatternError extends Error {}

const PUNCT = ['>=', '<=', '!=', '==', '[', ']', '(', ')', ':', '.', ',', '=', '<', '>', '*'];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === "'" || (/[thb]/.test(c) && text[i + 1] === "'")) {
      const prefix = c === "'" ? '' : c;
      i += prefix ? 2 : 1;
      let value = '';
      for (;;) {
        if (i >= text.length) throw new PatternError(`unterminated string starting at ${at}`);
        const d = text[i]!;
        if (d === "'") {
          i++;
          break;
        }
        if (d === '\\') {
          const next = text[i + 1];
          if (next !== '\\' && next !== "'")
            throw new PatternError(`invalid escape \\${next ?? ''} at ${i}: only \\\\ and \\' are allowed`);
          value += next;
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      tokens.push(
        prefix ? { kind: 'typed', text: prefix, value, at } : { kind: 'string', text: value, value, at },
      );
      continue;
    }
    const number = /^[+-]?(?:\d+\.\d+|\.\d+|0|[1-9]\d*)/.exec(text.slice(i));
    if (number && (c !== '+' && c !== '-' ? true : /\d|\./.test(text[i + 1] ?? ''))) {
      tokens.push({ kind: 'number', text: number[0], at });
      i += number[0].length;
      continue;
    }
    const word = /^[a-zA-Z_][a-zA-Z0-9_-]*/.exec(text.slice(i));
    if (word) {
      tokens.push({ kind: 'word', text: word[0], at });
      i += word[0].length;
      continue;
    }
    const punct = PUNCT.find((p) => text.startsWith(p, i));
    if (!punct) throw new PatternError(`unexpected character ${JSON.stringify(c)} at ${i}`);
    tokens.push({ kind: 'punct', text: punct, at });
    i += punct.length;
  }
  return tokens;
}

const TIMESTAMP =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?Z$/;
const KEYWORDS = new Set([
  'AND',
  'OR',
  'NOT',
  'FOLLOWEDBY',
  'LIKE',
  'MATCHES',
  'ISSUPERSET',
  'ISSUBSET',
  'EXISTS',
  'IN',
  'START',
  'STOP',
  'WITHIN',
  'REPEATS',
  'TIMES',
  'SECONDS',
]);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0) {
    return this.tokens[this.i + offset];
  }
  private isWord(text: string) {
    const t = this.peek();
    return t?.kind === 'word' && t.text === text;
  }
  private isPunct(text: string) {
    const t = this.peek();
    return t?.kind === 'punct' && t.text === text;
  }
  private fail(expected: string): never {
    const t = this.peek();
    throw new PatternError(
      t ? `expected ${expected} at ${t.at}, found ${t.text}` : `expected ${expected} at the end`,
    );
  }
  private expectPunct(text: string) {
    if (!this.isPunct(text)) this.fail(`'${text}'`);
    this.i++;
  }

  parse(): Observation {
    const result = this.observations();
    if (this.peek()) this.fail('the end of the pattern');
    return result;
  }

  // observationExpressions: FOLLOWEDBY binds loosest, then OR, then AND (left-associative).
  private observations(): Observation {
    let left = this.observationOr();
    while (this.isWord('FOLLOWEDBY')) {
      this.i++;
      left = { kind: 'followedby', left, right: this.observationOr() };
    }
    return left;
  }
  private observationOr(): Observation {
    let left = this.observationAnd();
    while (this.isWord('OR')) {
      this.i++;
      left = { kind: 'or', left, right: this.observationAnd() };
    }
    return left;
  }
  private observationAnd(): Observation {
    let left = this.observation();
    while (this.isWord('AND')) {
      this.i++;
      left = { kind: 'and', left, right: this.observation() };
    }
    return left;
  }
  private observation(): Observation {
    let result: Observation;
    if (this.isPunct('[')) {
      this.i++;
      const comparison = this.comparisonOr();
      this.expectPunct(']');
      sameObjectTypeUnderAnd(comparison);
      result = { kind: 'observation', comparison };
    } else if (this.isPunct('(')) {
      this.i++;
      result = this.observations();
      this.expectPunct(')');
    } else {
      this.fail("'[' or '('");
    }
    if (this.isWord('WITHIN') || this.isWord('REPEATS') || this.isWord('START')) {
      throw new PatternError(`qualifier ${this.peek()!.text} at ${this.peek()!.at} is not supported here`);
    }
    return result;
  }

  private comparisonOr(): Comparison {
    let left = this.comparisonAnd();
    while (this.isWord('OR')) {
      this.i++;
      left = { kind: 'or', left, right: this.comparisonAnd() };
    }
    return left;
  }
  private comparisonAnd(): Comparison {
    let left = this.propTest();
    while (this.isWord('AND')) {
      this.i++;
      left = { kind: 'and', left, right: this.propTest() };
    }
    return left;
  }
  private propTest(): Comparison {
    if (this.isPunct('(')) {
      this.i++;
      const inner = this.comparisonOr();
      this.expectPunct(')');
      return inner;
    }
    if (this.isWord('EXISTS')) {
      this.i++;
      return { kind: 'exists', path: this.objectPath() };
    }
    const path = this.objectPath();
    let negated = false;
    if (this.isWord('NOT')) {
      negated = true;
      this.i++;
    }
    const t = this.peek();
    if (t?.kind === 'punct' && ['=', '==', '!=', '<', '>', '<=', '>='].includes(t.text)) {
      this.i++;
      const value = this.literal();
      const ordered = ['<', '>', '<=', '>='].includes(t.text);
      if (ordered && value.kind === 'bool')
        throw new PatternError(`${t.text} at ${t.at} needs an orderable literal`);
      return { kind: 'test', path, negated, operator: t.text === '==' ? '=' : t.text, value };
    }
    if (t?.kind === 'word' && ['LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET'].includes(t.text)) {
      this.i++;
      const value = this.literal();
      if (value.kind !== 'string') throw new PatternError(`${t.text} at ${t.at} needs a string literal`);
      return { kind: 'test', path, negated, operator: t.text, value };
    }
    if (t?.kind === 'word' && t.text === 'IN') {
      this.i++;
      this.expectPunct('(');
      const values = [this.literal()];
      while (this.isPunct(',')) {
        this.i++;
        values.push(this.literal());
      }
      this.expectPunct(')');
      return { kind: 'test', path, negated, operator: 'IN', value: values };
    }
    return this.fail('a comparison operator');
  }

  private objectPath(): ObjectPath {
    const type = this.peek();
    if (type?.kind !== 'word' || KEYWORDS.has(type.text)) this.fail('an object type');
    if (!/^[a-z0-9-]+$/.test(type.text) || type.text.endsWith('-'))
      throw new PatternError(`object type ${type.text} at ${type.at} is not a STIX type name`);
    this.i++;
    this.expectPunct(':');
    const steps: PathStep[] = [{ kind: 'property', name: this.propertyName(true) }];
    for (;;) {
      if (this.isPunct('.')) {
        this.i++;
        steps.push({ kind: 'property', name: this.propertyName(false) });
      } else if (this.isPunct('[')) {
        this.i++;
        const t = this.peek();
        if (t?.kind === 'punct' && t.text === '*') steps.push({ kind: 'index', index: '*' });
        else if (t?.kind === 'number' && /^[+-]?(0|[1-9]\d*)$/.test(t.text))
          steps.push({ kind: 'index', index: Number(t.text) });
        else this.fail('a list index or *');
        this.i++;
        this.expectPunct(']');
      } else {
        return { objectType: type.text, steps };
      }
    }
  }
  private propertyName(first: boolean): string {
    const t = this.peek();
    if (t?.kind === 'string') {
      this.i++;
      return t.value!;
    }
    if (t?.kind === 'word' && /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(t.text)) {
      this.i++;
      return t.text;
    }
    return this.fail(first ? 'a property name' : 'a property name after .');
  }

  private literal(): Literal {
    const t = this.peek();
    if (!t) return this.fail('a literal');
    this.i++;
    if (t.kind === 'string') return { kind: 'string', value: t.value! };
    if (t.kind === 'number') {
      return t.text.includes('.')
        ? { kind: 'float', value: Number(t.text) }
        : { kind: 'int', value: Number(t.text) };
    }
    if (t.kind === 'word' && (t.text === 'true' || t.text === 'false'))
      return { kind: 'bool', value: t.text === 'true' };
    if (t.kind === 'typed') {
      const value = t.value!;
      if (t.text === 't') {
        if (!TIMESTAMP.test(value))
          throw new PatternError(`t'${value}' at ${t.at} is not an RFC 3339 UTC timestamp`);
        return { kind: 'timestamp', value };
      }
      if (t.text === 'h') {
        if (!/^(?:[0-9a-fA-F]{2})*$/.test(value))
          throw new PatternError(`h'${value}' at ${t.at} is not hex octets`);
        return { kind: 'hex', value };
      }
      if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value))
        throw new PatternError(`b'${value}' at ${t.at} is not base64`);
      return { kind: 'binary', value };
    }
    this.i--;
    return this.fail('a literal');
  }
}

function typesOf(comparison: Comparison, into: Set<string>) {
  if ('left' in comparison) {
    typesOf(comparison.left, into);
    typesOf(comparison.right, into);
  } else {
    into.add(comparison.path.objectType);
  }
}

/** §9.5: the comparisons an AND joins within one observation expression are about one object type. */
function sameObjectTypeUnderAnd(comparison: Comparison) {
  if (comparison.kind === 'or') {
    sameObjectTypeUnderAnd(comparison.left);
    sameObjectTypeUnderAnd(comparison.right);
  } else if (comparison.kind === 'and') {
    const types = new Set<string>();
    typesOf(comparison, types);
    if (types.size > 1)
      throw new PatternError(
        `comparisons joined by AND are about different object types: ${[...types].join(', ')}`,
      );
  }
}

/** Parses a STIX pattern; the message says where and what is wrong. */
export function parsePattern(text: string): ParseResult {
  try {
    return { ok: true, pattern: new Parser(tokenize(text)).parse() };
  } catch (error) {
    if (error instanceof PatternError) return { ok: false, message: error.message };
    throw error;
  }
}
