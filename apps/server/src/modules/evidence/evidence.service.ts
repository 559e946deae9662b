import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { CustodyEntry, Evidence, EvidenceTransfer, Tlp } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { conflict, invalidInput, notFound } from '../../errors.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import { CaseAccess } from '../cases/case-access.ts';
import type { CasesService } from '../cases/cases.service.ts';
import * as repo from './evidence.repository.ts';
import { type EvidenceStorage, IntegrityError, tooLarge } from './evidence.storage.ts';

export interface EvidenceDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  cases: CasesService;
  /** Where evidence content is kept: files, or the database (see evidence.stores.ts). */
  storage: EvidenceStorage;
  /** The largest file accepted. */
  maxBytes: number;
}

/** An upload still unfinished after this long was abandoned (its process died mid-way). */
const ABANDONED_AFTER_MS = 24 * 3_600_000;
const SWEEP_EVERY_MS = 3_600_000;

export interface UploadInput {
  /** As the uploader named it: metadata only, never a path. */
  filename: string;
  tlp?: Tlp | undefined;
  note?: string | undefined;
  /** The request's content type, if any. */
  mediaType?: string | undefined;
  /** The request's content-length, if it declared one: refused at once when it is too large. */
  declaredSize?: number | undefined;
}

/** A download: the item as recorded (custody included) and its file, verified, to stream once. */
export interface Download {
  evidence: Evidence;
  stream: Readable;
}

const DEFAULT_MEDIA_TYPE = 'application/octet-stream';

/**
 * Evidence files of cases, with their chain of custody. Who may see an item is the access policy
 * (its case, then its own label); who may add one or hand it over is whoever works on the case.
 * Every step — upload, each download, each transfer — is a custody entry and an audit event,
 * written in one transaction with the change it records.
 */
export class EvidenceService {
  private readonly store: EvidenceStorage;
  private nextSweepAt = 0;

  constructor(readonly deps: EvidenceDeps) {
    this.store = deps.storage;
  }

  async list(ctx: Ctx, caseId: string) {
    await this.deps.cases.visibleCase(ctx, caseId);
    const rows = await repo.listVisible(this.deps.db, this.deps.cases.viewer(ctx), caseId);
    return { items: rows.map((row) => presentEvidence(row)) };
  }

  async get(ctx: Ctx, caseId: string, id: string): Promise<Evidence> {
    await this.deps.cases.visibleCase(ctx, caseId);
    const row = await repo.findVisible(this.deps.db, this.deps.cases.viewer(ctx), caseId, id);
    if (!row) throw notFound(`evidence ${id}`);
    return presentEvidence(row, await repo.custodyOf(this.deps.db, id));
  }

  /**
   * Stores a file as evidence of a case. The file is read (and hashed) before the transaction, so
   * no lock is held while it arrives; whether the actor may add evidence is asked before reading
   * and again when writing. The row and the file exist together or not at all.
   */
  async upload(ctx: Ctx, caseId: string, source: Readable, input: UploadInput): Promise<Evidence> {
    const filename = checkFilename(input.filename);
    const mediaType = checkMediaType(input.mediaType);
    const theCase = await this.deps.cases.visibleCase(ctx, caseId);
    (await CaseAccess.of(this.deps.db, ctx, theCase)).requireContributor('add evidence');
    if (input.declaredSize !== undefined && input.declaredSize > this.deps.maxBytes) {
      throw tooLarge(this.deps.maxBytes);
    }
    await this.sweepIfDue();
    const id = crypto.randomUUID();
    const incoming = await this.store.receive(id, source);
    try {
      return await inTransaction(this.deps.db, async (trx) => {
        const { row, access } = await this.deps.cases.lockForWork(trx, ctx, caseId, 'items');
        access.requireContributor('add evidence');
        const tlp = input.tlp ?? (row.tlp as Tlp);
        const now = this.deps.clock.now();
        const evidence = await repo.insertEvidence(trx, {
          id,
          case_id: caseId,
          filename,
          media_type: mediaType,
          size: incoming.size,
          sha256: incoming.sha256,
          tlp,
          custodian: ctx.actor.name,
          origin_party: ctx.actor.party ?? row.owner_party,
          created_by_id: ctx.actor.id,
          created_by: ctx.actor.name,
          created_at: now,
        });
        const custody = await repo.insertCustody(trx, {
          evidence_id: id,
          at: now,
          action: 'upload',
          actor: ctx.actor.name,
          party: ctx.actor.party,
          custodian: ctx.actor.name,
          sha256: incoming.sha256,
          note: input.note ?? '',
        });
        await this.deps.cases.touch(trx, caseId, tlp);
        await this.deps.cases.record(trx, ctx, caseId, tlp, 'evidence.upload', {
          evidenceId: id,
          sha256: incoming.sha256,
          size: incoming.size,
          tlp,
        });
        // Last, so a failed write above leaves only received content, removed below.
        await this.store.place(trx, incoming);
        return presentEvidence(evidence, [custody]);
      });
    } catch (error) {
      await this.discardUnrecorded(id);
      throw error;
    }
  }

