import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { requestBody } from '../test/requests.fixtures.ts';
import { sampleRoster } from './demo-roster.ts';
import {
  caseBody,
  client,
  type NodeProcess,
  type ProcessStorage,
  processStorage,
  startNode,
  vytis,
  withServices,
} from './node-process.fixtures.ts';

// `kill -9` in the middle of imports, votes, evidence uploads and team adoptions, on the engine the
// run uses, then a restart on the same storage: every write that was acknowledged is there, no
// write is there in part (an import cut short is rolled back by the restarted node's scheduler),
// the audit chain verifies, and the database opens.
const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;
/**
 * When each round's kill comes: at the first acknowledged write, once an import's case holds part
 * of its rows, and right after the first whole import (the other one is likely mid-way). Each
 * waits at most KILL_BY_MS, so a slow machine still gets its crash.
 */
const ROUNDS = [
  { when: 'at the first acknowledged write', ready: (n: Acks) => n.all >= 1 },
  {
    when: 'while an import is half-written',
    ready: (n: Acks) => n.halfImport || n.imports >= 1,
  },
  { when: 'right after an import is acknowledged', ready: (n: Acks) => n.imports >= 1 },
];
const KILL_BY_MS = 20_000;

interface Acks {
  all: number;
  imports: number;
  /** An import's case was seen holding some of its rows but not all. */
  halfImport: boolean;
}
const IMPORT_LINES = 4000;
/** How long the restarted node may take to roll back imports cut short (its scheduler ticks each second). */
const RECOVERY_BY_MS = 60_000;
const DAY = 86_400_000;

const sha256 = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');

interface RoundWork {
  importCases: string[];
  voteRequests: string[];
  adoptions: { requestId: string; proposalId: string; size: number }[];
}

