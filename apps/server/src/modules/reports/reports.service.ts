import crypto from 'node:crypto';
import {
  type AssistanceRequest,
  type Nis2ReportKind,
  type Nis2Submit,
  REPORT_TEXT_LINES_MAX,
  type Report,
  type ReportEdit,
  type ReportField,
  type ReportFormat,
  type ReportKind,
  type ReportLayout,
  type ReportSignature,
  TLPS,
  type Tlp,
} from '@vytis/contracts';
import type { Kysely } from 'kysely';
import { deploymentMemberView } from '../../access/policy.ts';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { AppError, conflict, type FieldProblem, invalidInput, notFound } from '../../errors.ts';
import { canonicalJson } from '../../platform/canonical-json.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction, readerOf, type Tx } from '../../platform/db/transaction.ts';
import { type NodeKey, sign } from '../../platform/keys.ts';
import { caseViewerOf } from '../cases/case-viewer.ts';
import type { DeploymentsService } from '../deployments/deployments.service.ts';
import { assertMay, type RequestAction } from '../requests/permissions.ts';
import { AWARE_AT_SKEW_MS, type RequestsService } from '../requests/requests.service.ts';
import {
  type FactSources,
  type Nis2Facts,
  nis2Facts,
  type PostActionFacts,
  postActionFacts,
} from './facts.ts';
import { type KindDefinition, NIS2, POST_ACTION, publicSummary } from './kinds.ts';
import { fieldsOf, nis2Blocks, postActionBlocks } from './layout.ts';
import { renderReportMarkdown } from './render/markdown.ts';
import { renderReportPdf } from './render/pdf.ts';
import { reportStixBundle } from './render/stix.ts';
import * as repo from './reports.repository.ts';

export interface ReportsDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  key: NodeKey;
  requests: RequestsService;
  deployments: DeploymentsService;
  node: { party: string | null; publicUrl: string | null };
}

type Values = Record<string, string | boolean | null>;

/** What a submitted report freezes: the SHA-256 in the audit log and the signature are over this. */
interface FrozenDocument {
  kind: ReportKind;
  requestId: string;
  tlp: Tlp;
  values: Values;
  /** The fields whose values the record drafted (not an author): drafted again for each reader. */
  drafted?: string[];
  facts: PostActionFacts | Nis2Facts;
  submittedAt: string;
  submittedBy: string;
  submittedTo: string | null;
  filedAt: string | null;
  node: { party: string | null; url: string; keyId: string };
}

/** A report as one reader gets it, before it is presented or rendered. */
interface ReportView {
  kind: ReportKind;
  request: AssistanceRequest;
  row: repo.ReportRow | undefined;
  facts: PostActionFacts | Nis2Facts;
  fields: ReportField[];
  minimumTlp: Tlp;
  tlp: Tlp;
  layout: ReportLayout;
  canEdit: boolean;
  canSubmit: boolean;
  /** A frozen report shown to a reader who sees less than its submitter did. */
  withheld: boolean;
  /** The cases the reader's facts hold, before the author's choice to leave them out. */
  sourceCaseIds: string[];
}

const lineCount = (text: string) => text.split('\n').length;
const rank = (tlp: string) => TLPS.indexOf(tlp as Tlp);
/** The strictest label a report may carry: AMBER, unless what it contains is marked stricter. */
const highestTlp = (minimum: Tlp): Tlp => (rank(minimum) > rank('amber') ? minimum : 'amber');
const strictest = (labels: string[]) => labels.reduce((a, b) => (rank(b) > rank(a) ? b : a), 'clear') as Tlp;
const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');
const RUNNING = ['running', 'warned', 'overdue'];
const definitionOf = (kind: ReportKind): KindDefinition<PostActionFacts> | KindDefinition<Nis2Facts> =>
  kind === 'post_action' ? POST_ACTION : NIS2[kind];

