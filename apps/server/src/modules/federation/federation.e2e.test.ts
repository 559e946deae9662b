import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type NodeProcess,
  type ProcessStorage,
  processStorage,
  startNode,
  withServices,
} from '../../cli/node-process.fixtures.ts';
import { loadOrCreateNodeKey } from '../../platform/keys.ts';
import { call, waitFor } from './nodes.fixtures.ts';

// Three national nodes — LT, EE and FI — each its own `vytis start` process with its own port,
// data directory and database (PGlite, or a database of its own on PostgreSQL runs), connected as
// two states would connect theirs: each pins the others' key ids, agreed out of band, and pulls
// their feeds over HTTP with signed calls.

interface Party {
  code: string;
  storage: ProcessStorage;
  env: NodeJS.ProcessEnv;
  base: string;
  keyId: string;
  admin: string;
  analyst: string;
  node?: NodeProcess;
}

const caseBody = (title: string, tlp: string, parties: string[] = []) => ({
  title,
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'high',
  tlp,
  pap: 'amber',
  shares: { parties },
});

describe('three national nodes on loopback', { timeout: 600_000 }, () => {
  const parties: Party[] = [];
  const byCode = (code: string) => parties.find((p) => p.code === code)!;
  const api = (party: Party, method: string, url: string, body?: unknown, token = party.analyst) =>
    call(party.base, token, method, `/api/v1${url}`, body);
  const titles = async (party: Party) =>
    ((await api(party, 'GET', '/cases')).body?.items ?? []).map((c: { title: string }) => c.title).sort();

  before(async () => {
    for (const code of ['LT', 'EE', 'FI']) {
      const storage = await processStorage(`federation-${code.toLowerCase()}`);
      const base = `http://127.0.0.1:${storage.env.PORT}`;
      const env: NodeJS.ProcessEnv = {
        ...storage.env,
        VYTIS_NODE_PARTY: code,
        VYTIS_PUBLIC_URL: base,
        VYTIS_WEBHOOK_PRIVATE_NETWORKS: 'true',
        VYTIS_FEDERATION_PULL_SECONDS: '1',
        VYTIS_SCHEDULER_SECONDS: '1',
      };
      const tokens = await withServices(env, async (services, cli) => {
        const issue = async (name: string, roles: ('admin' | 'analyst')[]) => {
          await services.identity.createUser(cli, { name, party: code, roles });
          return (await services.identity.issueToken(cli, name)).token;
        };
        return {
          admin: await issue(`${code.toLowerCase()}.admin`, ['admin']),
          analyst: await issue(`${code.toLowerCase()}.analyst`, ['analyst']),
        };
      });
      // The key id each state tells the others out of band.
      const keyId = loadOrCreateNodeKey(storage.dataDir).keyId;
      parties.push({ code, storage, env, base, keyId, ...tokens });
    }
    await Promise.all(
      parties.map(async (party) => {
        party.node = await startNode(party.env);
      }),
    );
    for (const party of parties) {
      for (const peer of parties) {
        if (peer === party) continue;
        const added = await api(
          party,
          'POST',
          '/federation/peers',
          { url: peer.base, party: peer.code, pin: peer.keyId },
          party.admin,
        );
        assert.equal(added.status, 201, JSON.stringify(added.body));
      }
    }
  });

  after(async () => {
    for (const party of parties) {
      await party.node?.stop();
      await party.storage.destroy();
    }
  });

  let amberCase: string;

  it('an AMBER case shared with EE reaches EE and not FI; a GREEN one reaches both', async () => {
    const lt = byCode('LT');
    const amber = await api(lt, 'POST', '/cases', caseBody('Wiper at the water utility', 'amber', ['EE']));
    assert.equal(amber.status, 201, JSON.stringify(amber.body));
    amberCase = amber.body.id;
    const green = await api(lt, 'POST', '/cases', caseBody('Credential phishing wave', 'green'));
    assert.equal(green.status, 201);

    const observable = await api(lt, 'POST', `/cases/${amberCase}/observables`, {
      type: 'domain',
      value: 'wiper-c2.example',
    });
    assert.equal(observable.status, 201, JSON.stringify(observable.body));

    await waitFor('EE to receive both cases', async () => (await titles(byCode('EE'))).length === 2);
    await waitFor('FI to receive the GREEN case', async () => (await titles(byCode('FI'))).length === 1);
    assert.deepEqual(await titles(byCode('FI')), ['Credential phishing wave']);
    await waitFor('the AMBER case’s observable at EE', async () => {
      const items = (await api(byCode('EE'), 'GET', `/cases/${amberCase}/observables`)).body?.items ?? [];
      return items.length === 1;
    });
    // A little later FI still has nothing of the AMBER case.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await api(byCode('FI'), 'GET', `/cases/${amberCase}`)).status, 404);
  });

  it("an EE note on LT's case reaches LT; EE cannot relax or change LT's case", async () => {
    const ee = byCode('EE');
    const note = await api(ee, 'POST', `/cases/${amberCase}/notes`, {
      body: 'Same wiper seen at EE’s utility',
      tlp: 'amber',
    });
    assert.equal(note.status, 201, JSON.stringify(note.body));
    await waitFor('LT to receive EE’s note', async () => {
      const notes = (await api(byCode('LT'), 'GET', `/cases/${amberCase}/notes`)).body?.items ?? [];
      return notes.some((n: { body: string }) => n.body === 'Same wiper seen at EE’s utility');
    });
    const relax = await api(ee, 'PUT', `/cases/${amberCase}/shares`, { tlp: 'green' });
    assert.ok([403, 409].includes(relax.status), JSON.stringify(relax.body));
  });

  it('a narrowing retracts: LT unshares the case and EE removes it; LT relaxes and it comes back', async () => {
    const lt = byCode('LT');
    const narrowed = await api(lt, 'PUT', `/cases/${amberCase}/shares`, { parties: [] });
    assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
    await waitFor(
      'EE to drop the case',
      async () => (await api(byCode('EE'), 'GET', `/cases/${amberCase}`)).status === 404,
    );
    const relaxed = await api(lt, 'PUT', `/cases/${amberCase}/shares`, { parties: ['EE'] });
    assert.equal(relaxed.status, 200, JSON.stringify(relaxed.body));
    await waitFor(
      'EE to hold it again',
      async () => (await api(byCode('EE'), 'GET', `/cases/${amberCase}`)).status === 200,
    );
  });

  it('the change feed refuses unsigned calls, and calls from nobody it trusts', async () => {
    const lt = byCode('LT');
    const unsigned = await fetch(`${lt.base}/federation/v1/changes?after=0`);
    assert.equal(unsigned.status, 401);
    assert.match(((await unsigned.json()) as any).error.message, /signature/);
  });

  it('a peer that was offline catches up', async () => {
    const fi = byCode('FI');
    await fi.node!.stop();
    const lt = byCode('LT');
    for (let i = 1; i <= 3; i++) {
      const created = await api(lt, 'POST', '/cases', caseBody(`Offline round ${i}`, 'green'));
      assert.equal(created.status, 201);
    }
    const status = await api(lt, 'GET', '/federation/peers', undefined, lt.admin);
    assert.equal(status.status, 200);
    await waitFor('LT to notice FI is down', async () => {
      const peers = (await api(lt, 'GET', '/federation/peers', undefined, lt.admin)).body?.items ?? [];
      return peers.some((p: { party: string; lastError: string | null }) => p.party === 'FI' && p.lastError);
    });
    fi.node = await startNode(fi.env);
    await waitFor('FI to catch up', async () => (await titles(fi)).length === 4);
    const peers = (await api(fi, 'GET', '/federation/peers', undefined, fi.admin)).body.items;
    const ltAtFi = peers.find((p: { party: string }) => p.party === 'LT');
    await waitFor('FI’s lag behind LT to reach 0', async () => {
      const now = (await api(fi, 'GET', '/federation/peers', undefined, fi.admin)).body.items;
      return now.find((p: { party: string }) => p.party === 'LT').lag === 0;
    });
    assert.ok(ltAtFi);
  });
});
