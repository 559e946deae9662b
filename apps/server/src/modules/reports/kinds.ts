import type { DeadlineKind, ReportKind } from '@vytis/contracts';
import type { DeploymentFacts, Nis2Facts, PostActionFacts, RequestFacts } from './facts.ts';

type Value = string | boolean | null;

/** A field of a report: what it asks, and how the record drafts it. */
export interface FieldDefinition<F> {
  key: string;
  label: string;
  help: string;
  type: 'text' | 'yesno' | 'choice';
  choices?: readonly string[];
  draft: (facts: F) => Value;
  source?: (facts: F) => { label: string; href: string } | null;
}

export interface KindDefinition<F> {
  title: string;
  /** The clock the report meets when submitted, if any. */
  clock: DeadlineKind | null;
  fields: FieldDefinition<F>[];
}

const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : 'not yet');
const requestSource = (r: RequestFacts) => ({ label: 'the request as filed', href: `/requests/${r.id}` });
const casesSource = (f: { request: RequestFacts; cases: unknown[] }) =>
  f.cases.length > 0
    ? { label: 'the cases working this request', href: `/cases?requestId=${f.request.id}` }
    : null;

/** RSIT's top level: the classes that are attacks, as NIS2's "suspected unlawful or malicious acts". */
const MALICIOUS_CLASSES = [
  'abusive-content',
  'malicious-code',
  'information-gathering',
  'intrusion-attempts',
  'intrusions',
  'availability',
  'information-content-security',
  'fraud',
];

function suspectedMalicious(r: RequestFacts): boolean | null {
  const predicate = /^rsit:([a-z-]+)=/.exec(r.incidentClass)?.[1];
  return predicate && MALICIOUS_CLASSES.includes(predicate) ? true : null;
}

function crossBorderPossible(r: RequestFacts): boolean | null {
  if (!r.crossBorder) return null;
  return r.crossBorder.risk !== 'none';
}

function crossBorderText(r: RequestFacts): string {
  if (!r.crossBorder) return '';
  const countries = r.crossBorder.countries?.length
    ? ` Countries that may be affected: ${r.crossBorder.countries.join(', ')}.`
    : '';
  return `Risk of spreading to other states: ${r.crossBorder.risk}.${countries}`;
}

/** NIS2 art. 23(3): significant when it caused or can cause severe disruption or considerable damage. */
function significant(r: RequestFacts): boolean | null {
  return r.severity === 'high' || r.severity === 'critical' ? true : null;
}

function teamSentence(deployments: DeploymentFacts[]): string {
  const active = deployments.filter((d) => d.status !== 'cancelled');
  if (active.length === 0) return 'No team was deployed.';
  return active
    .map((d) => {
      const members = d.members.filter((m) => m.status !== 'declined');
      const parties = [...new Set(members.map((m) => m.party))].sort();
      return `A team of ${members.length} responder${members.length === 1 ? '' : 's'} from ${parties.join(', ') || 'no party yet'} worked ${d.mode === 'remote' ? 'remotely' : d.mode} for ${d.hostParty}, ${day(d.window.from)} to ${day(d.window.to)} (now ${d.status.replace('_', ' ')}).`;
    })
    .join(' ');
}

/** What the request itself says of the mission: who asked, for what, and the council's decision. */
export function publicSummary(f: Pick<PostActionFacts, 'request' | 'decision'>): string {
  const r = f.request;
  const decision = f.decision
    ? `The council's decision: ${f.decision.outcome.replace('_', ' ')} on ${day(f.decision.decidedAt)} (${f.decision.rule}).`
    : 'The council has not decided.';
  return `${r.party} asked for assistance with "${r.title}" (${r.incidentClass}, severity ${r.severity}), affecting ${r.affectedEntity.name} (${r.affectedEntity.sector}); submitted ${day(r.submittedAt)}. ${decision}`;
}

function postActionSummary(f: PostActionFacts): string {
  if (f.filedSummary?.summary) return f.filedSummary.summary;
  return `${publicSummary(f)} ${teamSentence(f.deployments)}`;
}

