import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createDurableStorage,
  type DurableStorage,
  json,
  onPostgres,
  startTestNode,
  type TestNode,
  type TestUser,
} from '../../test/harness.ts';
import { HOUR, submitRequest } from '../../test/requests.fixtures.ts';

const START = '2026-11-23T12:00:00.000Z';
const at = (hoursAfterStart: number) => new Date(Date.parse(START) + hoursAfterStart * HOUR);

async function auditCount(node: TestNode, action: string, objectId?: string) {
  return (await node.services.audit.page({ action, objectId }, 'asc', 1000)).items.length;
}

async function clocksOf(node: TestNode, user: TestUser, id: string) {
  const body = json(
    await node.request({ method: 'GET', url: `/api/v1/requests/${id}`, headers: user.headers }),
  );
  return Object.fromEntries(body.deadlines.map((d: any) => [d.kind, d])) as Record<string, any>;
}

describe('clocks', () => {
  let node: TestNode;
  let poc: TestUser;

  before(async () => {
    node = await startTestNode({ now: START });
    poc = await node.user('lt.poc', 'LT', ['poc']);
  });
  after(() => node.close());

  it('warns when a fifth of the time is left, then escalates once when it runs out', async () => {
    node.clock.set(START);
    // awareAt right now, so the NIS2 clocks line up with the force's own.
    const { id } = await submitRequest(node, poc, { awareAt: START });
    // The notification filed at once starts the final report's month (30 days from 23 November).
    const notified = await node.request({
      method: 'POST',
      url: `/api/v1/requests/${id}/deadlines/nis2_notification/complete`,
      headers: poc.headers,
      payload: { filedAt: START },
    });
    assert.equal(notified.statusCode, 200, notified.body);
    const clocks = await clocksOf(node, poc, id);
    assert.equal(clocks.decision.warnAt, at(24 - 4.8).toISOString(), '24 h clock warns 4 h 48 min ahead');
    assert.equal(
      clocks.nis2_final_report.warnAt,
      at(30 * 24 - 72).toISOString(),
      'a month warns 3 days ahead',
    );

    node.clock.set(new Date(Date.parse(clocks.decision.warnAt) - 60_000));
    assert.deepEqual(await node.services.scheduler.tick(), { warned: 0, escalated: 0, decided: 0 });

    node.clock.set(clocks.decision.warnAt);
    const warned = await node.services.scheduler.tick();
    assert.equal(warned.warned, 2, 'the decision and the NIS2 early warning, both due in 24 h');
    const afterWarning = await clocksOf(node, poc, id);
    assert.equal(afterWarning.decision.state, 'warned');
    assert.equal(afterWarning.decision.warnedAt, clocks.decision.warnAt);
    assert.equal(afterWarning.answer.state, 'running');
    assert.equal(await auditCount(node, 'request.deadline.warning', id), 2);

    node.clock.set(at(24));
    const due = await node.services.scheduler.tick();
    assert.deepEqual(
      due,
      { warned: 0, escalated: 1, decided: 1 },
      'NIS2 warning overdue; the council decides',
    );
    const overdue = await clocksOf(node, poc, id);
    assert.equal(overdue.nis2_early_warning.state, 'overdue');
    assert.equal(overdue.nis2_early_warning.escalatedAt, at(24).toISOString());
    assert.equal(overdue.decision.state, 'met');
    assert.equal(overdue.decision.escalatedAt, null, 'a decision at the deadline is not an escalation');

    node.clock.set(at(30));
    await node.services.scheduler.tick();
    await node.services.scheduler.tick();
    assert.equal(await auditCount(node, 'request.deadline.overdue', id), 1, 'escalated exactly once');
    const timeline = json(
      await node.request({ method: 'GET', url: `/api/v1/requests/${id}/timeline`, headers: poc.headers }),
    ).items;
    assert.deepEqual(
      timeline
        .filter((e: any) => e.kind.startsWith('deadline.'))
        .map((e: any) => [e.kind, e.detail.deadline]),
      [
        ['deadline.met', 'nis2_notification'],
        ['deadline.warning', 'decision'],
        ['deadline.warning', 'nis2_early_warning'],
        ['deadline.overdue', 'nis2_early_warning'],
      ],
    );
    assert.equal(timeline.find((e: any) => e.kind === 'deadline.overdue').actor, 'node');
  });

  it('catches up at once on clocks that fell due while nobody was looking', async () => {
    node.clock.set(START);
    const { id } = await submitRequest(node, poc, { awareAt: START, tlp: 'green' });
    node.clock.set(at(24 * 40));
    const result = await node.services.scheduler.tick();
    assert.ok(result.escalated >= 2, `escalated ${result.escalated}`);
    const clocks = await clocksOf(node, poc, id);
    // Declined at the deadline, so its answer is given and no response is owed.
    assert.equal(clocks.decision.state, 'met');
    assert.equal(clocks.answer.state, 'met');
    assert.equal(clocks.response.state, 'cancelled');
    for (const kind of ['nis2_early_warning', 'nis2_notification']) {
      assert.equal(clocks[kind].state, 'overdue', kind);
      assert.equal(clocks[kind].warnedAt, null, `${kind}: no stale warning after its due time`);
    }
    assert.equal(clocks.nis2_final_report, undefined, 'the final report waits for the notification');
  });

  it('marks a clock met late when it is met after it was due', async () => {
    node.clock.set(START);
    const { id } = await submitRequest(node, poc, { awareAt: START });
    node.clock.set(at(25));
    await node.services.scheduler.tick();
    const res = await node.request({
      method: 'POST',
      url: `/api/v1/requests/${id}/deadlines/nis2_early_warning/complete`,
      headers: poc.headers,
      payload: { filedAt: at(24.5).toISOString() },
    });
    const clock = json(res).deadlines.find((d: any) => d.kind === 'nis2_early_warning');
    assert.equal(clock.state, 'met');
    assert.equal(clock.late, true);
  });
});

