import type { FastifyBodyParser, FastifyRequest } from 'fastify';
import { invalidInput } from '../errors.ts';

/**
 * How deep a JSON request body may nest. Our own documents nest five or six levels (a request's
 * needs, a framework's rules); sixty-four leaves room for imported ones and keeps every
 * recursive walk after parsing (the text check, validation, jsonb, canonical JSON for the audit
 * chain) shallow.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether a JSON text nests deeper than `limit`: one pass over the characters, no recursion and no
 * parsing, so `[[[[…]]]]` a million deep costs what any other megabyte does.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/**
 * The API's JSON body parser: Fastify's own (secure-json-parse, refusing `__proto__` and
 * `constructor.prototype`), behind a nesting limit checked on the text before anything recursive
 * runs on it.
 */
export function depthLimitedJsonParser(
  parseJson: FastifyBodyParser<string>,
  limit = MAX_JSON_DEPTH,
): FastifyBodyParser<string> {
  return (request: FastifyRequest, body: string, done) => {
    // An empty JSON body is no body: the route's schema then says whether one is needed.
    if (/^\s*$/.test(body)) {
      done(null, undefined);
      return;
    }
    if (nestsDeeperThan(body, limit)) {
      done(
        invalidInput(`request body nests deeper than ${limit} levels of arrays and objects; flatten it`, [
          { field: 'body', message: `nested more than ${limit} levels deep` },
        ]),
        undefined,
      );
      return;
    }
    parseJson(request, body, (error, value) => {
      if (!error) return done(null, value);
      // A refusal names the body, as every 400 names what to fix.
      // Fastify's parser says only "not valid JSON" when it refuses a prototype-poisoning key.
      const forbidden = /"(?:__proto__|prototype)"\s*:/.test(body);
      const message = forbidden
        ? 'uses the reserved key __proto__ or constructor.prototype'
        : 'is not valid JSON';
      done(
        invalidInput(`request body ${message}: ${forbidden ? 'rename the key' : error.message}`, [
          { field: 'body', message },
        ]),
        undefined,
      );
    });
  };
}
