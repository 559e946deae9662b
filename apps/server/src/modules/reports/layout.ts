import { type ReportBlock, type ReportField, type ReportSignature, TLPS, type Tlp } from '@vytis/contracts';
import { deploymentMemberView } from '../../access/policy.ts';
import type { Actor } from '../../context.ts';
import type { CaseFacts, DeploymentFacts, Nis2Facts, PostActionFacts, RequestFacts } from './facts.ts';
import type { FieldDefinition, KindDefinition } from './kinds.ts';
import { printedTime } from './printed-time.ts';
import { REPORT_CASES_MAX } from './reports.repository.ts';

type Values = Record<string, string | boolean | null>;

const yesNo = (v: unknown) => (v === true ? 'Yes' : v === false ? 'No' : 'Not known');
const words = (s: string) => s.replaceAll('_', ' ');

/** The fields of a report as its reader gets them: what authors wrote, else the record's draft. */
export function fieldsOf<F>(kind: KindDefinition<F>, stored: Values, facts: F): ReportField[] {
  return kind.fields.map((def: FieldDefinition<F>) => {
    const written = Object.hasOwn(stored, def.key);
    const value = written ? (stored[def.key] ?? null) : def.draft(facts);
    return {
      key: def.key,
      label: def.label,
      help: def.help,
      type: def.type,
      ...(def.choices ? { choices: [...def.choices] } : {}),
      value,
      // Drafted from the record: an empty draft is nothing drafted.
      prefilled: !written && value !== null && value !== '',
      source: def.source?.(facts) ?? null,
    };
  });
}

function requestBlock(r: RequestFacts): ReportBlock {
  return {
    type: 'fields',
    rows: [
      { label: 'Reference', value: r.id },
      { label: 'Requesting party', value: r.party },
      { label: 'Title', value: r.title },
      {
        label: 'Affected entity',
        value: `${r.affectedEntity.name} (${r.affectedEntity.sector}, ${r.affectedEntity.essential ? 'essential' : 'important or other'} entity)`,
      },
      { label: 'Incident class', value: r.incidentClass },
      { label: 'Severity', value: r.severity },
      { label: 'Label of the request', value: `TLP:${r.tlp.toUpperCase()}, PAP:${r.pap.toUpperCase()}` },
      {
        label: 'Help',
        value: `${r.mode}, ${r.location.city ? `${r.location.city}, ` : ''}${r.location.country}`,
      },
      { label: 'Entity aware', value: printedTime(r.awareAt) },
      { label: 'Submitted', value: printedTime(r.submittedAt) },
      { label: 'Mission window', value: `${printedTime(r.window.from)} to ${printedTime(r.window.to)}` },
      {
        label: 'Needs',
        value: r.needs.map((n) => `${n.count} × ${n.skill} (level ${n.minLevel}+)`).join(', '),
      },
      ...(r.impact ? [{ label: 'Likely impact', value: r.impact }] : []),
      ...(r.helpNeeded ? [{ label: 'Help needed', value: r.helpNeeded }] : []),
      ...(r.measuresTaken ? [{ label: 'Measures already taken', value: r.measuresTaken }] : []),
      ...(r.exercise ? [{ label: 'Exercise', value: 'Yes: this request is an exercise' }] : []),
    ],
  };
}

function councilBlocks(f: PostActionFacts): ReportBlock[] {
  const blocks: ReportBlock[] = [{ type: 'heading', text: 'Eligibility, priority and the council' }];
  blocks.push({
    type: 'fields',
    rows: [
      {
        label: 'Eligible',
        value: f.eligibility
          ? `${yesNo(f.eligibility.eligible)}: ${f.eligibility.reasons.join('; ')}`
          : 'Not assessed',
      },
      { label: 'Priority', value: `${f.priority.score} of 100` },
      ...(f.council
        ? [
            { label: 'Council rule', value: f.council.rule },
            { label: 'Electorate', value: f.council.electorate.join(', ') },
            {
              label: 'Vote open',
              value: `${printedTime(f.council.opensAt)} to ${printedTime(f.council.closesAt)}`,
            },
          ]
        : []),
      ...(f.decision
        ? [
            {
              label: 'Decision',
              value: `${words(f.decision.outcome)} on ${printedTime(f.decision.decidedAt)}${f.decision.closedEarly ? ' (closed early: the outcome was certain)' : ''}`,
            },
            {
              label: 'Tally',
              value: `activate ${f.decision.tally.activate}, partial ${f.decision.tally.partial}, decline ${f.decision.tally.decline}, abstain ${f.decision.tally.abstain}${f.decision.tally.notVoted.length ? `; not voted: ${f.decision.tally.notVoted.join(', ')}` : ''}`,
            },
            { label: 'Reason', value: f.decision.reason },
          ]
        : [{ label: 'Decision', value: 'Not decided' }]),
    ],
  });
  if (f.priority.reasons.length > 0) {
    blocks.push({
      type: 'table',
      columns: ['Priority criterion', 'Points', 'Why'],
      rows: f.priority.reasons.map((p) => [p.criterion, String(p.points), p.reason]),
    });
  }
  if (f.votes.length > 0) {
    blocks.push({
      type: 'table',
      columns: ['Party', 'Vote', 'Comment', 'Cast by', 'At'],
      rows: f.votes.map((v) => [v.party, v.vote, v.comment ?? '', v.castBy, printedTime(v.castAt)]),
    });
  }
  return blocks;
}

