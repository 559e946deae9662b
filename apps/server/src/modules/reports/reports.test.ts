import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { canonicalJson } from '../../platform/canonical-json.ts';
import { verifySignature } from '../../platform/keys.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { submitRequest, vote } from '../../test/requests.fixtures.ts';
import { deployTeam, registerAnalyst } from '../deployments/deployments.fixtures.ts';

const api = '/api/v1';
const run = promisify(execFile);
const HOSTILE = '# Not a heading\n<script>alert(1)</script> [click](javascript:alert(1)) **bold** | pipe';

/**
 * Issue 15: a coordinator drafts, edits, submits and downloads the post-action report of a
 * deployment; the host's PoC drafts and files the entity's NIS2 reports; each reader gets only what
 * they may see.
 */
describe('reports drafted from the record', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let eePoc: TestUser;
  let coordinator: TestUser;
  let ltAnalyst: TestUser;
  let eeCouncil: TestUser;
  let nlCouncil: TestUser;
  let auditor: TestUser;
  let requestId: string;
  let caseId: string;

  const send = (
    user: TestUser,
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: object,
    version?: number,
  ) =>
    node.request({
      method,
      url: `${api}${url}`,
      headers: { ...user.headers, ...(version !== undefined ? { 'if-match': `"${version}"` } : {}) },
      ...(payload ? { payload } : {}),
    });
  const ok = async (promise: ReturnType<typeof send>, status = 200) => {
    const res = await promise;
    assert.equal(res.statusCode, status, res.body);
    return json(res);
  };
  const report = (user: TestUser) => send(user, 'GET', `/requests/${requestId}/post-action-report`);
  const field = (r: Record<string, any>, key: string) => r.fields.find((f: { key: string }) => f.key === key);

  before(async () => {
    node = await startTestNode({ logLevel: 'error' });
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    coordinator = await node.user('duty.officer', 'PL', ['coordinator']);
    ltAnalyst = await node.user('lt.analyst', 'LT', ['analyst']);
    auditor = await node.user('lt.auditor', 'LT', ['auditor']);
    const council: Record<string, TestUser> = {};
    for (const party of ['LT', 'EE', 'PL', 'NL'])
      council[party] = await node.user(`${party.toLowerCase()}.council`, party, ['council']);
    eeCouncil = council.EE!;
    nlCouncil = council.NL!;
    await registerAnalyst(node, ltPoc, 'LT', 'Rūta Analytikė');
    await registerAnalyst(node, eePoc, 'EE', 'Mari Tamm');
    requestId = (await submitRequest(node, ltPoc)).id;
    for (const party of ['LT', 'EE', 'PL', 'NL']) {
      const res = await vote(node, council[party]!, requestId, 'activate', 'needed');
      if (json(res).status !== 'voting') break;
    }
    await ok(send(coordinator, 'POST', `/requests/${requestId}/assemble`, {}));
    await deployTeam(node, requestId, { coordinator, host: ltPoc, pocs: { LT: ltPoc, EE: eePoc } });
    const created = await ok(
      send(ltAnalyst, 'POST', '/cases', {
        title: 'Grid ransomware triage',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'high',
        tlp: 'amber',
        pap: 'amber',
        requestId,
      }),
      201,
    );
    caseId = created.id;
    // The coordinating party works the case too; EE's council does not see it.
    await ok(send(ltAnalyst, 'PUT', `/cases/${caseId}/shares`, { parties: ['PL'] }));
    for (const [type, value, tlp] of [
      ['domain', 'c2.bad-grid.example', 'green'],
      ['ip-dst', '203.0.113.66', 'amber'],
      ['sha256', 'a'.repeat(64), 'red'],
    ]) {
      await ok(send(ltAnalyst, 'POST', `/cases/${caseId}/observables`, { type, value, tlp }), 201);
    }
    await ok(send(coordinator, 'POST', `/requests/${requestId}/stand-down`, { reason: 'restored' }));
  });
  after(() => node.close());

  it('drafts the post-action report from the record, for a coordinator', async () => {
    const r = await ok(report(coordinator));
    assert.equal(r.status, 'draft');
    assert.equal(r.version, 0);
    assert.equal(r.tlp, 'amber');
    assert.equal(r.minimumTlp, 'amber');
    assert.deepEqual(r.can, { edit: true, submit: true });
    assert.equal(r.clock.kind, 'post_action_report');
    const summary = field(r, 'summary');
    assert.equal(summary.prefilled, true);
    assert.match(summary.value, /Ransomware at the national grid operator/);
    assert.match(summary.value, /A team of 2 responders from EE, LT/);
    assert.match(field(r, 'findings').value, /Grid ransomware triage/);
    const tables = r.layout.blocks.filter((b: { type: string }) => b.type === 'table');
    const cases = tables.find((t: { columns: string[] }) => t.columns[0] === 'Case');
    assert.deepEqual(cases.rows, [['Grid ransomware triage', 'TLP:AMBER', 'open', 'LT', 'GREEN 1, AMBER 1']]);
    const team = tables.find((t: { columns: string[] }) => t.columns[1] === 'Responder');
    assert.deepEqual(team.rows.map((row: string[]) => row.slice(0, 3)).sort(), [
      ['EE', 'Mari Tamm', 'digital-forensics'],
      ['LT', 'Rūta Analytikė', 'digital-forensics'],
    ]);
    const votes = tables.find((t: { columns: string[] }) => t.columns[1] === 'Vote');
    assert.ok(votes.rows.some((row: string[]) => row[0] === 'EE' && row[1] === 'activate'));
  });

  it('keeps what authors write, versioned with If-Match', async () => {
    const first = await ok(
      send(
        coordinator,
        'PUT',
        `/requests/${requestId}/post-action-report`,
        { values: { findings: HOSTILE } },
        0,
      ),
    );
    assert.equal(first.version, 1);
    assert.equal(field(first, 'findings').value, HOSTILE);
    assert.equal(field(first, 'findings').prefilled, false);
    // A second author who read version 0 is told, and their save changes nothing.
    const stale = await send(
      coordinator,
      'PUT',
      `/requests/${requestId}/post-action-report`,
      { values: { findings: 'lost?' } },
      0,
    );
    assert.equal(stale.statusCode, 412, stale.body);
    assert.match(json(stale).error.message, /version 0, it is now at version 1/);
    const second = await ok(
      send(
        coordinator,
        'PUT',
        `/requests/${requestId}/post-action-report`,
        { values: { lessonsLearned: 'Release took 6 h.' } },
        1,
      ),
    );
    assert.equal(second.version, 2);
    assert.equal(field(second, 'findings').value, HOSTILE);
    assert.equal(field(second, 'lessonsLearned').value, 'Release took 6 h.');
  });

  it('refuses bad edits with the field to fix, and saves nothing', async () => {
    const put = (payload: object, version = 2) =>
      send(coordinator, 'PUT', `/requests/${requestId}/post-action-report`, payload, version);
    const unknown = await put({ values: { verdict: 'x' } });
    assert.equal(unknown.statusCode, 400, unknown.body);
    assert.equal(json(unknown).error.details[0].field, 'body/values/verdict');
    const wrongType = await put({ values: { includeCases: 'no' } });
    assert.equal(wrongType.statusCode, 400, wrongType.body);
    const notText = await put({ values: { findings: true } });
    assert.equal(notText.statusCode, 400, notText.body);
    assert.equal(json(notText).error.details[0].field, 'body/values/findings');
    const red = await put({ values: {}, tlp: 'red' });
    assert.equal(red.statusCode, 400, red.body);
    assert.match(json(red).error.details[0].message, /AMBER at most/);
    const manyLines = await put({ values: { recommendations: 'step\n'.repeat(1_000) } });
    assert.equal(manyLines.statusCode, 400, manyLines.body);
    assert.match(json(manyLines).error.details[0].message, /1001 lines: at most 1000/);
    const low = await put({ values: {}, tlp: 'green' });
    assert.equal(low.statusCode, 400, low.body);
    assert.equal(json(low).error.details[0].field, 'body/tlp');
    const long = await put({ values: { findings: 'x'.repeat(20_001) } });
    assert.equal(long.statusCode, 400, long.body);
    const huge = await node.request({
      method: 'PUT',
      url: `${api}/requests/${requestId}/post-action-report`,
      headers: { ...coordinator.headers, 'content-type': 'application/json', 'if-match': '"2"' },
      payload: JSON.stringify({
        values: { findings: 'y'.repeat(40_000), recommendations: 'z'.repeat(600_000) },
      }),
    });
    assert.equal(huge.statusCode, 413, huge.body);
    const notAuthor = await send(
      ltPoc,
      'PUT',
      `/requests/${requestId}/post-action-report`,
      { values: { findings: 'x' } },
      2,
    );
    assert.equal(notAuthor.statusCode, 403, notAuthor.body);
    const r = await ok(report(coordinator));
    assert.equal(r.version, 2);
    assert.equal(field(r, 'findings').value, HOSTILE);
  });

  it('is read only by those who see the request and every case it drew on', async () => {
    // EE's council member sees the request, not LT's AMBER case that the saved report drew on.
    assert.equal((await ok(send(eeCouncil, 'GET', `/requests/${requestId}`))).id, requestId);
    assert.equal((await report(eeCouncil)).statusCode, 404);
    assert.equal(
      (await send(eeCouncil, 'GET', `/requests/${requestId}/post-action-report/file?format=pdf`)).statusCode,
      404,
    );
    // The LT PoC sees both.
    assert.equal((await report(ltPoc)).statusCode, 200);
    // Leaving the cases out leaves them out of everything, and opens the report to the request's readers.
    const without = await ok(
      send(
        coordinator,
        'PUT',
        `/requests/${requestId}/post-action-report`,
        { values: { includeCases: false } },
        2,
      ),
    );
    assert.equal(field(without, 'includeCases').value, false);
    assert.equal(field(without, 'findings').value, HOSTILE, 'what an author wrote stays');
    assert.ok(!JSON.stringify(without.layout).includes('Grid ransomware triage'));
    const seen = await ok(report(eeCouncil));
    assert.ok(!JSON.stringify(seen).includes('Grid ransomware triage'));
    // null returns a field to the draft from the record.
    const back = await ok(
      send(
        coordinator,
        'PUT',
        `/requests/${requestId}/post-action-report`,
        { values: { lessonsLearned: null } },
        3,
      ),
    );
    assert.equal(field(back, 'lessonsLearned').prefilled, false, 'an empty draft is nothing drafted');
    assert.equal(field(back, 'lessonsLearned').value, '');
    await ok(
      send(
        coordinator,
        'PUT',
        `/requests/${requestId}/post-action-report`,
        { values: { lessonsLearned: 'Release took 6 h.' } },
        4,
      ),
    );
  });

  it('is submitted once: frozen, signed by the node, its SHA-256 in the audit log, the request reported', async () => {
    const stale = await send(coordinator, 'POST', `/requests/${requestId}/post-action-report/submit`, {}, 1);
    assert.equal(stale.statusCode, 412, stale.body);
    const submitted = await ok(
      send(coordinator, 'POST', `/requests/${requestId}/post-action-report/submit`, {}, 5),
    );
    assert.equal(submitted.status, 'submitted');
    assert.deepEqual(submitted.can, { edit: false, submit: false });
    assert.equal(submitted.clock.state, 'met');
    const signature = submitted.signature;
    assert.match(signature.sha256, /^[0-9a-f]{64}$/);
    assert.equal(signature.keyId, node.services.key.keyId);
    assert.ok(verifySignature(node.services.key.publicKey, signature.sha256, signature.signature));

    const request = await ok(send(coordinator, 'GET', `/requests/${requestId}`));
    assert.equal(request.status, 'reported');
    assert.match(request.report.summary, /Ransomware at the national grid operator/);
    // What every reader of the request sees says what the request says, and where the report is.
    assert.equal(request.report.lessonsLearned, undefined);
    assert.doesNotMatch(request.report.summary, /team|Release took/);
    assert.match(
      request.report.summary,
      /The post-action report was submitted on \d{4}-\d\d-\d\d, and is under Reports/,
    );

    const audit = await ok(send(auditor, 'GET', '/audit?action=report.submit'));
    assert.equal(audit.items.length, 1);
    assert.equal(audit.items[0].summary.sha256, signature.sha256);

    // The JSON file holds the document the hash is over.
    const file = await send(coordinator, 'GET', `/requests/${requestId}/post-action-report/file?format=json`);
    assert.equal(file.statusCode, 200, file.body);
    const body = json(file);
    assert.equal(
      crypto.createHash('sha256').update(canonicalJson(body.document)).digest('hex'),
      signature.sha256,
    );

    const edit = await send(coordinator, 'PUT', `/requests/${requestId}/post-action-report`, {
      values: { findings: 'x' },
    });
    assert.equal(edit.statusCode, 409, edit.body);
    const again = await send(coordinator, 'POST', `/requests/${requestId}/post-action-report/submit`, {});
    assert.equal(again.statusCode, 409, again.body);
    // Frozen: a new indicator does not change the submitted report.
    await ok(
      send(ltAnalyst, 'POST', `/cases/${caseId}/observables`, {
        type: 'domain',
        value: 'late.example',
        tlp: 'green',
      }),
      201,
    );
    const later = await ok(report(coordinator));
    assert.deepEqual(later.layout, submitted.layout);

    // EE's PoC, a home state on the team, reads it as EE sees the record: LT's responder as a place,
    // and no frozen document in the JSON file, which it cannot wholly see.
    const asEe = await ok(report(eePoc));
    const team = asEe.layout.blocks.find((b: { columns?: string[] }) => b.columns?.[1] === 'Responder');
    assert.deepEqual(team.rows.map((row: string[]) => row.slice(0, 2)).sort(), [
      ['EE', 'Mari Tamm'],
      ['LT', 'a responder of LT'],
    ]);
    assert.ok(!JSON.stringify(asEe).includes('Rūta'));
    const eeFile = json(
      await send(eePoc, 'GET', `/requests/${requestId}/post-action-report/file?format=json`),
    );
    assert.equal(eeFile.document, undefined);
    assert.match(eeFile.withheld, /left out/);
    assert.ok(!JSON.stringify(eeFile).includes('Rūta'));

    // NL's council member sees the request but no deployment: no team, not even in the drafted summary.
    const asNl = await ok(report(nlCouncil));
    assert.ok(!JSON.stringify(asNl).includes('A team of'), 'the summary is drafted again from what NL sees');
    assert.match(field(asNl, 'summary').value, /No team was deployed/);
    assert.ok(!JSON.stringify(asNl).includes('Rūta') && !JSON.stringify(asNl).includes('Mari Tamm'));
    const nlFile = json(
      await send(nlCouncil, 'GET', `/requests/${requestId}/post-action-report/file?format=json`),
    );
    assert.equal(nlFile.document, undefined);
  });

  it('reads right as a PDF: the label and page numbers on every page, the content of the record', async () => {
    const res = await send(coordinator, 'GET', `/requests/${requestId}/post-action-report/file?format=pdf`);
    assert.equal(res.statusCode, 200, `${res.body} ${JSON.stringify(res.headers)}`);
    assert.equal(res.headers['content-type'], 'application/pdf');
    assert.match(
      String(res.headers['content-disposition']),
      /^attachment; filename="vytis-post-action-report-/,
    );
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vytis-report-'));
    const pdf = path.join(dir, 'report.pdf');
    await fs.writeFile(pdf, res.rawPayload);
    const { stdout } = await run('pdftotext', ['-layout', pdf, '-']);
    const pages = stdout.split('\f').filter((p) => p.trim() !== '');
    assert.ok(pages.length >= 2, `a report of ${pages.length} page(s)`);
    pages.forEach((page, i) => {
      assert.ok(
        (page.match(/TLP:AMBER\b/g)?.length ?? 0) >= 2,
        `page ${i + 1} carries the label in its header and footer`,
      );
      assert.match(page, new RegExp(`Page ${i + 1} of ${pages.length}`));
    });
    const text = pages.join('\n');
    const { signature } = await ok(report(coordinator));
    const printed = ['Post-action report', 'Release took 6 h.', 'Mari Tamm', '<script>alert(1)</script>'];
    for (const expected of [...printed, signature.sha256.slice(0, 16), signature.keyId.slice(0, 16)])
      assert.ok(text.includes(expected), `the PDF says ${expected}`);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('is Markdown with hostile text as text, and a STIX 2.1 report', async () => {
    const md = await send(
      coordinator,
      'GET',
      `/requests/${requestId}/post-action-report/file?format=markdown`,
    );
    assert.equal(md.statusCode, 200, md.body);
    assert.ok(!md.body.includes('<script>'), 'no raw HTML');
    assert.ok(!md.body.includes('](javascript:'), 'no live link');
    assert.match(md.body, /TLP:AMBER/);
    const stix = await send(coordinator, 'GET', `/requests/${requestId}/post-action-report/file?format=stix`);
    assert.equal(stix.statusCode, 200, stix.body);
    const bundle = json(stix);
    assert.equal(bundle.type, 'bundle');
    const reportObject = bundle.objects.find((o: { type: string }) => o.type === 'report');
    assert.equal(reportObject.name, 'Post-action report');
    assert.ok(reportObject.object_refs.length > 0);
  });

  it("drafts the entity's NIS2 reports for its PoC alone", async () => {
    const list = await ok(send(ltPoc, 'GET', `/requests/${requestId}/nis2`));
    assert.deepEqual(
      list.items.map((r: { kind: string }) => r.kind),
      ['nis2_early_warning', 'nis2_notification', 'nis2_intermediate', 'nis2_final_report', 'nis2_progress'],
    );
    const warning = list.items[0];
    assert.equal(field(warning, 'significant').value, true);
    assert.equal(field(warning, 'suspectedMalicious').value, true);
    const notification = list.items[1];
    const iocs = field(notification, 'indicatorsOfCompromise').value as string;
    assert.match(iocs, /domain: c2\.bad-grid\.example/);
    assert.match(iocs, /ip-dst: 203\.0\.113\.66/);
    assert.ok(!iocs.includes('a'.repeat(64)), 'a RED indicator is never drafted into a filing');
    assert.equal(field(notification, 'severity').value, 'critical');
    for (const other of [coordinator, eePoc, eeCouncil]) {
      assert.equal((await send(other, 'GET', `/requests/${requestId}/nis2`)).statusCode, 404);
      assert.equal(
        (await send(other, 'GET', `/requests/${requestId}/nis2/nis2_early_warning/file?format=pdf`))
          .statusCode,
        404,
      );
    }
  });

  it('files the three NIS2 notifications: each frozen, its clock met at the filing time', async () => {
    const at = (minutesAgo: number) =>
      new Date(node.clock.now().getTime() - minutesAgo * 60_000).toISOString();
    const early = await ok(
      send(
        ltPoc,
        'PUT',
        `/requests/${requestId}/nis2/nis2_early_warning`,
        { values: { summary: 'Grid SCADA encrypted.' } },
        0,
      ),
    );
    assert.equal(early.version, 1);
    // A yes/no set to null is "not known", not the draft's yes.
    const unknown = await ok(
      send(
        ltPoc,
        'PUT',
        `/requests/${requestId}/nis2/nis2_early_warning`,
        { values: { suspectedMalicious: null } },
        1,
      ),
    );
    assert.equal(field(unknown, 'suspectedMalicious').value, null);
    assert.equal(field(unknown, 'suspectedMalicious').prefilled, false);
    const finalTooSoon = await send(ltPoc, 'POST', `/requests/${requestId}/nis2/nis2_final_report/submit`, {
      filedAt: at(5),
      submittedTo: 'NKSC',
    });
    assert.equal(finalTooSoon.statusCode, 409, finalTooSoon.body);
    const filed = await ok(
      send(
        ltPoc,
        'POST',
        `/requests/${requestId}/nis2/nis2_early_warning/submit`,
        { filedAt: at(30), submittedTo: 'NKSC' },
        2,
      ),
    );
    assert.equal(filed.status, 'submitted');
    assert.equal(filed.submittedTo, 'NKSC');
    assert.equal(filed.filedAt, at(30));
    assert.equal(filed.clock.state, 'met');
    assert.equal(filed.clock.metAt, at(30));
    const notification = await ok(
      send(ltPoc, 'POST', `/requests/${requestId}/nis2/nis2_notification/submit`, {
        filedAt: at(20),
        submittedTo: 'NKSC',
        timeZone: 'Europe/Vilnius',
      }),
    );
    assert.equal(notification.clock.state, 'met');
    const final = await ok(
      send(ltPoc, 'POST', `/requests/${requestId}/nis2/nis2_final_report/submit`, {
        filedAt: at(10),
        submittedTo: 'NKSC',
      }),
    );
    assert.equal(final.status, 'submitted');
    assert.equal(final.clock.kind, 'nis2_final_report');
    assert.equal(final.clock.state, 'met');
    const pdf = await send(ltPoc, 'GET', `/requests/${requestId}/nis2/nis2_final_report/file?format=pdf`);
    assert.equal(pdf.statusCode, 200, pdf.body);
    assert.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
    const audit = await ok(send(auditor, 'GET', '/audit?action=report.submit'));
    assert.deepEqual(audit.items.map((e: { summary: { kind: string } }) => e.summary.kind).sort(), [
      'nis2_early_warning',
      'nis2_final_report',
      'nis2_notification',
      'post_action',
    ]);
  });
});