/**
 * Reports drafted from the record (issue 15): the force's post-action report and the entity's NIS2
 * reports. A draft is computed for each reader from what they see, plus what authors wrote; a
 * submission freezes the document as its author saw it, signs its SHA-256 with the node key and
 * writes that hash to the audit log. A reader gets a report only if they see its request and every
 * case it drew on; what they may not see of the team (another state's people) is left out.
 */
export class ReportsService {
  constructor(private readonly deps: ReportsDeps) {}

  private get sources(): FactSources {
    return { db: readerOf(this.deps.db), requests: this.deps.requests, deployments: this.deps.deployments };
  }

  async get(ctx: Ctx, requestId: string, kind: ReportKind): Promise<Report> {
    return this.present(await this.view(ctx, requestId, kind));
  }

  async nis2List(ctx: Ctx, requestId: string) {
    const request = await this.readableRequest(ctx, requestId, 'nis2_early_warning');
    const rows = await repo.findAll(readerOf(this.deps.db), requestId, Object.keys(NIS2));
    // The record is gathered once for all the drafts of the list.
    let facts: Promise<Nis2Facts> | undefined;
    const live = () => (facts ??= nis2Facts(this.sources, ctx, caseViewerOf(this.deps.clock, ctx), request));
    const views = await Promise.all(
      (Object.keys(NIS2) as Nis2ReportKind[]).map((kind) =>
        this.viewOf(
          ctx,
          kind,
          request,
          rows.find((r) => r.kind === kind),
          live,
        ),
      ),
    );
    // One the reader may not read (it drew on a case they do not see) is absent from the list too.
    return { items: views.filter((v) => v !== null).map((v) => this.present(v)) };
  }

  async edit(ctx: Ctx, requestId: string, kind: ReportKind, edit: ReportEdit, ifMatch: number | undefined) {
    const view = await this.view(ctx, requestId, kind);
    this.assertWritable(ctx, view, kind === 'post_action' ? 'editReport' : 'readNis2');
    const values = this.checkedValues(view, edit);
    const tlp = edit.tlp ?? view.tlp;
    const highest = highestTlp(view.minimumTlp);
    if (rank(tlp) > rank(highest)) {
      // Who reads a report is decided by its request and its cases; a label stricter than theirs
      // would promise a narrower audience than the node enforces.
      throw invalidInput(`the report cannot be labelled above TLP:${highest.toUpperCase()}`, [
        {
          field: 'body/tlp',
          message: `is stricter than TLP:${highest.toUpperCase()}: a report's readers are those of its request and of every case it draws on, so it takes AMBER at most, or the label of the strictest case it contains`,
        },
      ]);
    }
    if (rank(tlp) < rank(view.minimumTlp)) {
      throw invalidInput(`the report cannot be labelled below TLP:${view.minimumTlp.toUpperCase()}`, [
        {
          field: 'body/tlp',
          message: `is below TLP:${view.minimumTlp.toUpperCase()}, the strictest label of what the report contains (its request and cases); leave the cases out to lower it`,
        },
      ]);
    }
    await inTransaction(this.deps.db, async (trx) => {
      const row = await this.lockForWrite(trx, requestId, kind, ifMatch);
      const now = this.deps.clock.now();
      // null returns a text or choice to the draft from the record; a yes/no keeps it: not known.
      const merged = { ...(row ? (row.field_values as Values) : {}), ...values };
      const yesNo = new Set(
        definitionOf(kind)
          .fields.filter((f) => f.type === 'yesno')
          .map((f) => f.key),
      );
      for (const [key, value] of Object.entries(values))
        if (value === null && !yesNo.has(key)) delete merged[key];
      const sources = this.sourceCases(view, merged, row);
      const saved = row
        ? await repo.update(trx, row.id, {
            field_values: JSON.stringify(merged),
            tlp,
            source_case_ids: sources,
            version: row.version + 1,
            updated_at: now,
            updated_by: ctx.actor.name,
          })
        : await this.insertFirst(trx, ctx, requestId, kind, {
            field_values: JSON.stringify(merged),
            tlp,
            source_case_ids: sources,
          });
      await this.deps.audit.record(trx, ctx, {
        action: 'report.edit',
        objectType: 'report',
        objectId: saved.id,
        summary: { requestId, kind, version: saved.version, tlp, fields: Object.keys(values) },
      });
    });
    return this.get(ctx, requestId, kind);
  }

