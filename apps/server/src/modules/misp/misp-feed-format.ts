import crypto from 'node:crypto';
import type { MispFeedEntry } from './misp.service.ts';
import { type MispAttribute, type MispEvent, parseMispEvents } from './misp-event.ts';

/**
 * MISP feeds on disk and on the wire, pure: no database, no HTTP (issue 12).
 *
 * A MISP feed is a directory: `manifest.json` (event uuid → what MISP lists of it), one
 * `<uuid>.json` per event (`{"Event": …}`), and `hashes.csv` (`<md5 of a value>,<event uuid>` per
 * attribute value, which MISP caches to tell which values a feed knows without fetching it). The
 * shapes are PyMISP's (`MISPEvent.manifest`, `attributes_hashes('md5')`, `tools/feed.py`), which
 * MISP's "Add feed" reads (`Feed::getNewEventUuids`: it keeps an event whose timestamp is not older
 * than the manifest's, and fetches the others).
 */

export interface ManifestEntryJson {
  info: string;
  Orgc: { name: string; uuid: string };
  analysis: number;
  threat_level_id: number;
  timestamp: number;
  date: string;
  Tag: { name: string; colour?: string }[];
}

export type ManifestJson = Record<string, ManifestEntryJson>;

/**
 * The feed's events by uuid: an event uuid held by several cases the viewer may pass on is the
 * case's with the latest timestamp. The manifest, `<uuid>.json` and hashes.csv all take this one,
 * so what the manifest announces is what the file holds.
 */
export function feedEventsByUuid(entries: readonly MispFeedEntry[]): Map<string, MispFeedEntry> {
  const latest = new Map<string, MispFeedEntry>();
  for (const entry of entries) {
    const held = latest.get(entry.uuid);
    if (!held || entry.timestamp > held.timestamp) latest.set(entry.uuid, entry);
  }
  return latest;
}

/**
 * manifest.json of the given events, numbers as integers as PyMISP writes them, one entry per
 * event uuid (see feedEventsByUuid).
 */
export function manifestJson(entries: readonly MispFeedEntry[]): ManifestJson {
  const latest = feedEventsByUuid(entries);
  const manifest: ManifestJson = {};
  for (const entry of [...latest.values()].sort((a, b) => a.uuid.localeCompare(b.uuid))) {
    manifest[entry.uuid] = {
      info: entry.info,
      Orgc: { name: entry.orgc.name, uuid: entry.orgc.uuid },
      analysis: entry.analysis,
      threat_level_id: entry.threatLevelId,
      timestamp: entry.timestamp,
      date: entry.date,
      Tag: entry.tags.map((tag) =>
        tag.colour === undefined ? { name: tag.name } : { name: tag.name, colour: tag.colour },
      ),
    };
  }
  return manifest;
}

const md5 = (text: string) => crypto.createHash('md5').update(text, 'utf8').digest('hex');

/**
 * The md5 of an attribute's value as PyMISP's `hash_values` takes it: each part of a composite
 * value (`ip-dst|port`, `filename|sha256`, and `malware-sample`) on its own, else the whole value.
 */
export function attributeValueHashes(attribute: Pick<MispAttribute, 'type' | 'value'>): string[] {
  if (attribute.type.includes('|') || attribute.type === 'malware-sample')
    return attribute.value.split('|').map(md5);
  return [md5(attribute.value)];
}

function allAttributes(event: MispEvent): MispAttribute[] {
  return [...event.attributes, ...event.objects.flatMap((object) => object.attributes)];
}

/** The lines of hashes.csv for one event: `<md5>,<event uuid>`, attributes then objects' attributes. */
export function eventHashLines(event: MispEvent): string[] {
  return allAttributes(event).flatMap((attribute) =>
    attributeValueHashes(attribute).map((hash) => `${hash},${event.uuid}`),
  );
}

// ---------------------------------------------------------------------------------------------
// Reading a feed

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_UNIX_SECONDS = 253_402_300_799;
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Unix seconds as MISP writes them: an integer, or a string of digits (older MISP). */
export function unixSeconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_UNIX_SECONDS ? n : undefined;
}

/** A small integer field as MISP writes it (number or digit string) within [min, max]. */
function smallInt(value: unknown, min: number, max: number): boolean {
  const n = typeof value === 'string' && /^\d{1,2}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
}

/**
 * What MISP would object to in a manifest, one message per problem, each naming its event: the
 * fields `Feed::getNewEventUuids`, the feed preview (`previewIndex`) and the pull rules read — an
 * object keyed by event uuid, each entry with `info`, `Orgc.name`, `date`, `threat_level_id` (1–4),
 * `analysis` (0–2), `timestamp` (Unix seconds) and `Tag` (a list of `{name}`).
 */