function indicatorLines(f: Nis2Facts): string {
  if (f.indicators.length === 0) return '';
  return f.indicators.map((i) => `${i.type}: ${i.value}`).join('\n');
}

export const POST_ACTION: KindDefinition<PostActionFacts> = {
  title: 'Post-action report',
  clock: 'post_action_report',
  fields: [
    {
      key: 'summary',
      label: 'Summary',
      help: 'What was asked, what the force decided and did, and the outcome, in a few sentences.',
      type: 'text',
      draft: postActionSummary,
      source: (f) => requestSource(f.request),
    },
    {
      key: 'findings',
      label: 'Findings',
      help: "What the team found: the attack, its root cause, the affected systems. Drafted from the cases' titles.",
      type: 'text',
      draft: (f) => f.cases.map((c) => `${c.title} (${c.status})`).join('\n'),
      source: casesSource,
    },
    {
      key: 'lessonsLearned',
      label: 'Lessons learned',
      help: 'What worked and what did not, in the request, the council, assembly, deployment and the work.',
      type: 'text',
      draft: (f) => f.filedSummary?.lessonsLearned ?? '',
    },
    {
      key: 'recommendations',
      label: 'Recommendations',
      help: 'What the host, the force or the framework should change.',
      type: 'text',
      draft: () => '',
    },
    {
      key: 'includeCases',
      label: 'List the cases and their indicator counts',
      help: 'Say no to leave the cases out, e.g. when the report goes to readers who may not see them: the report is then labelled by the request alone, and anyone who sees the request may read it.',
      type: 'yesno',
      draft: () => true,
      source: casesSource,
    },
  ],
};

const significance: FieldDefinition<Nis2Facts> = {
  key: 'significant',
  label: 'Significant incident',
  help: 'NIS2 art. 23(3): it has caused or can cause severe operational disruption or financial loss, or considerable damage to others. Drafted yes for a high or critical severity.',
  type: 'yesno',
  draft: (f) => significant(f.request),
  source: (f) => requestSource(f.request),
};
const malicious: FieldDefinition<Nis2Facts> = {
  key: 'suspectedMalicious',
  label: 'Suspected unlawful or malicious act',
  help: "NIS2 art. 23(4)(a): whether the incident is suspected of being caused by unlawful or malicious acts. Drafted from the request's RSIT class.",
  type: 'yesno',
  draft: (f) => suspectedMalicious(f.request),
  source: (f) => requestSource(f.request),
};
const crossBorder: FieldDefinition<Nis2Facts> = {
  key: 'crossBorderPossible',
  label: 'Possible cross-border impact',
  help: "NIS2 art. 23(4)(a): whether it could have a cross-border impact. Drafted from the request's risk of spreading.",
  type: 'yesno',
  draft: (f) => crossBorderPossible(f.request),
  source: (f) => requestSource(f.request),
};
const crossBorderDetails: FieldDefinition<Nis2Facts> = {
  key: 'crossBorderImpact',
  label: 'Cross-border impact',
  help: 'Which other Member States may be affected, and how.',
  type: 'text',
  draft: (f) => crossBorderText(f.request),
  source: (f) => requestSource(f.request),
};
const description = (key: string, label: string, help: string): FieldDefinition<Nis2Facts> => ({
  key,
  label,
  help,
  type: 'text',
  draft: (f) =>
    [
      `${f.request.title}.`,
      f.request.impact ?? '',
      `Affected: ${f.request.affectedEntity.name} (${f.request.affectedEntity.sector}).`,
    ]
      .filter(Boolean)
      .join(' '),
  source: (f) => requestSource(f.request),
});
const severity: FieldDefinition<Nis2Facts> = {
  key: 'severity',
  label: 'Severity',
  help: 'NIS2 art. 23(4)(b): the initial assessment of its severity.',
  type: 'choice',
  choices: ['low', 'medium', 'high', 'critical'],
  draft: (f) => f.request.severity,
  source: (f) => requestSource(f.request),
};
const impact: FieldDefinition<Nis2Facts> = {
  key: 'impact',
  label: 'Impact',
  help: 'NIS2 art. 23(4)(b): the impact so far, on the service and on others.',
  type: 'text',
  draft: (f) =>
    [f.request.impactLevel ? `Impact: ${f.request.impactLevel}.` : '', f.request.impact ?? '']
      .filter(Boolean)
      .join(' '),
  source: (f) => requestSource(f.request),
};
const indicators: FieldDefinition<Nis2Facts> = {
  key: 'indicatorsOfCompromise',
  label: 'Indicators of compromise',
  help: "NIS2 art. 23(4)(b): where available. Drafted from the cases' indicators that may be passed on (never RED, nor another party's AMBER+STRICT), at most 200.",
  type: 'text',
  draft: indicatorLines,
  source: casesSource,
};
const measures = (key: string, label: string, help: string): FieldDefinition<Nis2Facts> => ({
  key,
  label,
  help,
  type: 'text',
  draft: (f) => [f.request.measuresTaken ?? '', teamSentence(f.deployments)].filter(Boolean).join(' '),
  source: (f) => requestSource(f.request),
});

