import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type ProcessStorage, processStorage, vytis as run, withServices } from './node-process.fixtures.ts';

// `vytis report pdf REQUEST_ID --out FILE` as an operator types it, in real processes on one data
// directory holding the demo world, with no node running (the CLI opens the database itself).
const pdftotext = promisify(execFile);

describe('vytis report pdf', () => {
  let storage: ProcessStorage;
  let dataDir: string;
  let requestId: string;
  const vytis = (args: string[]) => run(args, storage.env);

  before(async () => {
    storage = await processStorage('report-cli');
    dataDir = storage.dataDir;
    const demo = await vytis(['demo']);
    assert.equal(demo.code, 0, demo.stderr);
    requestId = await withServices(storage.env, async (services) => {
      const deployment = await services.database.db
        .selectFrom('deployments')
        .select('request_id')
        .executeTakeFirstOrThrow();
      return deployment.request_id;
    });
  });
  after(() => storage.destroy());

  it("writes the demo deployment's post-action report as a PDF that reads right", async () => {
    const out = path.join(dataDir, 'reports', 'post-action.pdf');
    fs.mkdirSync(path.dirname(out));
    const run = await vytis(['report', 'pdf', requestId, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^wrote .*post-action\.pdf: the post-action report \(draft, TLP:(GREEN|AMBER|AMBER\+STRICT|RED|CLEAR)\), \d+ bytes\n$/,
    );
    const label = /TLP:[A-Z+]+/.exec(run.stdout)![0];
    const { stdout: text } = await pdftotext('pdftotext', ['-layout', out, '-']);
    const pages = text.split('\f').filter((page) => page.trim() !== '');
    assert.ok(pages.length >= 1);
    for (const [i, page] of pages.entries()) {
      assert.ok(page.split(label).length - 1 >= 2, `page ${i + 1} carries ${label} in its header and footer`);
      assert.match(page, new RegExp(`Page ${i + 1} of ${pages.length}`));
    }
    assert.match(text, /\[demo\] DDoS against public e-services/);
    assert.match(text, /Not signed: this is a draft/);
    assert.deepEqual(
      fs.readdirSync(path.dirname(out)),
      ['post-action.pdf'],
      'no temporary file is left beside it',
    );
  });

  it('says what is wrong, writes nothing, and exits 1', async () => {
    const out = path.join(dataDir, 'never.pdf');
    const notAnId = await vytis(['report', 'pdf', 'grid-incident', '--out', out]);
    assert.equal(notAnId.code, 1);
    assert.match(notAnId.stderr, /grid-incident is not a request id/);
    const unknown = await vytis(['report', 'pdf', crypto.randomUUID(), '--out', out]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /not found/);
    const nobody = await vytis(['report', 'pdf', requestId, '--out', out, '--as', 'nobody.here']);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no user named nobody\.here/);
    const noFlag = await vytis(['report', 'pdf', requestId]);
    assert.equal(noFlag.code, 1);
    assert.match(noFlag.stderr, /--out <file>/);
    assert.equal(fs.existsSync(out), false);
  });
});
