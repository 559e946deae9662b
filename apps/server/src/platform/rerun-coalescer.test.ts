import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SoonRunner } from './rerun-coalescer.ts';

describe('SoonRunner', () => {
  it('serves every request made before its run starts with that one run', async () => {
    let runs = 0;
    const runner = new SoonRunner(async () => {
      runs++;
    }, 20);
    const asked = [runner.request(), runner.request(), runner.request()];
    await Promise.all(asked);
    assert.equal(runs, 1);
    await runner.done();
    assert.equal(runs, 1);
  });

  it('under a steady stream of requests starts runs at least everyMs apart', async () => {
    const starts: number[] = [];
    const runner = new SoonRunner(
      async () => {
        starts.push(performance.now());
      },
      1,
      150,
    );
    // Requests one after another, each once the run before is over: without everyMs each would
    // start its own run a millisecond later.
    for (let i = 0; i < 3; i++) await runner.request();
    assert.equal(starts.length, 3);
    for (let i = 1; i < starts.length; i++) {
      // Timers may fire up to a millisecond early by rounding.
      assert.ok(starts[i]! - starts[i - 1]! >= 149, `runs ${starts[i]! - starts[i - 1]!} ms apart`);
    }
  });
});