export function manifestProblems(json: unknown): string[] {
  if (!isRecord(json)) return ['the manifest is not a JSON object keyed by event uuid'];
  const problems: string[] = [];
  for (const [uuid, entry] of Object.entries(json)) {
    const at = `event ${uuid}`;
    if (!UUID.test(uuid.toLowerCase())) problems.push(`${at}: the key is not an event uuid`);
    if (!isRecord(entry)) {
      problems.push(`${at}: not an object`);
      continue;
    }
    if (typeof entry.info !== 'string') problems.push(`${at}: info is not text`);
    if (!isRecord(entry.Orgc) || typeof entry.Orgc.name !== 'string')
      problems.push(`${at}: Orgc.name is missing`);
    if (typeof entry.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(entry.date))
      problems.push(`${at}: date is not YYYY-MM-DD`);
    if (!smallInt(entry.threat_level_id, 1, 4)) problems.push(`${at}: threat_level_id is not 1 to 4`);
    if (!smallInt(entry.analysis, 0, 2)) problems.push(`${at}: analysis is not 0 to 2`);
    if (unixSeconds(entry.timestamp) === undefined) problems.push(`${at}: timestamp is not Unix seconds`);
    if (
      entry.Tag !== undefined &&
      !(Array.isArray(entry.Tag) && entry.Tag.every((tag) => isRecord(tag) && typeof tag.name === 'string'))
    )
      problems.push(`${at}: Tag is not a list of {name, colour}`);
  }
  return problems;
}

export interface ReadManifest {
  /** Event uuid (lower case) → its timestamp, for every entry that can be pulled. */
  events: Map<string, number>;
  /** Entries that cannot be pulled, by the key the manifest gives them. */
  refused: { uuid: string; message: string }[];
}

/**
 * The events a pull may fetch: each entry needs a uuid key and a timestamp (what a pull compares);
 * the other fields are MISP's to display and are not required of other feeds. Not a JSON object
 * keyed by uuid: an error naming what it is instead.
 */
export function readManifest(text: string): ReadManifest | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return { error: 'manifest.json is not JSON' };
  }
  if (!isRecord(json)) {
    return {
      error: `manifest.json is ${Array.isArray(json) ? 'a list' : `a ${json === null ? 'null' : typeof json}`}, not an object keyed by event uuid`,
    };
  }
  const events = new Map<string, number>();
  const refused: ReadManifest['refused'] = [];
  for (const [key, entry] of Object.entries(json)) {
    const uuid = key.toLowerCase();
    const shown = key.slice(0, 64);
    if (!UUID.test(uuid)) {
      refused.push({ uuid: shown, message: `manifest.json names "${shown}", which is not an event uuid` });
      continue;
    }
    const timestamp = isRecord(entry) ? unixSeconds(entry.timestamp) : undefined;
    if (timestamp === undefined) {
      refused.push({ uuid, message: `manifest.json gives event ${uuid} no timestamp in Unix seconds` });
      continue;
    }
    events.set(uuid, timestamp);
  }
  return { events, refused };
}

/** hashes.csv: event uuid → the md5 hashes listed for it. Lines that are not `<md5>,<uuid>` are skipped. */
export function readHashesCsv(text: string): Map<string, Set<string>> {
  const byEvent = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const match = /^\s*([0-9a-fA-F]{32})\s*,\s*([0-9a-fA-F-]{36})\s*$/.exec(line);
    if (!match) continue;
    const uuid = match[2]!.toLowerCase();
    const hashes = byEvent.get(uuid) ?? new Set<string>();
    hashes.add(match[1]!.toLowerCase());
    byEvent.set(uuid, hashes);
  }
  return byEvent;
}

/**
 * Checks a fetched `<uuid>.json` against what the feed said of it: one event, the uuid asked for,
 * the manifest's timestamp, and (when hashes.csv lists the event) the values hashes.csv lists.
 * Null when it is what was announced, else what differs, in words naming the event.
 */
export function fetchedEventProblem(
  text: string,
  expected: { uuid: string; timestamp: number; hashes?: Set<string> | undefined },
): string | null {
  const { uuid } = expected;
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return `event ${uuid}: ${uuid}.json is not JSON`;
  }
  const parsed = parseMispEvents(json);
  if ('error' in parsed) return `event ${uuid}: ${uuid}.json is not a MISP event (${parsed.error})`;
  if (parsed.events.length !== 1)
    return `event ${uuid}: ${uuid}.json holds ${parsed.events.length} events, not the one the manifest lists`;
  const event = parsed.events[0]!;
  if (event.uuid !== uuid)
    return `event ${uuid}: ${uuid}.json is event ${event.uuid || '(no uuid)'}, not ${uuid}`;
  if (event.timestamp !== expected.timestamp) {
    return `event ${uuid}: the manifest says timestamp ${expected.timestamp}, the event says ${event.timestamp ?? 'none'}; nothing of it was imported`;
  }
  if (expected.hashes) {
    const attributes = allAttributes(event);
    // Whole values and their parts both count, whichever way the feed's generator hashed them.
    const held = new Set(attributes.flatMap((a) => [...attributeValueHashes(a), md5(a.value)]));
    const unknown = [...expected.hashes].filter((hash) => !held.has(hash)).length;
    const unlisted = attributes.filter(
      (a) =>
        !attributeValueHashes(a).some((hash) => expected.hashes!.has(hash)) &&
        !expected.hashes!.has(md5(a.value)),
    ).length;
    if (unknown > 0 || unlisted > 0) {
      return `event ${uuid}: its values do not match hashes.csv (${unknown} hash(es) listed there match no value of the event, ${unlisted} value(s) of the event are not listed); nothing of it was imported`;
    }
  }
  return null;
}