  /** Submits the post-action report: the request moves to reported and its report clock is met. */
  async submitPostAction(ctx: Ctx, requestId: string, ifMatch: number | undefined) {
    const view = await this.view(ctx, requestId, 'post_action');
    this.assertWritable(ctx, view, 'report');
    const summary = view.fields.find((f) => f.key === 'summary')?.value;
    if (typeof summary !== 'string' || summary.trim() === '') {
      throw invalidInput('write a summary before submitting the post-action report', [
        { field: 'body/values/summary', message: 'is empty' },
      ]);
    }
    // The document records the report as submitted: its own clock met now, the request reported.
    const now = this.deps.clock.now();
    const facts = view.facts as PostActionFacts;
    facts.request = { ...facts.request, status: 'reported' };
    facts.clocks = facts.clocks.map((c) =>
      c.kind === 'post_action_report' && RUNNING.includes(c.state)
        ? { ...c, state: 'met', metAt: now.toISOString(), late: now > new Date(c.dueAt) }
        : c,
    );
    return this.submit(ctx, view, ifMatch, { submittedTo: null, filedAt: null }, async (trx) => {
      const current = await this.deps.requests.lockForChange(trx, ctx, requestId, undefined);
      // Everyone who sees the request sees its `report`: it says what the request itself says, and
      // where the report is; the report keeps what only its readers may read.
      await this.deps.requests.applyTransition(trx, ctx, current, 'report', {
        summary: `${publicSummary(facts)} The post-action report was submitted on ${now.toISOString().slice(0, 10)}, and is under Reports on the request, for those who may read it.`,
      });
    });
  }

  /** Marks a NIS2 report submitted: when and to whom the entity filed it; its clock is met at that time. */
  async submitNis2(
    ctx: Ctx,
    requestId: string,
    kind: Nis2ReportKind,
    body: Nis2Submit,
    ifMatch: number | undefined,
  ) {
    const view = await this.view(ctx, requestId, kind);
    this.assertWritable(ctx, view, 'readNis2');
    const clockKind = NIS2[kind].clock;
    const clock = clockKind ? view.request.deadlines.find((d) => d.kind === clockKind) : undefined;
    if (!clockKind || (clock && !RUNNING.includes(clock.state)))
      this.checkFiledAt(view.request, body.filedAt);
    const filing = { submittedTo: body.submittedTo.trim(), filedAt: new Date(body.filedAt).toISOString() };
    // The document records the filing as made: its clock met when the entity filed.
    if (clock && RUNNING.includes(clock.state)) {
      view.facts.clocks = view.facts.clocks.map((c) =>
        c.kind === clockKind
          ? { ...c, state: 'met', metAt: filing.filedAt, late: new Date(filing.filedAt) > new Date(c.dueAt) }
          : c,
      );
    }
    return this.submit(ctx, view, ifMatch, filing, async (trx) => {
      // A clock met already (recorded before reports were drafted here) stays as it was met.
      if (clockKind && (!clock || RUNNING.includes(clock.state))) {
        await this.deps.requests.recordNis2Filing(trx, ctx, requestId, clockKind, {
          filedAt: body.filedAt,
          ...(body.timeZone !== undefined ? { timeZone: body.timeZone } : {}),
        });
      }
    });
  }