export const NIS2: Record<Exclude<ReportKind, 'post_action'>, KindDefinition<Nis2Facts>> = {
  nis2_early_warning: {
    title: 'NIS2 early warning',
    clock: 'nis2_early_warning',
    fields: [
      significance,
      malicious,
      crossBorder,
      description(
        'summary',
        'What happened',
        'A short description, as far as known within 24 hours of awareness.',
      ),
    ],
  },
  nis2_notification: {
    title: 'NIS2 incident notification',
    clock: 'nis2_notification',
    fields: [
      significance,
      malicious,
      crossBorder,
      severity,
      impact,
      description(
        'initialAssessment',
        'Initial assessment',
        'NIS2 art. 23(4)(b): an initial assessment of the incident, updating the early warning.',
      ),
      indicators,
      measures('mitigationApplied', 'Measures taken', 'What the entity and the team have done so far.'),
    ],
  },
  nis2_intermediate: {
    title: 'NIS2 intermediate report',
    clock: null,
    fields: [
      {
        key: 'statusUpdate',
        label: 'Status update',
        help: 'NIS2 art. 23(4)(c): relevant status updates, upon the request of the CSIRT or the competent authority.',
        type: 'text',
        draft: () => '',
      },
    ],
  },
  nis2_final_report: {
    title: 'NIS2 final report',
    clock: 'nis2_final_report',
    fields: [
      description(
        'description',
        'Detailed description',
        'NIS2 art. 23(4)(d)(i): a detailed description of the incident, including its severity and impact.',
      ),
      severity,
      {
        key: 'threatType',
        label: 'Type of threat or root cause',
        help: "NIS2 art. 23(4)(d)(ii): the type of threat or root cause that is likely to have triggered the incident. Drafted from the request's RSIT class.",
        type: 'text',
        draft: (f) => f.request.incidentClass,
        source: (f) => requestSource(f.request),
      },
      measures(
        'mitigationApplied',
        'Mitigation measures applied',
        'NIS2 art. 23(4)(d)(iii): applied mitigation measures.',
      ),
      {
        key: 'mitigationOngoing',
        label: 'Ongoing mitigation measures',
        help: 'NIS2 art. 23(4)(d)(iii): ongoing mitigation measures.',
        type: 'text',
        draft: () => '',
      },
      {
        ...crossBorderDetails,
        help: 'NIS2 art. 23(4)(d)(iv): where applicable, the cross-border impact of the incident.',
      },
    ],
  },
  nis2_progress: {
    title: 'NIS2 progress report',
    clock: null,
    fields: [
      {
        key: 'progress',
        label: 'Progress',
        help: 'NIS2 art. 23(4)(e): when the incident is ongoing at the time of the final report, a progress report then, and the final report within one month of handling it.',
        type: 'text',
        draft: () => '',
      },
    ],
  },
};