  /**
   * After a failed recording transaction, removes the received content — but only once the database
   * says no row was committed: a commit can be applied with its acknowledgement lost, and the item
   * then stands and must keep its content. When that cannot be asked, the content stays for the
   * sweeper, which removes it only when no row has appeared.
   */
  private async discardUnrecorded(id: string) {
    const recorded = await repo.recordedAmong(this.deps.db, [id]).catch(() => null);
    if (recorded && !recorded.has(id)) await this.store.remove(id).catch(() => {});
  }

  /**
   * Hands out the file of an item. The download is a custody step: it is recorded (and audited)
   * before a byte is sent, and only once the stored file is found to match its record. A file that
   * does not is not served, and that is audited too.
   */
  async download(ctx: Ctx, caseId: string, id: string): Promise<Download> {
    await this.deps.cases.visibleCase(ctx, caseId);
    const viewer = this.deps.cases.viewer(ctx);
    const row = await repo.findVisible(this.deps.db, viewer, caseId, id);
    if (!row) throw notFound(`evidence ${id}`);
    // Checked outside the transaction: reading a large file must not hold the database.
    const file = await this.store
      .open(id, { size: Number(row.size), sha256: row.sha256 })
      .catch(async (error: unknown) => {
        if (error instanceof IntegrityError) await this.auditIntegrity(ctx, caseId, error);
        throw error;
      });
    try {
      const evidence = await inTransaction(this.deps.db, async (trx) => {
        const current = await repo.lockVisible(trx, viewer, caseId, id, 'share');
        if (!current) throw notFound(`evidence ${id}`);
        await repo.insertCustody(trx, {
          evidence_id: id,
          at: this.deps.clock.now(),
          action: 'download',
          actor: ctx.actor.name,
          party: ctx.actor.party,
          custodian: current.custodian,
          sha256: current.sha256,
          note: '',
        });
        await this.deps.cases.record(trx, ctx, caseId, current.tlp, 'evidence.download', {
          evidenceId: id,
          sha256: current.sha256,
          size: Number(current.size),
        });
        return presentEvidence(current, await repo.custodyOf(trx, id));
      });
      return { evidence, stream: file.stream() };
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  /**
   * Content of uploads whose process died mid-way is never placed: delete it now and then. Any
   * upload may do it, so it also happens on a node whose processes come and go.
   */
  private async sweepIfDue() {
    const now = this.deps.clock.now().getTime();
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + SWEEP_EVERY_MS;
    await this.store
      .sweepAbandoned(new Date(now - ABANDONED_AFTER_MS), (ids) => repo.recordedAmong(this.deps.db, ids))
      .catch(() => {});
  }

  private async auditIntegrity(ctx: Ctx, caseId: string, error: IntegrityError) {
    await inTransaction(this.deps.db, (trx) =>
      this.deps.audit.record(trx, ctx, {
        action: 'evidence.integrity-failure',
        objectType: 'case',
        objectId: caseId,
        summary: { evidenceId: error.evidenceId, reason: error.reason },
      }),
    ).catch(() => {});
  }

  /** Hands custody of an item to someone else: for those who work on the case. */
  async transfer(ctx: Ctx, caseId: string, id: string, input: EvidenceTransfer): Promise<Evidence> {
    const custodian = input.custodian.trim();
    // A name is shown in custody records and exports: the same rules as a file name, bar separators.
    const problem = nameProblem(custodian);
    if (problem) {
      throw invalidInput(`the new custodian ${problem}`, [{ field: 'body/custodian', message: problem }]);
    }
    return inTransaction(this.deps.db, async (trx) => {
      const { access } = await this.deps.cases.lockForWork(trx, ctx, caseId, 'items');
      const viewer = this.deps.cases.viewer(ctx);
      const current = await repo.lockVisible(trx, viewer, caseId, id, 'update');
      if (!current) throw notFound(`evidence ${id}`);
      access.requireContributor('hand over its evidence');
      if (current.custodian === custodian) {
        throw conflict(`${custodian} already holds this evidence`, { custodian });
      }
      const updated = await repo.setCustodian(trx, id, custodian);
      await repo.insertCustody(trx, {
        evidence_id: id,
        at: this.deps.clock.now(),
        action: 'transfer',
        actor: ctx.actor.name,
        party: ctx.actor.party,
        custodian,
        sha256: current.sha256,
        note: input.note ?? '',
      });
      await this.deps.cases.touch(trx, caseId, current.tlp);
      await this.deps.cases.record(trx, ctx, caseId, current.tlp, 'evidence.transfer', {
        evidenceId: id,
        from: current.custodian,
        to: custodian,
      });
      return presentEvidence(updated, await repo.custodyOf(trx, id));
    });
  }
}

/** Bidirectional overrides and isolates: they make `evil‮txt.exe` read as `evilexe.txt`. */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/u;

/**
 * A file name is kept as metadata (any script is fine) but never as a path: no separators, no
 * `.` or `..`, no control characters, nothing that disguises what it says.
 */
export function filenameProblem(name: string): string | null {
  if (name === '.' || name === '..') return 'is not a file name';
  if (/[/\\]/.test(name)) return 'contains a path separator (/ or \\)';
  return nameProblem(name);
}

/** A name shown to people: any script, but nothing invisible that changes how it reads. */
function nameProblem(name: string): string | null {
  if (name.trim() === '') return 'is blank';
  if (/\p{Cc}/u.test(name)) return 'contains a control character';
  if (BIDI_CONTROLS.test(name)) return 'contains a bidirectional control character';
  if (!name.isWellFormed()) return 'contains an unpaired surrogate';
  return null;
}

function checkFilename(name: string) {
  const problem = filenameProblem(name);
  if (problem) {
    throw invalidInput(`the file name ${problem}; it is kept as a label only, not a path`, [
      { field: 'querystring/filename', message: problem },
    ]);
  }
  return name;
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = String.raw`"(?:[^"\\\u0000-\u001f\u007f]|\\[\u0020-\u007e])*"`;
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED}))*$`, 'u');

/** The media type as the uploader sent it (it is served back as is), or octet-stream. */
function checkMediaType(header: string | undefined) {
  const value = header?.trim() ?? '';
  if (value === '') return DEFAULT_MEDIA_TYPE;
  if (value.length > 255 || !MEDIA_TYPE.test(value)) {
    throw invalidInput('the content type is not a media type such as application/pdf', [
      { field: 'headers/content-type', message: 'is not a media type' },
    ]);
  }
  const semicolon = value.indexOf(';');
  if (semicolon < 0) return value.toLowerCase();
  return `${value.slice(0, semicolon).trimEnd().toLowerCase()}${value.slice(semicolon)}`;
}

function presentCustody(row: repo.CustodyRow): CustodyEntry {
  return {
    at: row.at.toISOString(),
    action: row.action as CustodyEntry['action'],
    actor: row.actor,
    party: row.party,
    custodian: row.custodian,
    sha256: row.sha256,
    note: row.note,
  };
}

export function presentEvidence(row: repo.EvidenceRow, custody?: repo.CustodyRow[]): Evidence {
  return {
    id: row.id,
    caseId: row.case_id,
    filename: row.filename,
    mediaType: row.media_type,
    size: Number(row.size),
    sha256: row.sha256,
    tlp: row.tlp as Tlp,
    custodian: row.custodian,
    originParty: row.origin_party,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    ...(custody ? { custody: custody.map(presentCustody) } : {}),
  };
}