/** A member as this reader may see them: another home state sees a place, not the person. */
function memberRow(reader: Actor, d: DeploymentFacts, m: DeploymentFacts['members'][number]): string[] {
  const shown = m.name !== null && deploymentMemberView(reader, d.hostParty, m.party) !== 'place';
  return [
    m.party,
    shown ? (m.name ?? '') : `a responder of ${m.party}`,
    shown ? (m.skills ?? []).join(', ') : '—',
    m.status,
    m.decidedAt ? `${printedTime(m.decidedAt)}${m.decidedBy ? ` by ${m.decidedBy}` : ''}` : '—',
  ];
}

function teamBlocks(reader: Actor, deployments: DeploymentFacts[]): ReportBlock[] {
  const blocks: ReportBlock[] = [{ type: 'heading', text: 'The team: release and acceptance' }];
  if (deployments.length === 0)
    return [...blocks, { type: 'fields', rows: [{ label: 'Team', value: 'No team was deployed' }] }];
  for (const d of deployments) {
    blocks.push({
      type: 'fields',
      rows: [
        { label: 'Host', value: d.hostParty },
        { label: 'Deployment', value: `${words(d.status)}, ${d.mode}` },
        { label: 'Window', value: `${printedTime(d.window.from)} to ${printedTime(d.window.to)}` },
        {
          label: 'Accepted by the host',
          value: d.acceptance
            ? `${printedTime(d.acceptance.acceptedAt)} by ${d.acceptance.acceptedBy}; personnel ${d.acceptance.personnelStatus}; access ${d.acceptance.access}; liability agreement SHA-256 ${d.acceptance.liabilityAgreementSha256}`
            : 'Not yet',
        },
      ],
    });
    const byParty = new Map<string, number>();
    for (const m of d.members)
      if (m.status !== 'declined') byParty.set(m.party, (byParty.get(m.party) ?? 0) + 1);
    blocks.push({
      type: 'table',
      columns: ['Party', 'Responder', 'Skills', 'Release', 'Decided'],
      rows: d.members.map((m) => memberRow(reader, d, m)),
      note: `By party: ${[...byParty].map(([p, n]) => `${p} ${n}`).join(', ') || 'none'}`,
    });
  }
  return blocks;
}

const indicatorsText = (c: CaseFacts) =>
  TLPS.filter((tlp) => c.indicators[tlp])
    .map((tlp) => `${tlp.toUpperCase()} ${c.indicators[tlp]}`)
    .join(', ') || 'none';

function caseBlocks(cases: CaseFacts[]): ReportBlock[] {
  return [
    { type: 'heading', text: 'Cases and indicators' },
    cases.length === 0
      ? { type: 'fields', rows: [{ label: 'Cases', value: 'No case works this request' }] }
      : {
          type: 'table',
          columns: ['Case', 'Label', 'Status', 'Owner', 'Indicators by label'],
          rows: cases
            .slice(0, REPORT_CASES_MAX)
            .map((c) => [c.title, `TLP:${c.tlp.toUpperCase()}`, c.status, c.ownerParty, indicatorsText(c)]),
          note: `${cases.length > REPORT_CASES_MAX ? `The first ${REPORT_CASES_MAX} cases; more work this request. ` : ''}Indicators are counted when they may be passed on and are labelled no stricter than their case; RED ones never are, nor RED cases.`,
        },
  ];
}

