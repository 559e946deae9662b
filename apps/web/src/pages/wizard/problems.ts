// What is wrong with the form, field by field, in the words of the person filling it in: the
// wizard's own checks, and the node's field details (`ApiError.details`) said the same way.
import type { FieldProblem } from '../../api/client.ts';
import { localInputToIso } from '../../components/format.ts';
import type { Form } from './form.ts';

/**
 * A field of the form: a key of `Form`, or `needs.<i>.<skill|count|minLevel>` for a row of the
 * skills. It is also the suffix of the input's id (`field-…`), so a problem can take the focus there.
 */
export type FieldKey = string;
export type Problems = Record<FieldKey, string>;

export const inputId = (key: FieldKey) => `field-${key.replace(/\./g, '-')}`;

/** The wizard's steps, in order; the review is the last one. */
export const STEPS = ['Incident', 'Help needed', 'Measures', 'Review'] as const;
export const REVIEW_STEP = STEPS.length - 1;

const STEP_FIELDS: FieldKey[][] = [
  [
    'title',
    'entityName',
    'sector',
    'rsitClass',
    'rsitType',
    'severity',
    'tlp',
    'pap',
    'awareAt',
    'impactLevel',
    'crossBorderRisk',
    'crossBorderCountries',
    'impact',
  ],
  [
    'helpNeeded',
    'mode',
    'country',
    'city',
    'clearance',
    'needs',
    'languages',
    'windowFrom',
    'windowTo',
    'legalInstrument',
  ],
  ['measuresTaken', 'otherHelp', 'exercise'],
];

/** The step a field is on (the skills' rows are on the second). */
export function stepOf(key: FieldKey): number {
  const base = key.split('.')[0]!;
  const step = STEP_FIELDS.findIndex((fields) => fields.includes(base));
  return step === -1 ? 0 : step;
}

/** The fields of a step in the order they appear on it (the order to look for the first problem). */
export function fieldsOfStep(step: number, form: Form): FieldKey[] {
  return (STEP_FIELDS[step] ?? []).flatMap((key) =>
    key === 'needs'
      ? form.needs.flatMap((_, i) => [`needs.${i}.skill`, `needs.${i}.count`, `needs.${i}.minLevel`])
      : [key],
  );
}

/** Each field's name as the review and the save status say it. */
export const FIELD_NAMES: Record<string, string> = {
  title: 'the title',
  entityName: 'the affected entity',
  sector: "the entity's sector",
  rsitClass: 'the incident class',
  rsitType: 'the incident type',
  severity: 'the severity',
  tlp: 'the TLP',
  pap: 'the PAP',
  awareAt: 'when the entity became aware',
  impact: 'the likely impact, described',
  helpNeeded: 'what help is needed',
  mode: 'the mode',
  country: 'the country',
  clearance: 'the clearance',
  needs: 'the skills needed',
  windowFrom: 'when the mission starts',
  windowTo: 'when the mission ends',
  measuresTaken: 'what was already done',
  otherHelp: 'other help available',
};
export const fieldName = (key: FieldKey) =>
  FIELD_NAMES[key] ?? (key.startsWith('needs.') ? `skill ${Number(key.split('.')[1]) + 1}` : key);

/** What to do about an empty field, said as the person would be asked. */
const ASK: Record<string, string> = {
  title: 'Give the request a title: one line that says what happened and where',
  entityName: 'Name the entity under attack',
  sector: "Choose the entity's sector",
  rsitClass: 'Choose what kind of incident this is',
  rsitType: 'Choose the type of incident',
  severity: 'Say how severe the incident is',
  tlp: 'Choose who may see this request (TLP)',
  pap: 'Choose what may be done with its information (PAP)',
  awareAt: 'Say when the entity became aware of the incident (a date and a time)',
  impact: 'Describe the likely impact of the incident: the council needs it to decide',
  helpNeeded: 'Say what help is needed, and for what',
  mode: 'Choose whether the team works remotely, on site or both',
  country: 'Choose the country where help is needed',
  clearance: 'Choose the security clearance the team needs ("None" if none)',
  windowFrom: 'Say when the mission should start (a date and a time)',
  windowTo: 'Say when the mission should end (a date and a time)',
  measuresTaken: 'Say what was already done to limit the damage ("nothing yet" is an answer)',
  otherHelp: 'Say what other help is available: contracts, insurance, other teams, or "none"',
  languages: 'Choose the languages the team should speak',
  legalInstrument: 'Choose the legal instrument the request is made under',
};
const ask = (key: FieldKey) =>
  ASK[key] ?? (/^needs\.\d+\.skill$/.test(key) ? 'Choose the skill needed' : 'Fill this in');

const MISSION_ORDER = 'The mission must end after it starts';
const AWARE_IN_FUTURE = 'This is in the future: give the time the entity became aware of the incident';
/** The node allows a few minutes of clock difference on awareAt; so does the wizard. */
const AWARE_AT_SKEW_MS = 5 * 60_000;

/** Fields the Cyber Solidarity Act's template needs before a request is submitted (not to save a draft). */
export const TEMPLATE_FIELDS: FieldKey[] = ['impact', 'helpNeeded', 'measuresTaken', 'otherHelp'];

