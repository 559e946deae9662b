import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { sweepStaleTemporaries } from './temp-sweep.ts';

describe('temporaries of imports cut short', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-test-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('removes old import temporaries, and leaves young ones and anything else', () => {
    const day = 24 * 60 * 60 * 1000;
    const now = Date.now();
    const make = (name: string, ageMs: number, directory = false) => {
      const file = path.join(dir, name);
      if (directory) {
        fs.mkdirSync(file);
        fs.writeFileSync(path.join(file, 'objects'), 'x');
      } else {
        fs.writeFileSync(file, 'x');
      }
      const at = new Date(now - ageMs);
      fs.utimesSync(file, at, at);
    };
    make('vytis-import-old', 2 * day);
    make('vytis-stix-old', 2 * day, true);
    make('vytis-import-young', 60_000);
    make('someone-elses-file', 3 * day);
    assert.equal(sweepStaleTemporaries(day, now, dir), 2);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['someone-elses-file', 'vytis-import-young']);
  });
});