function clockBlocks(clocks: PostActionFacts['clocks']): ReportBlock[] {
  return [
    { type: 'heading', text: 'Clocks met and missed' },
    {
      type: 'table',
      columns: ['Clock', 'Due', 'State', 'Met', 'On time'],
      rows: clocks.map((c) => [
        words(c.kind),
        printedTime(c.dueAt),
        c.state,
        printedTime(c.metAt),
        c.state === 'met' ? (c.late ? 'late' : 'on time') : c.state === 'overdue' ? 'missed so far' : '—',
      ]),
    },
  ];
}

const textOf = (fields: ReportField[], key: string): ReportBlock => {
  const field = fields.find((f) => f.key === key)!;
  return { type: 'text', title: field.label, text: typeof field.value === 'string' ? field.value : '' };
};

/** The post-action report's blocks, for `reader` (who sees only a place for another state's people). */
export function postActionBlocks(
  reader: Actor,
  facts: PostActionFacts,
  fields: ReportField[],
): ReportBlock[] {
  const includeCases = fields.find((f) => f.key === 'includeCases')?.value !== false;
  return [
    textOf(fields, 'summary'),
    { type: 'heading', text: 'The request as filed' },
    requestBlock(facts.request),
    ...councilBlocks(facts),
    ...teamBlocks(reader, facts.deployments),
    { type: 'heading', text: 'Timeline of the mission' },
    {
      type: 'table',
      columns: ['At', 'Event', 'By', 'Status'],
      rows: facts.timeline.map((e) => [
        printedTime(e.at),
        words(e.kind),
        e.party ? `${e.actor} (${e.party})` : e.actor,
        e.toStatus ? `${e.fromStatus ? `${words(e.fromStatus)} → ` : ''}${words(e.toStatus)}` : '',
      ]),
      ...(facts.timelineTotal > facts.timeline.length
        ? {
            note: `… and ${facts.timelineTotal - facts.timeline.length} later entries, in the request's timeline`,
          }
        : {}),
    },
    ...(includeCases ? caseBlocks(facts.cases) : []),
    ...clockBlocks(facts.clocks),
    textOf(fields, 'findings'),
    textOf(fields, 'lessonsLearned'),
    textOf(fields, 'recommendations'),
  ];
}

function fieldBlock(field: ReportField): ReportBlock {
  if (field.type === 'text')
    return { type: 'text', title: field.label, text: typeof field.value === 'string' ? field.value : '' };
  const value =
    field.type === 'yesno' ? yesNo(field.value) : typeof field.value === 'string' ? field.value : 'Not known';
  return { type: 'fields', rows: [{ label: field.label, value }] };
}

/** A NIS2 report's blocks: who files, about what, then its fields in NIS2's order. */
export function nis2Blocks(
  facts: Nis2Facts,
  fields: ReportField[],
  filing: { submittedTo: string | null; filedAt: string | null; clockKind: string | null },
): ReportBlock[] {
  const r = facts.request;
  const clock = facts.clocks.find((c) => c.kind === filing.clockKind);
  const blocks: ReportBlock[] = [
    {
      type: 'fields',
      rows: [
        {
          label: 'Entity',
          value: `${r.affectedEntity.name} (${r.affectedEntity.sector}, ${r.affectedEntity.essential ? 'essential' : 'important or other'} entity)`,
        },
        { label: 'Member State', value: r.party },
        { label: 'Aware of the incident', value: printedTime(r.awareAt) },
        { label: 'Incident class', value: r.incidentClass },
        { label: 'Assistance request', value: `${r.title} (${r.id})` },
        ...(clock
          ? [
              {
                label: 'Due',
                value: `${printedTime(clock.dueAt)} (${clock.state}${clock.late ? ', late' : ''})`,
              },
            ]
          : []),
        { label: 'Filed with', value: filing.submittedTo ?? 'Not filed yet' },
        { label: 'Filed at', value: printedTime(filing.filedAt) },
      ],
    },
  ];
  // Consecutive short answers read best as one table of fields.
  for (const field of fields) {
    const block = fieldBlock(field);
    const last = blocks.at(-1);
    if (block.type === 'fields' && last?.type === 'fields' && blocks.length > 1)
      last.rows.push(...block.rows);
    else blocks.push(block);
  }
  return blocks;
}

export interface LayoutMeta {
  title: string;
  subtitle: string;
  tlp: Tlp;
  status: 'draft' | 'submitted';
  requestId: string;
  preparedAt: string;
  signature: ReportSignature | null;
}

export function layoutOf(meta: LayoutMeta, blocks: ReportBlock[]) {
  return { ...meta, blocks };
}
