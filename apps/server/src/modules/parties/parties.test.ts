import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';

describe('parties and the mandate', () => {
  let node: TestNode;
  let admin: TestUser;
  let analyst: TestUser;
  before(async () => {
    node = await startTestNode();
    admin = await node.user('admin', 'LT', ['admin']);
    analyst = await node.user('pl.analyst', 'PL', ['analyst']);
  });
  after(() => node.close());

  const get = (url: string, user: TestUser = analyst) =>
    node.request({ method: 'GET', url, headers: user.headers });

  it('loads the seeds’ membership on first start', async () => {
    const res = await get('/api/v1/parties');
    assert.equal(res.statusCode, 200);
    const byCode = new Map(json(res).items.map((p: any) => [p.code, p]));
    const codes = (status: string) =>
      [...byCode.values()]
        .filter((p: any) => p.status === status)
        .map((p: any) => p.code)
        .sort();
    assert.deepEqual(codes('member'), ['EE', 'HR', 'LT', 'NL', 'PL', 'RO']);
    assert.deepEqual(codes('observer'), ['BE', 'ES', 'FI', 'FR', 'GR', 'IT', 'SI']);
    assert.deepEqual(codes('partner'), ['MD', 'UA']);
    assert.deepEqual(codes('eu_institution'), ['EU']);
    assert.equal(codes('external').length, 14, 'the other EU states are external');
    assert.ok(codes('external').includes('DE'));
    assert.deepEqual((byCode.get('LT') as any).roles, ['lead']);
    assert.deepEqual((byCode.get('PL') as any).roles, ['rotating'], 'PL rotates in 2026');
    assert.equal((byCode.get('EU') as any).kind, 'eu_institution');
  });

  it('answers as of a date, and keeps the whole history', async () => {
    const change = await node.request({
      method: 'POST',
      url: '/api/v1/parties/ua/statuses',
      headers: admin.headers,
      payload: { status: 'observer', from: '2027-01-01', note: 'accession to observer status' },
    });
    assert.equal(change.statusCode, 201, change.body);
    assert.equal(json(change).status, 'observer');
    // Written as `from`, read back as `from`: one name for the first day a status is in force.
    assert.deepEqual(
      json(change).statusHistory.map((h: any) => [h.status, h.from]),
      [
        ['partner', '2018-03-06'],
        ['observer', '2027-01-01'],
      ],
    );

    assert.equal(json(await get('/api/v1/parties/UA')).status, 'partner', 'today it is still a partner');
    assert.equal(json(await get('/api/v1/parties/UA?asOf=2027-01-01')).status, 'observer');
    assert.equal(json(await get('/api/v1/parties/UA?asOf=2027-06-30T23:00:00%2B02:00')).status, 'observer');
    assert.equal(
      json(await get('/api/v1/parties/UA?asOf=2017-12-31')).status,
      null,
      'before the seeds it had none',
    );
    const history = json(await get('/api/v1/parties/UA')).statusHistory;
    assert.deepEqual(
      history.map((h: any) => [h.status, h.from, h.to]),
      [
        ['partner', '2018-03-06', '2027-01-01'],
        ['observer', '2027-01-01', null],
      ],
    );
    const observers = json(await get('/api/v1/parties?asOf=2027-02-01&status=observer')).items.map(
      (p: any) => p.code,
    );
    assert.ok(observers.includes('UA'));
  });

  it('audits a status change with who, what and when', async () => {
    const page = await node.services.audit.page({ action: 'party.status.change' }, 'asc', 10);
    assert.equal(page.items.length, 1);
    const event = page.items[0]!;
    assert.equal(event.actor.name, 'admin');
    assert.equal(event.object.id, 'UA');
    assert.deepEqual(event.summary, {
      effectiveFrom: '2027-01-01',
      from: 'partner',
      note: 'accession to observer status',
      to: 'observer',
    });
  });

  it('still accepts the former name effectiveFrom on write, and reads it back as from', async () => {
    const change = await node.request({
      method: 'POST',
      url: '/api/v1/parties/MD/statuses',
      headers: admin.headers,
      payload: { status: 'observer', effectiveFrom: '2027-05-01' },
    });
    assert.equal(change.statusCode, 201, change.body);
    assert.deepEqual(json(change).statusHistory.at(-1).from, '2027-05-01');
    assert.equal(json(change).statusHistory.at(-1).effectiveFrom, undefined);
  });

  it('refuses bad changes with clear errors', async () => {
    const post = (code: string, payload: unknown, user = admin) =>
      node.request({
        method: 'POST',
        url: `/api/v1/parties/${code}/statuses`,
        headers: user.headers,
        payload: payload as object,
      });
    const unknown = await post('XX', { status: 'member', effectiveFrom: '2027-01-01' });
    assert.equal(unknown.statusCode, 404);
    assert.match(json(unknown).error.message, /party XX not found/);

    const same = await post('LT', { status: 'member', effectiveFrom: '2027-01-01' });
    assert.equal(same.statusCode, 409);
    assert.match(json(same).error.message, /already member/);

    const sameDay = await post('UA', { status: 'member', effectiveFrom: '2027-01-01' });
    assert.equal(sameDay.statusCode, 409);

    const badDate = await post('UA', { status: 'member', from: '2027-02-31' });
    assert.equal(badDate.statusCode, 400);
    assert.deepEqual(json(badDate).error.details, [
      { field: 'body/from', message: 'not a valid date: 2027-02-31' },
    ]);
    const badOldName = await post('UA', { status: 'member', effectiveFrom: '2027-02-31' });
    assert.deepEqual(json(badOldName).error.details, [
      { field: 'body/effectiveFrom', message: 'not a valid date: 2027-02-31' },
    ]);
    const noDay = await post('UA', { status: 'member' });
    assert.equal(noDay.statusCode, 400);
    assert.deepEqual(json(noDay).error.details, [{ field: 'body/from', message: 'is required' }]);
    const twoDays = await post('UA', { status: 'member', from: '2027-03-01', effectiveFrom: '2027-04-01' });
    assert.equal(twoDays.statusCode, 400);
    assert.equal(json(twoDays).error.details[0].field, 'body/effectiveFrom');
    const badAsOf = await get('/api/v1/parties?asOf=yesterday');
    assert.equal(badAsOf.statusCode, 400);
    assert.equal(json(badAsOf).error.details[0].field, 'querystring/asOf');

    const badStatus = await post('UA', { status: 'ally', effectiveFrom: '2027-03-01' });
    assert.equal(badStatus.statusCode, 400);
    assert.equal(json(badStatus).error.details[0].field, 'body/status');

    const notAdmin = await post('UA', { status: 'member', effectiveFrom: '2027-03-01' }, analyst);
    assert.equal(notAdmin.statusCode, 403);
    const denied = await node.services.audit.page(
      { action: 'access.denied', actorName: 'pl.analyst' },
      'asc',
      10,
    );
    assert.equal(denied.items.length, 1, 'the denial is audited');

    const anonymous = await node.request({ method: 'GET', url: '/api/v1/parties' });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(
      json(await get('/api/v1/parties/UA?asOf=2027-01-01')).statusHistory.length,
      2,
      'nothing half-written',
    );
  });

  it('serves the framework in force, versioned, and never backdated', async () => {
    const current = json(await get('/api/v1/framework'));
    assert.equal(current.version, 1);
    assert.equal(current.rules.leadParticipant, 'LT');
    assert.equal(current.rules.council.partnerRule, 'unanimity');

    const rules = { ...current.rules, clocks: { ...current.rules.clocks, decisionHours: 12 } };
    const publish = (payload: unknown, user = admin) =>
      node.request({
        method: 'POST',
        url: '/api/v1/framework/versions',
        headers: user.headers,
        payload: payload as object,
      });
    const v2 = await publish({ effectiveFrom: '2027-01-01T00:00:00Z', rules, note: 'faster decisions' });
    assert.equal(v2.statusCode, 201, v2.body);
    assert.equal(json(v2).version, 2);
    assert.equal(json(await get('/api/v1/framework')).version, 1, 'not in force yet');
    assert.equal(json(await get('/api/v1/framework?asOf=2027-01-02')).rules.clocks.decisionHours, 12);

    const backdated = await publish({ effectiveFrom: '2026-01-01T00:00:00Z', rules });
    assert.equal(backdated.statusCode, 409);
    const unknownParty = await publish({
      effectiveFrom: '2027-02-01T00:00:00Z',
      rules: { ...rules, leadParticipant: 'QQ' },
    });
    assert.equal(unknownParty.statusCode, 400);
    assert.match(unknownParty.body, /unknown party QQ/);
    const extraField = await publish({
      effectiveFrom: '2027-02-01T00:00:00Z',
      rules: { ...rules, colour: 'blue' },
    });
    assert.equal(extraField.statusCode, 400);
    assert.equal(json(extraField).error.details[0].field, 'body/rules/colour');
    assert.equal((await publish({ effectiveFrom: '2027-02-01T00:00:00Z', rules }, analyst)).statusCode, 403);
    assert.equal(json(await get('/api/v1/framework/versions')).items.length, 2);
  });
});
