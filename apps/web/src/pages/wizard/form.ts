// The request form as the wizard holds it (what the inputs show, in the viewer's zone) and its
// conversions to and from the API's request.
import type { AssistanceRequest } from '@vytis/contracts';
import rsit from '../../../../server/data/taxonomies/rsit/machinetag.json';
import { humanize, isoToLocalInput, localInputToIso } from '../../components/format.ts';

/** The RSIT taxonomy as MISP publishes it: classes (predicates) and their types (values). */
export const RSIT_CLASSES = rsit.predicates.map((p) => ({ value: p.value, label: p.expanded ?? p.value }));
export const rsitTypes = (predicate: string) =>
  (rsit.values.find((v) => v.predicate === predicate)?.entry ?? []).map((e) => ({
    value: e.value,
    label: e.expanded ?? e.value,
    description: e.description,
  }));

export const LANGUAGES = [
  ['en', 'English'],
  ['fr', 'French'],
  ['de', 'German'],
  ['lt', 'Lithuanian'],
  ['lv', 'Latvian'],
  ['et', 'Estonian'],
  ['pl', 'Polish'],
  ['nl', 'Dutch'],
  ['ro', 'Romanian'],
  ['hr', 'Croatian'],
  ['sl', 'Slovenian'],
  ['fi', 'Finnish'],
  ['sv', 'Swedish'],
  ['el', 'Greek'],
  ['es', 'Spanish'],
  ['it', 'Italian'],
  ['pt', 'Portuguese'],
  ['uk', 'Ukrainian'],
  ['ru', 'Russian'],
  ['bg', 'Bulgarian'],
  ['cs', 'Czech'],
  ['sk', 'Slovak'],
  ['hu', 'Hungarian'],
  ['da', 'Danish'],
].map(([value, label]) => ({ value: value!, label: `${label} (${value})` }));

export const opts = (values: readonly string[]) => values.map((v) => ({ value: v, label: humanize(v) }));

export interface Need {
  skill: string | null;
  count: number;
  minLevel: number;
}

export interface Form {
  title: string;
  entityName: string;
  sector: string | null;
  essential: boolean;
  rsitClass: string | null;
  rsitType: string | null;
  severity: string | null;
  awareAt: string;
  tlp: string | null;
  pap: string | null;
  impactLevel: string | null;
  impact: string;
  crossBorderRisk: string | null;
  crossBorderCountries: string[];
  helpNeeded: string;
  mode: string | null;
  country: string | null;
  city: string;
  needs: Need[];
  languages: string[];
  clearance: string | null;
  windowFrom: string;
  windowTo: string;
  legalInstrument: string | null;
  measuresTaken: string;
  otherHelp: string;
  exercise: boolean;
}

/**
 * The form as the API's body. A new request leaves out what is not filled in. A draft's save
 * (`draft` given) sends blank text as "" so that clearing a field clears it (a PATCH leaves out
 * what it does not send), and keeps the draft's map point (lat/lon, set over the API) while the
 * country stays the same.
 */
export function toBody(f: Form, draft?: AssistanceRequest | null): Record<string, unknown> {
  const optionalText = (s: string) => (s.trim() ? s : draft ? '' : undefined);
  const point =
    draft && draft.location.country === f.country
      ? {
          ...(draft.location.lat !== undefined ? { lat: draft.location.lat } : {}),
          ...(draft.location.lon !== undefined ? { lon: draft.location.lon } : {}),
        }
      : {};
  return {
    title: f.title.trim(),
    affectedEntity: { name: f.entityName.trim(), sector: f.sector ?? undefined, essential: f.essential },
    incidentClass: f.rsitClass && f.rsitType ? `rsit:${f.rsitClass}="${f.rsitType}"` : undefined,
    severity: f.severity ?? undefined,
    tlp: f.tlp ?? undefined,
    pap: f.pap ?? undefined,
    mode: f.mode ?? undefined,
    location: {
      country: f.country ?? undefined,
      ...(f.city.trim() ? { city: f.city.trim() } : {}),
      ...point,
    },
    needs: f.needs.map((n) => ({ skill: n.skill ?? undefined, count: n.count, minLevel: n.minLevel })),
    languages: f.languages,
    clearance: f.clearance ?? undefined,
    window: { from: localInputToIso(f.windowFrom), to: localInputToIso(f.windowTo) },
    awareAt: localInputToIso(f.awareAt),
    impact: optionalText(f.impact),
    impactLevel: f.impactLevel ?? undefined,
    crossBorder: f.crossBorderRisk
      ? {
          risk: f.crossBorderRisk,
          ...(f.crossBorderCountries.length ? { countries: f.crossBorderCountries } : {}),
        }
      : undefined,
    helpNeeded: optionalText(f.helpNeeded),
    measuresTaken: optionalText(f.measuresTaken),
    otherHelp: optionalText(f.otherHelp),
    legalInstrument: f.legalInstrument ?? undefined,
    exercise: f.exercise,
  };
}

/** A blank form for a new request of `party`: a plausible window and the usual defaults. */
export function blankForm(party: string): Form {
  const now = new Date();
  return {
    title: '',
    entityName: '',
    sector: null,
    essential: true,
    rsitClass: null,
    rsitType: null,
    severity: null,
    awareAt: isoToLocalInput(new Date(now.getTime() - 2 * 3600_000)),
    tlp: 'amber',
    pap: 'amber',
    impactLevel: null,
    impact: '',
    crossBorderRisk: null,
    crossBorderCountries: [],
    helpNeeded: '',
    mode: 'hybrid',
    country: party === 'EU' ? 'BE' : party,
    city: '',
    needs: [{ skill: null, count: 1, minLevel: 2 }],
    languages: ['en'],
    clearance: 'none',
    windowFrom: isoToLocalInput(new Date(now.getTime() + 6 * 3600_000)),
    windowTo: isoToLocalInput(new Date(now.getTime() + 7 * 86400_000)),
    legalInstrument: 'crrt-mou',
    measuresTaken: '',
    otherHelp: '',
    exercise: false,
  };
}

/** A saved draft as the form shows it, in the viewer's zone. */
export function formOf(r: AssistanceRequest): Form {
  const tag = /^rsit:([a-z-]+)="([^"]*)"$/.exec(r.incidentClass);
  return {
    title: r.title,
    entityName: r.affectedEntity.name,
    sector: r.affectedEntity.sector,
    essential: r.affectedEntity.essential,
    rsitClass: tag?.[1] ?? null,
    rsitType: tag?.[2] ?? null,
    severity: r.severity,
    awareAt: isoToLocalInput(new Date(r.awareAt)),
    tlp: r.tlp,
    pap: r.pap,
    impactLevel: r.impactLevel ?? null,
    impact: r.impact ?? '',
    crossBorderRisk: r.crossBorder?.risk ?? null,
    crossBorderCountries: r.crossBorder?.countries ?? [],
    helpNeeded: r.helpNeeded ?? '',
    mode: r.mode,
    country: r.location.country,
    city: r.location.city ?? '',
    needs: r.needs.map((n) => ({ skill: n.skill, count: n.count, minLevel: n.minLevel })),
    languages: r.languages,
    clearance: r.clearance,
    windowFrom: isoToLocalInput(new Date(r.window.from)),
    windowTo: isoToLocalInput(new Date(r.window.to)),
    legalInstrument: r.legalInstrument ?? null,
    measuresTaken: r.measuresTaken ?? '',
    otherHelp: r.otherHelp ?? '',
    exercise: r.exercise,
  };
}
