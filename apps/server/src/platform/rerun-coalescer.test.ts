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
    // Each run notes the time the runner last read, which is the one it started the run at: a time
    // the run read itself could come late by however long the machine kept the process waiting.
    let lastRead = 0;
    const clock = (): number => {
      lastRead = performance.now();
      return lastRead;
    };
    const starts: number[] = [];
    const runner = new SoonRunner(
      async () => {
        starts.push(lastRead);
      },
      1,
      everyMs,
      clock,
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
    const tooClose = gaps.filter((gap) => gap < everyMs);
    assert.deepEqual(tooClose, [], `runs closer than ${everyMs} ms apart`);
  });
});