  /** A file of the report for its reader. */
  async file(ctx: Ctx, requestId: string, kind: ReportKind, format: ReportFormat) {
    const view = await this.view(ctx, requestId, kind);
    const base = `vytis-${kind.replaceAll('_', '-')}-report-${requestId.slice(0, 8)}${view.layout.status === 'draft' ? '-draft' : ''}`;
    switch (format) {
      case 'pdf':
        return { body: await this.renderPdf(view.layout), type: 'application/pdf', filename: `${base}.pdf` };
      case 'markdown':
        return {
          body: renderReportMarkdown(view.layout),
          type: 'text/markdown; charset=utf-8',
          filename: `${base}.md`,
        };
      case 'json':
        return {
          body: JSON.stringify(this.jsonFile(view), null, 2),
          type: 'application/json; charset=utf-8',
          filename: `${base}.json`,
        };
      case 'stix': {
        if (kind !== 'post_action') {
          throw invalidInput('only the post-action report is published as STIX', [
            {
              field: 'querystring/format',
              message: 'stix is for the post-action report; use pdf, markdown or json',
            },
          ]);
        }
        const bundle = reportStixBundle(view.layout, {
          requestId,
          requestTitle: view.request.title,
          incidentClass: view.request.incidentClass,
          // The force's node wrote the report; a node of no party names the requesting state.
          party: this.deps.node.party ?? view.request.party,
          nodeUrl: this.nodeUrl,
          createdAt: (view.row?.created_at ?? this.deps.clock.now()).toISOString(),
          modifiedAt: (view.row?.updated_at ?? this.deps.clock.now()).toISOString(),
        });
        return {
          body: JSON.stringify(bundle, null, 2),
          type: 'application/stix+json;version=2.1',
          filename: `${base}.stix.json`,
        };
      }
    }
  }

  /**
   * One PDF at a time per process: laying one out takes up to a few seconds of the event loop and
   * some memory, and a crowd of downloads must queue rather than multiply both.
   */
  private renderPdf(layout: ReportLayout): Promise<Buffer> {
    const rendered = this.rendering.then(() => renderReportPdf(layout));
    this.rendering = rendered.catch(() => undefined);
    return rendered;
  }

  private rendering: Promise<unknown> = Promise.resolve();

  private get nodeUrl() {
    return this.deps.node.publicUrl ?? '';
  }

  /** The request, if the reader may read this kind of report on it (404 otherwise: absent, not refused). */
  private async readableRequest(ctx: Ctx, requestId: string, kind: ReportKind) {
    const request = await this.deps.requests.get(ctx, requestId);
    if (kind !== 'post_action' && !request.can.readNis2)
      throw notFound(`NIS2 reports of request ${requestId}`);
    // A mission to report on exists once the council activated the request.
    if (kind === 'post_action' && (!request.decision || request.decision.outcome === 'declined'))
      throw notFound(`post-action report of request ${requestId}`);
    return request;
  }

  private async view(ctx: Ctx, requestId: string, kind: ReportKind): Promise<ReportView> {
    const request = await this.readableRequest(ctx, requestId, kind);
    const row = await repo.find(readerOf(this.deps.db), requestId, kind);
    const view = await this.viewOf(ctx, kind, request, row, () =>
      kind === 'post_action'
        ? postActionFacts(this.sources, ctx, caseViewerOf(this.deps.clock, ctx), requestId)
        : nis2Facts(this.sources, ctx, caseViewerOf(this.deps.clock, ctx), request),
    );
    if (!view) throw notFound(`${kind.replaceAll('_', ' ')} report of request ${requestId}`);
    return view;
  }

