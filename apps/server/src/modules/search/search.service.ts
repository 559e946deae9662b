import {
  BATCH_LOOKUP_MAX_VALUES,
  type BatchLookupBody,
  type BatchLookupItem,
  type BatchLookupResult,
  type Correlation,
  type ExerciseScope,
  type RelatedValue,
  SEARCH_KINDS,
  type SearchHit,
  type SearchKind,
  type SearchQuery,
  type SearchResult,
  type Tlp,
  type ValueRelation,
} from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.ts';
import { type Actor, type Ctx, hasRole } from '../../context.ts';
import { invalidInput } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/cursor.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { CasesService } from '../cases/cases.service.ts';
import { lookupCandidates, refang } from '../indicators/observable-types.ts';
import { CORRELATION_CAP, type ObservablesService } from '../indicators/observables.service.ts';
import { warningNames, warningNamesForAnyType } from '../misp/warninglists.ts';
import type { RequestsService } from '../requests/requests.service.ts';
import * as repo from './search.repository.ts';
import { classify, type Host, hostOfUrl, splitPasted } from './values.ts';

export interface SearchDeps {
  db: Kysely<Database>;
  clock: Clock;
  requests: RequestsService;
  cases: CasesService;
  observables: ObservablesService;
}

/** Who may find responders by name: those who keep or assemble them. */
const RESPONDER_SEARCHERS = ['poc', 'coordinator', 'admin'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KIND_ORDER = new Map(SEARCH_KINDS.map((kind, i) => [kind, i]));

/**
 * Analysts' lookups and one search across what the viewer may see: requests, cases, observables,
 * tasks, notes and (for those who keep them) responders. Every read goes through the access policy
 * in SQL, so what the viewer may not see is never found, listed or counted.
 */
export class SearchService {
  constructor(private readonly deps: SearchDeps) {}

  /**
   * Where each of many values is known, as far as the viewer may see, with the values related to it
   * (a URL's host; the URLs on a host; a domain's IPs and an IP's domains, from `domain|ip`
   * observables) and how often each is seen. A fixed number of statements whatever the list's length.
   */
  async batchLookup(ctx: Ctx, body: BatchLookupBody): Promise<BatchLookupResult> {
    const queries = valuesOf(body);
    const exercises: ExerciseScope = body.exercise ?? 'exclude';
    const viewer = this.deps.cases.viewer(ctx);
    const cap = CORRELATION_CAP;

    const looked = queries.map((query) => {
      const kind = classify(query);
      const candidates = lookupCandidates(query);
      return { query, kind, candidates, host: kind.type === 'url' ? hostOfUrl(kind.value) : null };
    });

    // What each value's relations are looked for by: hosts for URLs on them, domains and IPs for pairs.
    const hosts = new Set<string>();
    const domains = new Set<string>();
    const ips = new Set<string>();
    for (const { kind } of looked) {
      if (kind.type === 'domain' || kind.type === 'hostname') {
        hosts.add(kind.value);
        domains.add(kind.value);
      } else if (kind.type === 'ip-dst' && !kind.value.includes('/')) {
        hosts.add(kind.value.includes(':') ? `[${kind.value}]` : kind.value);
        ips.add(kind.value);
      }
    }

    const [places, urls, pairs] = await Promise.all([
      repo.placesOf(
        this.deps.db,
        viewer,
        [...new Set(looked.flatMap((l) => l.candidates))],
        exercises,
        cap + 1,
      ),
      repo.urlsOnHosts(this.deps.db, viewer, [...hosts], exercises, cap),
      repo.domainIpPairs(this.deps.db, viewer, [...domains], [...ips], exercises, cap),
    ]);

    const placesByValue = groupBy(places, (row) => row.probe);
    const urlsByHost = groupBy(urls, (row) => row.host);
    const ipsByDomain = groupBy(pairs, (row) => row.domain);
    const domainsByIp = groupBy(pairs, (row) => row.ip);

    const relatedOf = looked.map(({ kind, host }): Omit<RelatedValue, 'places' | 'warnings'>[] => {
      const related: Omit<RelatedValue, 'places' | 'warnings'>[] = [];
      const add = (relation: ValueRelation, type: string, value: string) => {
        if (related.length < cap) related.push({ relation, type, value });
      };
      if (host) add('host-of-url', host.type, host.value);
      if (kind.type === 'domain' || kind.type === 'hostname') {
        for (const row of urlsByHost.get(kind.value) ?? []) add('url-on-host', 'url', row.value);
        for (const row of ipsByDomain.get(kind.value) ?? []) add('ip-of-domain', 'ip-dst', row.ip);
      } else if (kind.type === 'ip-dst') {
        const asHost = kind.value.includes(':') ? `[${kind.value}]` : kind.value;
        for (const row of urlsByHost.get(asHost) ?? []) add('url-on-host', 'url', row.value);
        for (const row of domainsByIp.get(kind.value) ?? []) add('domain-of-ip', 'domain', row.domain);
      }
      return related;
    });

    const relatedValues = [...new Set(relatedOf.flat().map((r) => r.value))];
    const counts = await repo.placeCounts(this.deps.db, viewer, relatedValues, exercises, cap + 1);

    const items = looked.map(({ query, kind, candidates }, i): BatchLookupItem => {
      const seen = new Map<string, repo.PlaceRow>();
      for (const candidate of candidates) {
        for (const row of placesByValue.get(candidate) ?? []) seen.set(row.id, row);
      }
      const rows = [...seen.values()].sort(
        (a, b) => a.created_at.getTime() - b.created_at.getTime() || a.id.localeCompare(b.id),
      );
      return {
        query,
        type: kind.type,
        value: kind.value,
        candidates,
        items: rows.slice(0, cap).map(presentPlace),
        overCorrelating: rows.length > cap,
        warnings: warningNamesForAnyType(candidates),
        related: relatedOf[i]!.map((r) => ({
          ...r,
          places: counts.get(r.value) ?? 0,
          warnings: warningNames(r.type, r.value),
        })),
      };
    });
    return { items, cap, exercises };
  }

  /** One page of what matches `q` among what the viewer may see, exact matches first. */
  async search(ctx: Ctx, query: SearchQuery): Promise<SearchResult> {
    const q = query.q.trim();
    if (q === '') {
      throw invalidInput('type something to search for', [{ field: 'querystring/q', message: 'is empty' }]);
    }
    const limit = query.limit ?? 25;
    const after = query.cursor ? cursorKey(query.cursor) : null;
    const kinds: readonly SearchKind[] = query.kind ? [query.kind] : SEARCH_KINDS;
    const rows = await repo.search(
      this.deps.db,
      {
        cases: this.deps.cases.viewer(ctx),
        requests: await this.deps.requests.viewer(ctx),
        responders: searchesResponders(ctx.actor),
      },
      {
        q,
        values: lookupCandidates(q),
        id: UUID.test(q) ? q.toLowerCase() : null,
        refanged: refang(q) === q ? null : refang(q),
      },
      kinds,
      after,
      limit,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      q,
      items: page.map(presentHit),
      nextCursor:
        rows.length > limit && last
          ? encodeCursor([last.rank, last.at_key, KIND_ORDER.get(last.kind) ?? 0, last.id])
          : null,
    };
  }
}

function searchesResponders(actor: Actor) {
  return hasRole(actor, ...RESPONDER_SEARCHERS);
}

function cursorKey(cursor: string): repo.HitKey {
  const [rank, at, kind, id] = decodeCursor<[number, string, number, string]>(cursor, [
    'int',
    'timestamp',
    'int',
    'uuid',
  ]);
  const kindName = SEARCH_KINDS[kind];
  if (!kindName || rank < 0 || rank > 2) {
    throw invalidInput('cursor is not one this server gave out', [
      { field: 'querystring/cursor', message: 'unknown cursor' },
    ]);
  }
  return { rank, at, kind: kindName, id };
}

/** The values of a batch lookup, as sent or split from a pasted block; each once, in order. */
function valuesOf(body: BatchLookupBody): string[] {
  if ((body.values === undefined) === (body.text === undefined)) {
    throw invalidInput('send either values (a list) or text (a pasted block)', [
      { field: 'body/values', message: 'give values or text, not both and not neither' },
    ]);
  }
  const field = body.values !== undefined ? 'body/values' : 'body/text';
  const raw = body.values !== undefined ? body.values.map((v) => v.trim()) : splitPasted(body.text!);
  const values = [...new Set(raw.filter((v) => v !== ''))];
  if (values.length === 0) {
    throw invalidInput('there is no value to look up', [{ field, message: 'holds no value' }]);
  }
  if (values.length > BATCH_LOOKUP_MAX_VALUES) {
    throw invalidInput(`look up at most ${BATCH_LOOKUP_MAX_VALUES} values at once`, [
      { field, message: `holds ${values.length} values; at most ${BATCH_LOOKUP_MAX_VALUES}` },
    ]);
  }
  return values;
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string) {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

function presentPlace(row: repo.PlaceRow): Correlation {
  return {
    observableId: row.id,
    caseId: row.case_id,
    caseTitle: row.case_title,
    ownerParty: row.case_owner,
    type: row.type,
    value: row.value,
    tlp: row.tlp as Tlp,
    toIds: row.to_ids,
    sightings: row.sightings,
    firstSeen: row.first_seen ? new Date(row.first_seen).toISOString() : null,
    lastSeen: row.last_seen ? new Date(row.last_seen).toISOString() : null,
    exercise: row.case_exercise,
    warnings: warningNames(row.type, row.value),
  };
}

function presentHit(row: repo.HitRow): SearchHit {
  return {
    kind: row.kind,
    id: row.id,
    title: row.title,
    detail: row.detail,
    caseId: row.kind === 'case' ? null : row.case_id,
    exercise: row.exercise,
    at: new Date(row.at).toISOString(),
    match: repo.MATCHES[row.rank] ?? 'contains',
  };
}

export type { Host };
