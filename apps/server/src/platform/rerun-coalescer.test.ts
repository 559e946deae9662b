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

  it('under a steady stream of requests starts runs at least everyMs apart, however its timers round', async () => {
    const everyMs = 10;
    const starts: number[] = [];
    const runner = new SoonRunner(
      async () => {
        starts.push(performance.now());
      },
      1,
      everyMs,
    );
    // Requests one after another, each once the run before is over and after a busy stretch of a
    // fraction of a millisecond: without everyMs each would start its own run a millisecond later,
    // and timers, counted in whole milliseconds of the loop's clock, fire up to two early.
    for (let i = 0; i < 40; i++) {
      await runner.request();
      const busyUntil = performance.now() + 0.37 * (i % 3);
      while (performance.now() < busyUntil);
    }
    assert.equal(starts.length, 40);
    const gaps = starts.slice(1).map((start, i) => start - starts[i]!);
    // The run notes its start a moment after the runner does.
    const tooClose = gaps.filter((gap) => gap < everyMs - 0.1);
    assert.deepEqual(tooClose, [], `runs closer than ${everyMs} ms apart`);
  });
});