  /**
   * A report of a request the reader may read, from its row (if saved) and the record as they see
   * it (`live`, gathered only for a report not yet frozen); null when it drew on a case they do not see.
   */
  private async viewOf(
    ctx: Ctx,
    kind: ReportKind,
    request: AssistanceRequest,
    row: repo.ReportRow | undefined,
    live: () => Promise<PostActionFacts | Nis2Facts>,
  ): Promise<ReportView | null> {
    if (row && row.source_case_ids.length > 0) {
      const viewer = caseViewerOf(this.deps.clock, ctx);
      const seen = await repo.countVisibleCases(readerOf(this.deps.db), viewer, row.source_case_ids);
      if (seen < row.source_case_ids.length) return null;
    }
    const frozen = row?.status === 'submitted' ? (row.document as FrozenDocument) : null;
    if (frozen && kind === 'post_action') {
      const { facts, withheld } = await this.frozenForReader(ctx, frozen.facts as PostActionFacts);
      const built = this.build(ctx, kind, request, row, facts);
      return { ...built, withheld: withheld || built.withheld };
    }
    return this.build(ctx, kind, request, row, frozen?.facts ?? (await live()));
  }

  /**
   * A frozen post-action report as one reader may see it: the deployments they see today, the
   * timeline entries they see today (not a draft's, unless they are of its party), and another
   * state's people as a place. `withheld` says whether anything was left out.
   */
  private async frozenForReader(ctx: Ctx, facts: PostActionFacts) {
    const [{ items: deployments }, { items: timeline }] = await Promise.all([
      this.deps.deployments.list(ctx, { requestId: facts.request.id }),
      this.deps.requests.timeline(ctx, facts.request.id),
    ]);
    const seen = new Set(deployments.map((d) => d.id));
    const entry = (e: { at: string; kind: string; actor: string }) => `${e.at}|${e.kind}|${e.actor}`;
    const seenEntries = new Set(timeline.map(entry));
    const shown: PostActionFacts = {
      ...facts,
      deployments: facts.deployments
        .filter((d) => seen.has(d.id))
        .map((d) => ({
          ...d,
          members: d.members.map((m) =>
            deploymentMemberView(ctx.actor, d.hostParty, m.party) === 'place'
              ? { ...m, name: null, skills: null, decidedBy: null }
              : m,
          ),
        })),
      timeline: facts.timeline.filter((e) => seenEntries.has(entry(e))),
    };
    // How many entries the reader sees beyond the frozen ones (only when the timeline was cut).
    const last = facts.timeline.at(-1)?.at;
    const later =
      facts.timelineTotal > facts.timeline.length && last ? timeline.filter((e) => e.at > last).length : 0;
    shown.timelineTotal = shown.timeline.length + later;
    const withheld =
      shown.deployments.length < facts.deployments.length ||
      shown.timeline.length < facts.timeline.length ||
      shown.deployments.some((d, i) =>
        d.members.some((m, j) => m.name !== facts.deployments[i]?.members[j]?.name),
      );
    return { facts: shown, withheld };
  }

