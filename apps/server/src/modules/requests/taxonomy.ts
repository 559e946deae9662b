import fs from 'node:fs';

interface MachineTagFile {
  namespace: string;
  predicates: { value: string }[];
  values?: { predicate: string; entry: { value: string }[] }[];
}

// The Reference Security Incident Taxonomy as MISP publishes it (CC0), copied beside the code.
const RSIT: MachineTagFile = JSON.parse(
  fs.readFileSync(new URL('../../../data/taxonomies/rsit/machinetag.json', import.meta.url), 'utf8'),
);

const VALUES = new Map(
  RSIT.predicates.map((p) => [
    p.value,
    (RSIT.values ?? []).find((v) => v.predicate === p.value)?.entry.map((e) => e.value) ?? [],
  ]),
);

/** Every tag of the taxonomy, e.g. `rsit:malicious-code="c2-server"`. */
export const RSIT_TAGS: readonly string[] = [...VALUES].flatMap(([predicate, values]) =>
  values.map((value) => `${RSIT.namespace}:${predicate}="${value}"`),
);
const KNOWN = new Set(RSIT_TAGS);

/** Null when `tag` is an RSIT machine tag; otherwise what is wrong with it, naming what would be right. */
export function rsitProblem(tag: string): string | null {
  if (KNOWN.has(tag)) return null;
  const match = /^rsit:([a-z-]+)(?:="([^"]*)")?$/.exec(tag);
  if (!match) return `must be an RSIT machine tag such as rsit:malicious-code="infected-system"`;
  const [, predicate, value] = match;
  const values = VALUES.get(predicate!);
  if (!values) return `RSIT has no class "${predicate}"; classes: ${[...VALUES.keys()].join(', ')}`;
  if (value === undefined) return `name a type of ${predicate}: ${values.join(', ')}`;
  return `RSIT class ${predicate} has no type "${value}"; types: ${values.join(', ')}`;
}
