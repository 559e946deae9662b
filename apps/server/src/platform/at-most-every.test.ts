import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atMostEvery } from './at-most-every.ts';

describe('atMostEvery', () => {
  it('starts the work once per interval however often it is asked for, and again after it', async () => {
    let runs = 0;
    const sweep = atMostEvery(50, async () => {
      runs++;
    });
    for (let i = 0; i < 10; i++) sweep();
    assert.equal(runs, 1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    sweep();
    sweep();
    assert.equal(runs, 2);
  });

  it('ignores a failed run and tries again after the interval', async () => {
    let runs = 0;
    const sweep = atMostEvery(20, async () => {
      runs++;
      throw new Error('database unreachable');
    });
    sweep();
    await new Promise((resolve) => setTimeout(resolve, 30));
    sweep();
    assert.equal(runs, 2);
  });
});