  private build(
    ctx: Ctx,
    kind: ReportKind,
    request: AssistanceRequest,
    row: repo.ReportRow | undefined,
    given: PostActionFacts | Nis2Facts,
  ): ReportView {
    let facts = given;
    const frozen = row?.status === 'submitted' ? (row.document as FrozenDocument) : null;
    // What the record drafted is drafted again for this reader from what they see of it; what
    // authors wrote stays as written.
    const stored = frozen
      ? Object.fromEntries(Object.entries(frozen.values).filter(([key]) => !frozen.drafted?.includes(key)))
      : ((row?.field_values ?? {}) as Values);
    // Cases left out are left out of everything: no table, no draft drawn from them, no source.
    if (kind === 'post_action' && stored.includeCases === false) facts = { ...facts, cases: [] };
    const definition = definitionOf(kind);
    const fields = fieldsOf(definition as KindDefinition<typeof facts>, stored, facts);
    const includeCases = fields.find((f) => f.key === 'includeCases')?.value !== false;
    const minimumTlp = strictest([facts.request.tlp, ...(includeCases ? facts.cases.map((c) => c.tlp) : [])]);
    // A saved label stays within what the gates enforce now (the cases may have been left out since).
    const saved = row?.tlp ?? facts.request.tlp;
    const tlp =
      frozen?.tlp ??
      (rank(saved) > rank(highestTlp(minimumTlp)) ? highestTlp(minimumTlp) : strictest([saved, minimumTlp]));
    const redrafted = frozen
      ? fields.some((f) => frozen.drafted?.includes(f.key) && f.value !== frozen.values[f.key])
      : false;
    const blocks =
      kind === 'post_action'
        ? postActionBlocks(ctx.actor, facts as PostActionFacts, fields)
        : nis2Blocks(facts as Nis2Facts, fields, {
            submittedTo: row?.submitted_to ?? null,
            filedAt: row?.filed_at?.toISOString() ?? null,
            clockKind: definition.clock,
          });
    const signature = this.signatureOf(row);
    const now = this.deps.clock.now().toISOString();
    const layout: ReportLayout = {
      title: definition.title,
      subtitle: `${request.title} — ${request.party}${request.exercise ? ' (exercise)' : ''}`,
      tlp,
      status: frozen ? 'submitted' : 'draft',
      requestId: request.id,
      preparedAt: frozen?.submittedAt ?? now,
      blocks,
      signature,
    };
    const open = !frozen && !request.mirroredFrom;
    const canEdit = open && (kind === 'post_action' ? request.can.editReport : request.can.readNis2);
    // The final report's clock starts only when the notification is recorded.
    const canSubmit =
      open &&
      (kind === 'post_action'
        ? request.can.report
        : request.can.readNis2 &&
          (definition.clock !== 'nis2_final_report' ||
            request.deadlines.some((d) => d.kind === definition.clock)));
    const sourceCaseIds = given.cases.map((c) => c.id);
    return {
      kind,
      request,
      row,
      facts,
      sourceCaseIds,
      fields,
      minimumTlp,
      tlp,
      layout,
      canEdit,
      canSubmit,
      withheld: redrafted,
    };
  }

  private signatureOf(row: repo.ReportRow | undefined): ReportSignature | null {
    if (row?.status !== 'submitted' || !row.sha256 || !row.signature) return null;
    const frozen = row.document as FrozenDocument;
    return {
      party: frozen.node.party,
      nodeUrl: frozen.node.url,
      keyId: frozen.node.keyId,
      sha256: row.sha256,
      signature: row.signature,
      submittedAt: frozen.submittedAt,
      submittedBy: frozen.submittedBy,
    };
  }

  private present(view: ReportView): Report {
    const row = view.row;
    const clockKind = definitionOf(view.kind).clock;
    return {
      requestId: view.request.id,
      kind: view.kind,
      title: view.layout.title,
      status: view.layout.status,
      version: row?.version ?? 0,
      tlp: view.tlp,
      minimumTlp: view.minimumTlp,
      fields: view.fields,
      layout: view.layout,
      clock: view.request.deadlines.find((d) => d.kind === clockKind) ?? null,
      updatedAt: row?.updated_at.toISOString() ?? null,
      updatedBy: row?.updated_by ?? null,
      submittedTo: row?.submitted_to ?? null,
      filedAt: row?.filed_at?.toISOString() ?? null,
      signature: view.layout.signature,
      can: { edit: view.canEdit, submit: view.canSubmit },
    };
  }

  /** Who may write: the rule of the request's `can` (403 or 409 with its reason), and never a copy or a frozen report. */
  private assertWritable(ctx: Ctx, view: ReportView, action: RequestAction) {
    const r = view.request;
    if (r.mirroredFrom) {
      throw conflict(`this request is kept on ${r.mirroredFrom}'s node: its reports are written there`);
    }
    if (view.row?.status === 'submitted') {
      throw conflict(
        `the ${view.layout.title.toLowerCase()} was submitted on ${view.row.submitted_at?.toISOString()} and is frozen`,
      );
    }
    assertMay(
      ctx.actor,
      {
        party_code: r.party,
        status: r.status,
        council: r.council,
        decision: r.decision,
        deadlines: r.deadlines,
      },
      action,
      this.deps.clock.now(),
    );
  }

