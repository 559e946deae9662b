import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { json, onPostgres, startTestNode, type TestNode, type TestUser } from '../test/harness.ts';
import { fileRequest, submitRequest } from '../test/requests.fixtures.ts';

const api = '/api/v1';

describe('lists answered again while nothing changed', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let eePoc: TestUser;
  let eeCouncil: TestUser;
  let listsWorkedOut = 0;
  let statsWorkedOut = 0;

  before(async () => {
    node = await startTestNode();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    eeCouncil = await node.user('ee.council', 'EE', ['council']);
    const requests = node.services.requests;
    const list = requests.list.bind(requests);
    requests.list = (...args) => {
      listsWorkedOut++;
      return list(...args);
    };
    const stats = requests.stats.bind(requests);
    requests.stats = (...args) => {
      statsWorkedOut++;
      return stats(...args);
    };
  });
  after(() => node.close());

  const board = (user: TestUser, query = '') =>
    node.request({ method: 'GET', url: `${api}/requests${query}`, headers: user.headers });
  const titles = async (user: TestUser, query = '') =>
    (json(await board(user, query)).items as { title: string }[]).map((r) => r.title).sort();

  // A PostgreSQL server's version moves with a write to any of its databases (another test file's,
  // run at the same time): whether the second read is answered again depends on them there.
  it('sends the same answer again without working it out, each time with its own request id', {
    skip: onPostgres() && 'other databases on the server move its version',
  }, async () => {
    await fileRequest(node, ltPoc, { title: 'ransomware at the grid operator' });
    const before = listsWorkedOut;
    const first = await board(ltPoc);
    const second = await board(ltPoc);
    assert.equal(first.statusCode, 200);
    assert.equal(second.statusCode, 200);
    assert.equal(second.body, first.body);
    assert.match(String(second.headers['content-type']), /^application\/json/);
    assert.notEqual(second.headers['x-request-id'], first.headers['x-request-id']);
    assert.equal(listsWorkedOut - before, 1);
    // Another URL is another answer.
    await board(ltPoc, '?limit=5');
    assert.equal(listsWorkedOut - before, 2);
  });

  it('keeps a few answers per caller: one asking for ever new URLs pushes out only their own', {
    skip: onPostgres() && 'other databases on the server move its version',
  }, async () => {
    const figures = (user: TestUser, n: number) =>
      node.request({ method: 'GET', url: `${api}/requests/stats?n=${n}`, headers: user.headers });
    const before = statsWorkedOut;
    assert.equal((await figures(eePoc, 0)).statusCode, 200);
    assert.equal((await figures(ltPoc, 0)).statusCode, 200);
    for (let n = 1; n <= 16; n++) assert.equal((await figures(ltPoc, n)).statusCode, 200);
    assert.equal(statsWorkedOut - before, 18);
    await figures(eePoc, 0);
    assert.equal(statsWorkedOut - before, 18, 'the other caller’s answer is still kept');
    await figures(ltPoc, 16);
    assert.equal(statsWorkedOut - before, 18, 'the caller’s newest answer is kept');
    await figures(ltPoc, 0);
    assert.equal(statsWorkedOut - before, 19, 'the caller’s oldest answer made room');
  });

  it('shows a change committed by anyone at the next read, also one made outside this process', async () => {
    const filed = json(await fileRequest(node, ltPoc, { title: 'wiper at the water utility' }));
    assert.ok((await titles(ltPoc)).includes('wiper at the water utility'));
    // As another process on the same database would, or an operator at psql.
    await sql`update requests set title = 'wiper at the water utility (confirmed)' where id = ${filed.id}`.execute(
      node.database.db,
    );
    assert.ok((await titles(ltPoc)).includes('wiper at the water utility (confirmed)'));
    // And a change through the API, by someone else.
    await fileRequest(node, ltPoc, { title: 'DDoS on the tax portal' });
    assert.ok((await titles(ltPoc)).includes('DDoS on the tax portal'));
  });

  it('never sends one caller the answer made for another', async () => {
    await fileRequest(node, ltPoc, { title: 'LT draft nobody else sees' });
    // EE asks first, then LT, then EE again: the same URL, three callers' own answers.
    assert.ok(!(await titles(eePoc)).includes('LT draft nobody else sees'));
    assert.ok((await titles(ltPoc)).includes('LT draft nobody else sees'));
    assert.ok(!(await titles(eePoc)).includes('LT draft nobody else sees'));
  });

  it('moves with the clock: what a caller may do changes when a deadline passes, with no write', async () => {
    const submitted = await submitRequest(node, ltPoc, { title: 'vote window' });
    const canVote = async () => {
      const items = json(await board(eeCouncil)).items as { id: string; can: { vote: boolean } }[];
      return items.find((r) => r.id === submitted.id)!.can.vote;
    };
    // Just before the vote closes (the caller's token is marked used then, a write), and just after:
    // no write in between, so only the clock can tell the answer is out of date.
    const closesAt = new Date(submitted.council.closesAt).getTime();
    node.clock.set(new Date(closesAt - 20_000));
    assert.equal(await canVote(), true);
    assert.equal(await canVote(), true);
    node.clock.set(new Date(closesAt + 20_000));
    assert.equal(await canVote(), false);
  });

  it('answers a disabled account with 401, not with what it was sent before', async () => {
    const user = await node.user('lt.poc2', 'LT', ['poc']);
    assert.equal((await board(user)).statusCode, 200);
    assert.equal((await board(user)).statusCode, 200);
    await node.services.accounts.disable(node.cli, user.id, {});
    assert.equal((await board(user)).statusCode, 401);
  });

  it('keeps a cases list apart per caller too', async () => {
    const analyst = await node.user('lt.analyst', 'LT', ['analyst']);
    const opened = await node.request({
      method: 'POST',
      url: `${api}/cases`,
      headers: analyst.headers,
      payload: {
        title: 'amber case',
        incidentClass: 'rsit:malicious-code="c2-server"',
        severity: 'high',
        tlp: 'amber',
        pap: 'green',
      },
    });
    assert.equal(opened.statusCode, 201, opened.body);
    const cases = async (user: TestUser) =>
      (
        json(await node.request({ method: 'GET', url: `${api}/cases`, headers: user.headers })).items as {
          title: string;
        }[]
      ).map((c) => c.title);
    const eeAnalyst = await node.user('ee.analyst', 'EE', ['analyst']);
    assert.deepEqual(await cases(eeAnalyst), []);
    assert.deepEqual(await cases(analyst), ['amber case']);
    assert.deepEqual(await cases(eeAnalyst), []);
  });
});
