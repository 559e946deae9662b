import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route's answer to a GET is a function of the database, the caller and the URL, and
     * moves with time only as far as `maxAgeMs` allows: the same answer may be sent again while
     * nothing was committed anywhere. Lists many people poll (the board, the cases).
     */
    cachedRead?: boolean;
  }
  interface FastifyRequest {
    /** The data version a cacheable answer is computed at or after; unset when it is not cached. */
    readCacheVersion?: string;
    /** When that version was read: what the answer says of the time is as of then. */
    readCacheAt?: number;
    /** Set on the request that works out an answer others with the same key are waiting for. */
    readCacheComputing?: Computing;
  }
}

export interface ReadCacheOptions {
  /** The database's current data version, from a query sent after the call (dataVersionProbe). */
  dataVersion: () => Promise<string>;
  clock: Clock;
  /**
   * How long an answer may be sent again while the data has not changed: what it says that
   * depends on the time (what the caller may do before a deadline) is at most this late.
   */
  maxAgeMs?: number;
  /** Bytes of answers kept, over all callers; the least recently used go first. */
  maxBytes?: number;
}

interface Computing {
  version: string;
  answer: Promise<Entry | undefined>;
  settle: (entry: Entry | undefined) => void;
}

interface Entry {
  version: string;
  /** The caller it was worked out for (their id). */
  owner: string;
  storedAt: number;
  /** Encoded once: a list of the board runs to tens of kilobytes, and it is sent many times. */
  body: Buffer;
  contentType: string;
}

/**
 * Answers to cacheable GETs, kept per caller and URL and sent again only while the database is at
 * the version they were computed at. Every read still passes the access hook first (a revoked
 * token or a disabled account is refused before this), and a caller's answers are keyed by
 * everything the access policy takes from the caller, so no one is sent an answer made for
 * someone else; whatever else decides what they see is in the database, whose version is checked.
 */
export class ReadCache {
  private readonly entries = new Map<string, Entry>();
  private readonly computing = new Map<string, Computing>();
  /** Each caller's keys, oldest first. */
  private readonly byOwner = new Map<string, Set<string>>();
  private bytes = 0;
  private readonly maxAgeMs: number;
  private readonly maxBytes: number;

  constructor(private readonly options: ReadCacheOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
  }

  register(app: FastifyInstance): void {
    app.addHook('preHandler', this.answerFromCache);
    app.addHook('onSend', this.keepAnswer);
  }

  private readonly answerFromCache = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.routeOptions.config.cachedRead || request.method !== 'GET') return;
    const key = keyOf(request);
    if (key === null) return;
    const version = await this.options.dataVersion();
    let entry = this.fresh(key, version);
    // Many callers missing at once (the data just changed) wait for the one already working it out.
    const underWay = entry ? undefined : this.computing.get(key);
    if (underWay?.version === version) entry = await underWay.answer;
    if (entry) {
      reply.header('content-type', entry.contentType);
      return reply.code(200).send(entry.body);
    }
    request.readCacheVersion = version;
    request.readCacheAt = this.now();
    if (underWay?.version === version) return;
    let settle!: (entry: Entry | undefined) => void;
    const answer = new Promise<Entry | undefined>((resolve) => {
      settle = resolve;
    });
    const computing: Computing = { version, answer, settle };
    this.computing.set(key, computing);
    request.readCacheComputing = computing;
    // An answer that never comes (an error, a caller gone) lets the waiters work it out themselves.
    reply.raw.once('close', () => this.settle(key, computing, undefined));
  };

  private readonly keepAnswer = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const version = request.readCacheVersion;
    if (version === undefined) return payload;
    const key = keyOf(request);
    if (key === null) return payload;
    let entry: Entry | undefined;
    if (reply.statusCode === 200 && typeof payload === 'string') {
      // Memory of its own: a small Buffer.from() would keep a shared 8 KB slab alive.
      const body = Buffer.allocUnsafeSlow(Buffer.byteLength(payload));
      body.write(payload);
      entry = {
        version,
        owner: request.actor.id!,
        storedAt: request.readCacheAt ?? this.now(),
        body,
        contentType: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'),
      };
      this.store(key, entry);
    }
    if (request.readCacheComputing) this.settle(key, request.readCacheComputing, entry);
    return payload;
  };

  private fresh(key: string, version: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.version !== version || Math.abs(this.now() - entry.storedAt) > this.maxAgeMs)
      return undefined;
    // Most recently used last, so the oldest go first when the cache is full.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  private settle(key: string, computing: Computing, entry: Entry | undefined): void {
    if (this.computing.get(key) === computing) this.computing.delete(key);
    computing.settle(entry);
  }

  private store(key: string, entry: Entry): void {
    const size = sizeOf(key, entry);
    if (size > this.maxBytes / 16) return;
    this.forget(key);
    this.entries.set(key, entry);
    this.bytes += size;
    // A caller's own answers make room for each other: one asking for ever new URLs (a query
    // parameter counting up) pushes out only their own.
    let own = this.byOwner.get(entry.owner);
    if (!own) {
      own = new Set();
      this.byOwner.set(entry.owner, own);
    }
    own.add(key);
    if (own.size > ANSWERS_PER_CALLER) this.forget(own.values().next().value!);
    for (const [oldest] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.forget(oldest);
    }
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= sizeOf(key, entry);
    const own = this.byOwner.get(entry.owner);
    own?.delete(key);
    if (own?.size === 0) this.byOwner.delete(entry.owner);
  }

  private now(): number {
    return this.options.clock.now().getTime();
  }
}

/** Answers kept per caller: their lists, filters and pages in use. */
const ANSWERS_PER_CALLER = 16;
/** What an entry costs besides its key and body (the objects and maps holding it). */
const ENTRY_OVERHEAD = 512;

const sizeOf = (key: string, entry: Entry) => key.length + entry.body.length + ENTRY_OVERHEAD;

/** Everything an answer may depend on besides the data: the route, the URL, and who asks. */
function keyOf(request: FastifyRequest): string | null {
  const actor = request.actor;
  // Only a signed-in user's reads are kept: anything else is refused or public.
  if (actor.type !== 'user' || actor.id === null) return null;
  return JSON.stringify([
    request.routeOptions.url,
    request.url,
    actor.id,
    actor.name,
    actor.party,
    [...actor.roles].sort(),
  ]);
}