  /** The edit's values, checked against the kind's fields: each problem names its field. */
  private checkedValues(view: ReportView, edit: ReportEdit): Values {
    const definition = definitionOf(view.kind);
    const problems: FieldProblem[] = [];
    for (const [key, value] of Object.entries(edit.values)) {
      const field = definition.fields.find((f) => f.key === key);
      const at = `body/values/${key}`;
      if (!field) {
        problems.push({
          field: at,
          message: `is not a field of the ${definition.title.toLowerCase()}; its fields are ${definition.fields.map((f) => f.key).join(', ')}`,
        });
      } else if (field.type === 'text' && typeof value !== 'string' && value !== null) {
        problems.push({
          field: at,
          message: 'must be text (or null to return to the draft from the record)',
        });
      } else if (typeof value === 'string' && lineCount(value) > REPORT_TEXT_LINES_MAX) {
        problems.push({
          field: at,
          message: `has ${lineCount(value)} lines: at most ${REPORT_TEXT_LINES_MAX}`,
        });
      } else if (field.type === 'yesno' && typeof value !== 'boolean' && value !== null) {
        problems.push({ field: at, message: 'must be true or false (or null to return to the draft)' });
      } else if (field.type === 'choice' && value !== null && !field.choices?.includes(value as string)) {
        problems.push({ field: at, message: `must be one of ${field.choices?.join(', ')} (or null)` });
      }
    }
    if (problems.length > 0)
      throw invalidInput(problems.map((p) => `${p.field} ${p.message}`).join('; '), problems);
    return edit.values;
  }

  private checkFiledAt(request: AssistanceRequest, filedAt: string) {
    const at = new Date(filedAt).getTime();
    if (at > this.deps.clock.now().getTime() + AWARE_AT_SKEW_MS) {
      throw invalidInput('the filing time is in the future', [
        {
          field: 'body/filedAt',
          message: `is in the future (it is now ${this.deps.clock.now().toISOString()})`,
        },
      ]);
    }
    if (at < new Date(request.awareAt).getTime()) {
      throw invalidInput('the filing time is before the entity became aware of the incident', [
        { field: 'body/filedAt', message: `is before awareAt ${request.awareAt}` },
      ]);
    }
  }

  /**
   * The cases a save or submission drew on, whose readers bound the report's: once drawn on, a case
   * stays a source, unless an author leaves the cases out of the post-action report altogether.
   */
  private sourceCases(view: ReportView, values: Values, row: repo.ReportRow | undefined) {
    if (view.kind === 'post_action' && values.includeCases === false) return [];
    return [...new Set([...(row?.source_case_ids ?? []), ...view.sourceCaseIds])];
  }

  private async lockForWrite(trx: Tx, requestId: string, kind: ReportKind, ifMatch: number | undefined) {
    const row = await repo.lock(trx, requestId, kind);
    const version = row?.version ?? 0;
    if (ifMatch !== undefined && ifMatch !== version) {
      throw new AppError(
        'precondition_failed',
        `the report changed since you read it: you sent version ${ifMatch}, it is now at version ${version}; reload and retry (your text is not saved)`,
      );
    }
    if (row?.status === 'submitted')
      throw conflict(`the report was submitted on ${row.submitted_at?.toISOString()} and is frozen`);
    return row;
  }