describe('clocks across a restart', () => {
  let storage: DurableStorage;
  before(async () => {
    storage = await createDurableStorage();
  });
  after(() => storage.destroy());

  it('fire after the node comes back, from what was stored', async () => {
    const first = await startTestNode({ now: START, storage });
    const poc = await first.user('lt.poc', 'LT', ['poc']);
    const { id, deadlines } = await submitRequest(first, poc, { awareAt: START });
    await first.close();

    const second = await startTestNode({ now: START, storage });
    try {
      const reopened = await clocksOf(second, poc, id);
      assert.deepEqual(
        Object.values(reopened).map((d: any) => [d.kind, d.dueAt, d.state]),
        deadlines.map((d: any) => [d.kind, d.dueAt, 'running']),
      );
      second.clock.set(at(24));
      const fired = await second.services.scheduler.tick();
      assert.equal(fired.decided, 1);
      assert.equal(fired.escalated, 1);
      const clocks = await clocksOf(second, poc, id);
      assert.equal(clocks.decision.state, 'met');
      assert.equal(clocks.nis2_early_warning.state, 'overdue');
    } finally {
      await second.close();
    }
  });
});

describe('clocks with two processes on one database', { skip: !onPostgres() && 'needs PostgreSQL' }, () => {
  let storage: DurableStorage;
  before(async () => {
    storage = await createDurableStorage();
  });
  after(() => storage.destroy());

  it('fire each clock exactly once when both schedulers run at the same moment', async () => {
    const a = await startTestNode({ now: START, storage });
    const b = await startTestNode({ now: START, storage });
    try {
      const poc = await a.user('lt.poc', 'LT', ['poc']);
      const ids: string[] = [];
      for (let i = 0; i < 15; i++)
        ids.push((await submitRequest(a, poc, { awareAt: START, tlp: 'green' })).id);

      let fired = { warned: 0, escalated: 0, decided: 0 };
      for (const hours of [20, 24, 50, 80, 24 * 31]) {
        a.clock.set(at(hours));
        b.clock.set(at(hours));
        const [x, y] = await Promise.all([a.services.scheduler.tick(), b.services.scheduler.tick()]);
        fired = {
          warned: fired.warned + x.warned + y.warned,
          escalated: fired.escalated + x.escalated + y.escalated,
          decided: fired.decided + x.decided + y.decided,
        };
      }
      assert.equal(fired.decided, 15, 'one decision per request');
      assert.equal(await auditCount(a, 'request.decision'), 15);
      const warnings = await auditCount(a, 'request.deadline.warning');
      const overdue = await auditCount(a, 'request.deadline.overdue');
      assert.equal(warnings, fired.warned, 'every warning written once');
      assert.equal(overdue, fired.escalated, 'every escalation written once');
      // Per request: decision warned; answer and response cancelled or met at the decline; the NIS2
      // early warning and notification warned + overdue (no final report: nothing was notified).
      assert.equal(overdue, 15 * 2);
      const perRequest = await Promise.all(ids.map((id) => auditCount(a, 'request.deadline.overdue', id)));
      assert.ok(
        perRequest.every((n) => n === 2),
        `overdue per request: ${perRequest}`,
      );
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('clocks with two OS processes on one database', {
  skip: !onPostgres() && 'needs PostgreSQL',
}, () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ now: START });
  });
  after(() => node.close());

  it('fire each clock once when two node processes tick at the same moment', async () => {
    const poc = await node.user('lt.poc', 'LT', ['poc']);
    for (let i = 0; i < 10; i++) await submitRequest(node, poc, { awareAt: START, tlp: 'green' });
    const worker = path.join(import.meta.dirname, 'fixtures', 'tick-worker.ts');
    const tick = (moment: Date) =>
      new Promise<{ warned: number; escalated: number; decided: number }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', worker, node.databaseUrl!, node.dataDir, moment.toISOString()],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let out = '';
        child.stdout.on('data', (chunk) => {
          out += chunk;
        });
        child.on('exit', (code) =>
          code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}`)),
        );
      });
    const total = { warned: 0, escalated: 0, decided: 0 };
    for (const hours of [20, 24 * 31]) {
      const results = await Promise.all([tick(at(hours)), tick(at(hours))]);
      for (const r of results) {
        total.warned += r.warned;
        total.escalated += r.escalated;
        total.decided += r.decided;
      }
    }
    assert.equal(total.decided, 10, 'one decision per request, whichever process took it');
    assert.equal(await auditCount(node, 'request.decision'), 10);
    assert.equal(await auditCount(node, 'request.deadline.warning'), total.warned);
    assert.equal(await auditCount(node, 'request.deadline.overdue'), total.escalated);
    assert.equal(total.escalated, 10 * 2, 'two NIS2 clocks per request, each escalated once');
    assert.equal((await node.services.audit.verify()).ok, true, 'one intact chain');
  });
});