describe('crash safety: kill -9 during writes, then restart', () => {
  let storage: ProcessStorage;
  let node: NodeProcess;
  const tokens: Record<string, string> = {};
  const as = (name: string) => client(node.base, tokens[name]!);
  let evidenceCase = '';
  const rounds: RoundWork[] = [];
  const uploads = new Map<string, { bytes: Buffer; acknowledgedId: string | null }>();

  /** A request filed and submitted by LT's PoC, its mission window `offsetDays` ahead. */
  async function submitted(offsetDays: number) {
    const from = new Date(Date.now() + offsetDays * DAY);
    const created = await as('lt.poc').post(
      '/requests',
      requestBody({
        needs: [{ skill: 'digital-forensics', count: 1, minLevel: 1 }],
        window: { from: from.toISOString(), to: new Date(from.getTime() + 5 * DAY).toISOString() },
        awareAt: new Date(Date.now() - 3_600_000).toISOString(),
      }),
    );
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const done = await as('lt.poc').post(`/requests/${created.json.id}/submit`);
    assert.equal(done.status, 200, JSON.stringify(done.json));
    return done.json as { id: string; council: { electorate: string[] } };
  }

  before(async () => {
    storage = await processStorage('crash');
    // The scheduler rolls back imports cut short: on PostgreSQL once their heartbeat is this old.
    storage.env.VYTIS_SCHEDULER_SECONDS = '1';
    storage.env.VYTIS_IMPORT_STALE_SECONDS = '3';
    await withServices(storage.env, async (services, cli) => {
      const users: [string, string, ('analyst' | 'auditor' | 'coordinator' | 'poc' | 'council')[]][] = [
        ['lt.analyst', 'LT', ['analyst']],
        ['coordinator', 'LT', ['coordinator']],
        ['lt.auditor', 'LT', ['auditor']],
        ...MEMBERS.flatMap((p) => [
          [`${p.toLowerCase()}.poc`, p, ['poc']] as [string, string, 'poc'[]],
          [`${p.toLowerCase()}.council`, p, ['council']] as [string, string, 'council'[]],
        ]),
      ];
      for (const [name, party, roles] of users) {
        await services.identity.createUser(cli, { name, party, roles });
        tokens[name] = (await services.identity.issueToken(cli, name)).token;
      }
    });
    node = await startNode(storage.env);
    for (const person of sampleRoster(30)) {
      const { party, ...responder } = person;
      const res = await as(`${party.toLowerCase()}.poc`).post('/responders', { ...responder, party });
      assert.equal(res.status, 201, JSON.stringify(res.json));
    }
    evidenceCase = (await as('lt.analyst').post('/cases', caseBody('Evidence under fire'))).json.id;
    for (let r = 0; r < ROUNDS.length; r++) {
      const work: RoundWork = { importCases: [], voteRequests: [], adoptions: [] };
      for (let i = 0; i < 2; i++) {
        work.importCases.push((await as('lt.analyst').post('/cases', caseBody(`Import ${r}.${i}`))).json.id);
      }
      for (let i = 0; i < 2; i++) work.voteRequests.push((await submitted(30 + r * 40 + i * 10)).id);
      for (let i = 0; i < 2; i++) {
        const request = await submitted(200 + r * 40 + i * 10);
        for (const party of request.council.electorate) {
          const cast = await as(`${party.toLowerCase()}.council`).post(`/requests/${request.id}/votes`, {
            vote: 'activate',
          });
          assert.equal(cast.status, 200, JSON.stringify(cast.json));
          if (cast.json.status !== 'voting') break;
        }
        const proposed = await as('coordinator').post(`/requests/${request.id}/team-proposals`);
        assert.equal(proposed.status, 201, JSON.stringify(proposed.json));
        assert.equal(proposed.json.feasible, true);
        work.adoptions.push({
          requestId: request.id,
          proposalId: proposed.json.id,
          size: proposed.json.members.length,
        });
      }
      rounds.push(work);
    }
  });
  after(async () => {
    if (node.child.exitCode === null && node.child.signalCode === null) await node.stop();
    await storage.destroy();
  });

  for (const [r, round] of ROUNDS.entries()) {
    it(`round ${r + 1}: killed ${round.when}, it restarts with every acknowledged write whole`, async () => {
      const work = rounds[r]!;
      const acks: Acks = { all: 0, imports: 0, halfImport: false };
      const ack = (ok: boolean, kind?: 'import') => {
        if (!ok) return ok;
        acks.all++;
        if (kind === 'import') acks.imports++;
        return ok;
      };
      const imports = work.importCases.map((caseId, i) => {
        const lines = Array.from({ length: IMPORT_LINES }, (_, n) => `domain,h${n}.r${r}i${i}.example.org`);
        const csv = `${['type,value', ...lines].join('\n')}\n`;
        return as('lt.analyst')
          .post(`/indicators/bulk?caseId=${caseId}`, csv, 'text/csv')
          .then((res) => ({ caseId, csv, acknowledged: ack(res.status === 200, 'import') }));
      });
      const evidence = Array.from({ length: 4 }, (_, i) => {
        const bytes = crypto.randomBytes(150_000 + i * 50_000);
        const filename = `r${r}-disk-${i}.img`;
        uploads.set(filename, { bytes, acknowledgedId: null });
        return as('lt.analyst')
          .post(`/cases/${evidenceCase}/evidence?filename=${filename}`, bytes, 'application/octet-stream')
          .then((res) => {
            if (ack(res.status === 201)) uploads.get(filename)!.acknowledgedId = res.json.id;
          });
      });
      const votes = work.voteRequests.flatMap((requestId) =>
        MEMBERS.map((party) =>
          as(`${party.toLowerCase()}.council`)
            .post(`/requests/${requestId}/votes`, { vote: 'activate' })
            .then((res) => ({ requestId, party, acknowledged: ack(res.status === 200) })),
        ),
      );
      const adoptions = work.adoptions.map((a) =>
        as('coordinator')
          .post(`/requests/${a.requestId}/team-proposals/${a.proposalId}/adopt`)
          .then((res) => ({ ...a, acknowledged: ack(res.status === 201) })),
      );
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          for (const caseId of work.importCases) {
            const stored = (await as('lt.analyst').get(`/cases/${caseId}/observables?limit=1`)).json?.total;
            if (stored > 0 && stored < IMPORT_LINES) acks.halfImport = true;
          }
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })().catch(() => {}); // the node is gone
      for (const started = Date.now(); !round.ready(acks) && Date.now() - started < KILL_BY_MS; ) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await node.crash();
      watching = false;
      await watcher;
      const [imported, voted, adopted] = await Promise.all([
        Promise.all(imports),
        Promise.all(votes),
        Promise.all(adoptions),
        Promise.all(evidence),
      ]);

      const count = (list: { acknowledged: boolean }[]) =>
        `${list.filter((x) => x.acknowledged).length}/${list.length}`;
      const uploadsThisRound = [...uploads].filter(([name]) => name.startsWith(`r${r}-`));
      process.stdout.write(
        `# round ${r + 1}: acknowledged imports ${count(imported)}, votes ${count(voted)}, adoptions ${count(adopted)}, uploads ${uploadsThisRound.filter(([, u]) => u.acknowledgedId).length}/${uploadsThisRound.length}\n`,
      );

      node = await startNode(storage.env);

      for (const { caseId, csv, acknowledged } of imported) {
        const total = async () => (await as('lt.analyst').get(`/cases/${caseId}/observables`)).json.total;
        const audited = async (action: string) =>
          (await as('lt.auditor').get(`/audit?action=${action}&objectId=${caseId}&limit=500`)).json.items.map(
            (e: { summary: Record<string, any> }) => e.summary,
          ) as Record<string, any>[];
        // All or nothing: an import cut short is rolled back (in parts) by the restarted node. Wait
        // until that is over: the case holds all of the file, or none of it and the rollback (if
        // any part had committed) is audited as complete.
        const settled = async () => {
          const stored = await total();
          const parts = await audited('observable.import');
          const committed = parts.reduce((sum, p) => sum + p.imported, 0);
          const rollback = committed > 0 ? await audited('observable.import.rollback') : [];
          const rolledBack = rollback.some((p) => p.total !== undefined);
          return {
            stored,
            parts,
            committed,
            rollback,
            over: stored === IMPORT_LINES || (stored === 0 && (committed === 0 || rolledBack)),
          };
        };
        let state = await settled();
        for (const started = Date.now(); !state.over; state = await settled()) {
          assert.ok(
            Date.now() - started < RECOVERY_BY_MS,
            `an import cut short at ${state.stored} rows is rolled back`,
          );
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const { stored, parts, committed, rollback } = state;
        if (acknowledged) assert.equal(stored, IMPORT_LINES, 'an acknowledged import is all there');
        if (stored === IMPORT_LINES) {
          assert.deepEqual(parts.find((p) => p.total !== undefined)?.total, {
            imported: IMPORT_LINES,
            duplicates: 0,
            rejected: 0,
            warninglisted: IMPORT_LINES,
          });
          continue;
        }
        assert.ok(
          parts.every((p) => p.total === undefined),
          'no part of an import that is not there claims it is complete',
        );
        if (committed > 0) {
          assert.equal(
            rollback.find((p) => p.total !== undefined)?.total,
            committed,
            'the rollback removed every committed row, audited',
          );
          process.stdout.write(
            `# round ${r + 1}: an import cut short after ${committed} of ${IMPORT_LINES} rows, rolled back\n`,
          );
        }
        const again = await as('lt.analyst').post(`/indicators/bulk?caseId=${caseId}`, csv, 'text/csv');
        assert.equal(again.status, 200);
        assert.deepEqual(again.json, {
          imported: IMPORT_LINES,
          duplicates: 0,
          rejected: 0,
          warninglisted: IMPORT_LINES,
          problems: [],
        });
        assert.equal(await total(), IMPORT_LINES, 'importing the file again is a first import');
      }

      const items = (await as('lt.analyst').get(`/cases/${evidenceCase}/evidence`)).json.items as {
        id: string;
        filename: string;
        sha256: string;
        size: number;
      }[];
      for (const [filename, { bytes, acknowledgedId }] of uploads) {
        const item = items.find((i) => i.filename === filename);
        if (acknowledgedId) assert.equal(item?.id, acknowledgedId, `acknowledged ${filename} is there`);
        if (!item) continue;
        assert.equal(item.sha256, sha256(bytes), `${filename} records the hash of what was sent`);
        const content = await as('lt.analyst').get(`/cases/${evidenceCase}/evidence/${item.id}/content`);
        assert.equal(content.status, 200, `${filename} is served`);
        assert.equal(sha256(content.bytes), sha256(bytes), `${filename} has all its bytes`);
      }

      for (const requestId of new Set(voted.map((v) => v.requestId))) {
        const request = (await as('lt.poc').get(`/requests/${requestId}`)).json as {
          votes: { party: string }[];
        };
        for (const v of voted.filter((x) => x.requestId === requestId && x.acknowledged)) {
          assert.ok(
            request.votes.some((stored) => stored.party === v.party),
            `${v.party}'s acknowledged vote is there`,
          );
        }
      }

      for (const a of adopted) {
        const deployments = (await as('coordinator').get(`/deployments?requestId=${a.requestId}`)).json
          .items as { proposalId: string; members: unknown[] }[];
        if (a.acknowledged) assert.equal(deployments.length, 1, 'an acknowledged adoption is there');
        assert.ok(deployments.length <= 1);
        for (const deployment of deployments) {
          assert.equal(deployment.proposalId, a.proposalId);
          assert.equal(deployment.members.length, a.size, 'the team is there whole');
        }
        const status = (await as('lt.poc').get(`/requests/${a.requestId}`)).json.status;
        assert.equal(status, deployments.length === 1 ? 'assembling' : 'activated');
      }

      const verified = await vytis(['audit', 'verify'], storage.env);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /^ok \d+ events/);
    });
  }
});
