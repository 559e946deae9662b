import type { Tlp } from '@vytis/contracts';
import { uuidV5, VYTIS_NAMESPACE } from './stix-ids.ts';

/**
 * Data markings (STIX 2.1 §7.2). Every exported object carries, in `object_marking_refs`:
 * - its TLP 2.0 label, as the marking-definitions the OASIS CTI TC published with the TLP 2.0
 *   extension (`extension-definition--60a3c5c5-…`, fixed ids and content, created 2022-10-01);
 * - the same label in TLP 1.0 (the four marking-definitions of §7.2.1.4, created 2017-01-20), so a
 *   consumer that knows only STIX's built-in TLP understands it: CLEAR → WHITE, GREEN, AMBER, RED,
 *   and AMBER+STRICT → AMBER (1.0 has nothing stricter short of RED; with both markings on the
 *   object, a consumer that honours every marking keeps to AMBER+STRICT's smaller audience);
 * - where the object comes from a case, the case's PAP as a statement marking (§7.2.1.3: "a textual
 *   marking statement", which is what PAP is — a handling instruction for the recipient). STIX has
 *   no PAP marking type and no published PAP extension, and a statement needs no extension
 *   definition for a consumer to show it; its id is a UUIDv5 of our namespace and the level, so it
 *   is the same in every bundle and on every node. Marking definitions are never versioned (no
 *   `modified`).
 */

export const TLP2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

export type MarkingDefinition = Record<string, unknown> & { type: 'marking-definition'; id: string };

const TLP2: Record<Tlp, { id: string; name: string }> = {
  clear: { id: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487', name: 'TLP:CLEAR' },
  green: { id: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb', name: 'TLP:GREEN' },
  amber: { id: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421', name: 'TLP:AMBER' },
  'amber+strict': {
    id: 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
    name: 'TLP:AMBER+STRICT',
  },
  red: { id: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1', name: 'TLP:RED' },
};

type Tlp1 = 'white' | 'green' | 'amber' | 'red';
const TLP1: Record<Tlp1, string> = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
};
const TLP1_OF: Record<Tlp, Tlp1> = {
  clear: 'white',
  green: 'green',
  amber: 'amber',
  'amber+strict': 'amber',
  red: 'red',
};

export type Pap = 'clear' | 'green' | 'amber' | 'red';
/** The PAP levels' meanings, as the MISP PAP taxonomy words them. */
const PAP_STATEMENTS: Record<Pap, string> = {
  red: 'PAP:RED (Permissible Actions Protocol): non-detectable actions only. Recipients may not use PAP:RED information on the network. Only passive actions on logs, that are not detectable from the outside.',
  amber:
    'PAP:AMBER (Permissible Actions Protocol): passive cross check. Recipients may use PAP:AMBER information for conducting online checks, like using services provided by third parties (e.g. ripe whois), or set up a monitoring honeypot.',
  green:
    'PAP:GREEN (Permissible Actions Protocol): active actions allowed. Recipients may use PAP:GREEN information to ping the target, block incoming/outgoing traffic from/to the target or specifically configure honeypots to interact with the target.',
  clear: 'PAP:CLEAR (Permissible Actions Protocol): no restrictions in using this information.',
};
/** When Vytis first defined its PAP statements; fixed, as a marking definition never changes. */
const PAP_CREATED = '2026-01-01T00:00:00.000Z';

export const tlp2MarkingId = (tlp: Tlp) => TLP2[tlp].id;
export const tlp1MarkingId = (tlp: Tlp) => TLP1[TLP1_OF[tlp]];
export const papMarkingId = (pap: Pap) => `marking-definition--${uuidV5(VYTIS_NAMESPACE, `pap:${pap}`)}`;

/**
 * An intelligence object as it is passed on: with its own markings, or, if it came without any, the
 * label Vytis keeps it under.
 */
export function markedAsKept<T extends Record<string, unknown>>(object: T, tlp: Tlp): T {
  return Array.isArray(object.object_marking_refs)
    ? object
    : { ...object, object_marking_refs: markingRefs(tlp, null) };
}

/** The marking definitions Vytis writes itself (TLP 2.0 and 1.0, its PAP statements): never taken from a bundle. */
export const OWN_MARKING_IDS: ReadonlySet<string> = new Set([
  ...Object.values(TLP2).map((t) => t.id),
  ...Object.values(TLP1),
  ...(['clear', 'green', 'amber', 'red'] as const).map(papMarkingId),
]);

/** The marking-definition objects, as published, for a TLP label (2.0 and 1.0). */
export function tlpMarkingDefinitions(tlp: Tlp): MarkingDefinition[] {
  const level1 = TLP1_OF[tlp];
  return [
    {
      type: 'marking-definition',
      spec_version: '2.1',
      id: TLP2[tlp].id,
      created: '2022-10-01T00:00:00.000Z',
      name: TLP2[tlp].name,
      extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: tlp } },
    },
    {
      type: 'marking-definition',
      spec_version: '2.1',
      id: TLP1[level1],
      created: '2017-01-20T00:00:00.000Z',
      definition_type: 'tlp',
      name: `TLP:${level1.toUpperCase()}`,
      definition: { tlp: level1 },
    },
  ];
}

export function papMarkingDefinition(pap: Pap): MarkingDefinition {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: papMarkingId(pap),
    created: PAP_CREATED,
    name: `PAP:${pap.toUpperCase()}`,
    definition_type: 'statement',
    definition: { statement: PAP_STATEMENTS[pap] },
  };
}

/** `object_marking_refs` for an object labelled `tlp`, with its case's `pap` where there is one. */
export function markingRefs(tlp: Tlp, pap: Pap | null): string[] {
  const refs = [tlp2MarkingId(tlp), tlp1MarkingId(tlp)];
  if (pap) refs.push(papMarkingId(pap));
  return refs;
}