  /** The first save of a report; a concurrent first save by another author wins, and this one is told to reload. */
  private async insertFirst(
    trx: Tx,
    ctx: Ctx,
    requestId: string,
    kind: ReportKind,
    columns: { field_values: string; tlp: string; source_case_ids: string[] },
  ) {
    const now = this.deps.clock.now();
    const inserted = await trx
      .insertInto('reports')
      .values({
        id: crypto.randomUUID(),
        request_id: requestId,
        kind,
        status: 'draft',
        version: 1,
        ...columns,
        created_at: now,
        created_by: ctx.actor.name,
        updated_at: now,
        updated_by: ctx.actor.name,
      })
      .onConflict((oc) => oc.columns(['request_id', 'kind']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!inserted) {
      throw new AppError(
        'precondition_failed',
        'another author saved this report first: reload it and retry',
      );
    }
    return inserted;
  }

  /** Freezes the report as `view` shows it to its submitter, with `effects` in the same transaction. */
  private async submit(
    ctx: Ctx,
    view: ReportView,
    ifMatch: number | undefined,
    filing: { submittedTo: string | null; filedAt: string | null },
    effects: (trx: Tx) => Promise<void>,
  ) {
    const now = this.deps.clock.now();
    const values = Object.fromEntries(view.fields.map((f) => [f.key, f.value]));
    const drafted = view.fields
      .filter((f) => !Object.hasOwn((view.row?.field_values ?? {}) as Values, f.key))
      .map((f) => f.key);
    const document: FrozenDocument = {
      kind: view.kind,
      requestId: view.request.id,
      tlp: view.tlp,
      values,
      drafted,
      facts: view.facts,
      submittedAt: now.toISOString(),
      submittedBy: ctx.actor.name,
      ...filing,
      node: { party: this.deps.node.party, url: this.nodeUrl, keyId: this.deps.key.keyId },
    };
    const canonical = canonicalJson(document);
    const hash = sha256(canonical);
    const signature = sign(this.deps.key, hash);
    await inTransaction(this.deps.db, async (trx) => {
      const row = await this.lockForWrite(trx, view.request.id, view.kind, ifMatch);
      // What is frozen is what was read: a save since then (with or without If-Match) is not lost.
      if ((row?.version ?? 0) !== (view.row?.version ?? 0)) {
        throw new AppError(
          'precondition_failed',
          'the report was saved by someone else while you submitted it: reload it, check it, and submit again',
        );
      }
      const sources = this.sourceCases(view, values, row);
      const base =
        row ??
        (await this.insertFirst(trx, ctx, view.request.id, view.kind, {
          field_values: JSON.stringify(values),
          tlp: view.tlp,
          source_case_ids: sources,
        }));
      await effects(trx);
      await repo.update(trx, base.id, {
        status: 'submitted',
        version: base.version + 1,
        tlp: view.tlp,
        field_values: JSON.stringify(values),
        source_case_ids: sources,
        document: canonical,
        sha256: hash,
        signature,
        key_id: this.deps.key.keyId,
        submitted_at: now,
        submitted_by: ctx.actor.name,
        submitted_to: filing.submittedTo,
        filed_at: filing.filedAt,
        updated_at: now,
        updated_by: ctx.actor.name,
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'report.submit',
        objectType: 'report',
        objectId: base.id,
        summary: {
          requestId: view.request.id,
          kind: view.kind,
          sha256: hash,
          keyId: this.deps.key.keyId,
          tlp: view.tlp,
          ...(filing.filedAt !== null ? { submittedTo: filing.submittedTo, filedAt: filing.filedAt } : {}),
        },
      });
    });
    return this.get(ctx, view.request.id, view.kind);
  }

  /**
   * The JSON file: the frozen document with its hash and signature (the hash is over the document
   * exactly as frozen, so a reader who is shown only a place for some responders gets a document
   * that says so and no longer matches it), or the draft as the reader sees it.
   */
  private jsonFile(view: ReportView) {
    const report = this.present(view);
    const frozen = view.row?.status === 'submitted' ? (view.row.document as FrozenDocument) : null;
    if (!frozen) return { report };
    return view.withheld
      ? {
          report,
          withheld:
            'parts of the team or the timeline that you may not see are left out, so the document itself is not included: the SHA-256 and the signature are over the whole document, which its other readers can check',
        }
      : { report, document: frozen };
  }
}
