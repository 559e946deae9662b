import type { NewRequest } from '@vytis/contracts';
import type { FieldProblem } from '../../errors.ts';

/**
 * What the Cyber Solidarity Act (Regulation (EU) 2025/38) asks of a request for support before it
 * can be acted on: the affected entity and its sector, the nature and likely impact of the
 * incident, the support needed and what for, the measures already taken, and the other support
 * available to the entity (contracts, insurance, other teams). A draft may lack any of them; a
 * submission may not. Text that is only blanks says nothing, so it counts as missing.
 */
const TEMPLATE: ReadonlyArray<[path: string, read: (f: NewRequest) => unknown, what: string]> = [
  ['affectedEntity/name', (f) => f.affectedEntity?.name, 'the affected entity'],
  ['affectedEntity/sector', (f) => f.affectedEntity?.sector, "the affected entity's sector"],
  ['incidentClass', (f) => f.incidentClass, 'the nature of the incident (its RSIT class)'],
  ['impact', (f) => f.impact, 'the nature and likely impact of the incident'],
  ['helpNeeded', (f) => f.helpNeeded, 'what help is needed, and for what'],
  ['measuresTaken', (f) => f.measuresTaken, 'the measures already taken to limit the damage'],
  [
    'otherHelp',
    (f) => f.otherHelp,
    'the other help sought or available (contracts, insurance, other teams; "none" if there is none)',
  ],
];

/** Every field the template still needs, each named by its body path, in the template's order. */
export function missingForSubmission(fields: NewRequest, at = 'body'): FieldProblem[] {
  return TEMPLATE.filter(([, read]) => {
    const value = read(fields);
    return typeof value !== 'string' || value.trim() === '';
  }).map(([path, , what]) => ({
    field: `${at}/${path}`,
    message: `is required to submit: ${what} (Cyber Solidarity Act template)`,
  }));
}