/**
 * The form's problems, found in the browser: what a draft needs before the node stores it, and,
 * with `forSubmission`, what the Cyber Solidarity Act's template needs before it is submitted.
 */
export function checkForm(f: Form, { forSubmission = false } = {}): Problems {
  const problems: Problems = {};
  const required: [FieldKey, unknown][] = [
    ['title', f.title.trim()],
    ['entityName', f.entityName.trim()],
    ['sector', f.sector],
    ['rsitClass', f.rsitClass],
    ['severity', f.severity],
    ['tlp', f.tlp],
    ['pap', f.pap],
    ['mode', f.mode],
    ['country', f.country],
    ['clearance', f.clearance],
  ];
  for (const [key, value] of required) if (!value) problems[key] = ask(key);
  if (f.rsitClass && !f.rsitType) problems.rsitType = ask('rsitType');

  const aware = localInputToIso(f.awareAt);
  if (!aware) problems.awareAt = ask('awareAt');
  else if (new Date(aware).getTime() > Date.now() + AWARE_AT_SKEW_MS) problems.awareAt = AWARE_IN_FUTURE;

  const from = localInputToIso(f.windowFrom);
  const to = localInputToIso(f.windowTo);
  if (!from) problems.windowFrom = ask('windowFrom');
  if (!to) problems.windowTo = ask('windowTo');
  else if (from && new Date(to) <= new Date(from)) problems.windowTo = MISSION_ORDER;

  const seen = new Set<string>();
  f.needs.forEach((need, i) => {
    if (!need.skill) problems[`needs.${i}.skill`] = ask(`needs.${i}.skill`);
    else if (seen.has(need.skill))
      problems[`needs.${i}.skill`] = 'This skill is already listed above: raise its number of people instead';
    if (need.skill) seen.add(need.skill);
  });

  if (forSubmission) {
    for (const key of TEMPLATE_FIELDS) if (!(f[key as keyof Form] as string).trim()) problems[key] = ask(key);
  }
  return problems;
}

/** The API's body path of a problem (`body/window/to`) as the wizard's field. */
export function fieldOfPath(path: string, f: Form): FieldKey | null {
  const p = path.replace(/^\/+/, '').replace(/^body\/?/, '');
  const direct: Record<string, FieldKey> = {
    title: 'title',
    affectedEntity: 'entityName',
    'affectedEntity/name': 'entityName',
    'affectedEntity/sector': 'sector',
    'affectedEntity/essential': 'entityName',
    incidentClass: f.rsitClass ? 'rsitType' : 'rsitClass',
    severity: 'severity',
    tlp: 'tlp',
    pap: 'pap',
    mode: 'mode',
    location: 'country',
    'location/country': 'country',
    'location/city': 'city',
    'location/lat': 'country',
    'location/lon': 'country',
    needs: 'needs.0.skill',
    clearance: 'clearance',
    window: 'windowFrom',
    'window/from': 'windowFrom',
    'window/to': 'windowTo',
    awareAt: 'awareAt',
    impact: 'impact',
    impactLevel: 'impactLevel',
    crossBorder: 'crossBorderRisk',
    'crossBorder/risk': 'crossBorderRisk',
    helpNeeded: 'helpNeeded',
    measuresTaken: 'measuresTaken',
    otherHelp: 'otherHelp',
    legalInstrument: 'legalInstrument',
    exercise: 'exercise',
  };
  if (direct[p]) return direct[p];
  const need = /^needs\/(\d+)(?:\/(skill|count|minLevel))?$/.exec(p);
  if (need) return `needs.${need[1]}.${need[2] ?? 'skill'}`;
  if (/^languages(\/\d+)?$/.test(p)) return 'languages';
  if (/^crossBorder\/countries(\/\d+)?$/.test(p)) return 'crossBorderCountries';
  return null;
}

/** A message of the node about a field, in the words the wizard uses for it. */
export function inWords(key: FieldKey, message: string): string {
  if (/^is required|^must not have fewer than 1|must have required property/i.test(message)) return ask(key);
  if (/time|date-time|format/i.test(message) && ['awareAt', 'windowFrom', 'windowTo'].includes(key))
    return ask(key);
  if (/must be after window\/from/.test(message)) return MISSION_ORDER;
  if (/is in the future/.test(message)) return AWARE_IN_FUTURE;
  if (/is listed twice/.test(message))
    return 'This skill is already listed above: raise its number of people instead';
  if (/not one of the allowed values/.test(message)) return 'Choose one of the options offered';
  const longest = /must not have more than (\d+) characters/.exec(message);
  if (longest) return `Keep this under ${longest[1]} characters`;
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/** The node's field details as the wizard's problems (what it cannot place goes under `other`). */
export function problemsOfDetails(details: FieldProblem[], f: Form): { fields: Problems; other: string[] } {
  const fields: Problems = {};
  const other: string[] = [];
  for (const d of details) {
    const key = fieldOfPath(d.field, f);
    if (key) fields[key] ??= inWords(key, d.message);
    else other.push(`${d.field.replace(/^\/?body\//, '')}: ${d.message}`);
  }
  return { fields, other };
}
