import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit, type Settled } from './add-batcher.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A GroupCommit whose batches are recorded and held until the test lets each commit. */
function heldBatches(fillMs: number) {
  const batches: string[][] = [];
  const commits: (() => void)[] = [];
  const commit = new GroupCommit<string, string>({
    writeBatch: (_group, items, committed) =>
      new Promise<Settled<string>[]>((resolve) => {
        batches.push([...items]);
        commits.push(() => {
          const outcomes = items.map((item): Settled<string> => ({ ok: true, value: item }));
          committed(outcomes);
          resolve(outcomes);
        });
      }),
    writeOne: async (_group, item) => item,
    keyOf: (item) => item,
    maxBatch: 3,
    fillMs,
  });
  return { commit, batches, commits };
}

describe('group commit: a busy group fills its next batch, an idle one starts at once', () => {
  it('starts a lone item at once, and items sent one after another, however long a busy group would wait', async () => {
    const { commit, batches, commits } = heldBatches(60_000);
    const first = commit.submit('g', 'a');
    await turn();
    assert.deepEqual(batches, [['a']]);
    const second = commit.submit('g', 'b');
    commits[0]!();
    assert.equal(await first, 'a');
    await turn();
    await turn();
    assert.deepEqual(batches, [['a'], ['b']], 'a batch of one: nothing comes concurrently, nothing waits');
    commits[1]!();
    assert.equal(await second, 'b');
  });

  it('lets items that come while a busy group waits join its next batch', async () => {
    const { commit, batches, commits } = heldBatches(50);
    const answers = [commit.submit('g', 'a'), commit.submit('g', 'a2')];
    await turn();
    answers.push(commit.submit('g', 'b'));
    commits[0]!();
    await turn();
    await turn();
    // Without the wait, b's batch would have started alone by now.
    assert.deepEqual(batches, [['a', 'a2']]);
    answers.push(commit.submit('g', 'c'));
    while (batches.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(batches, [
      ['a', 'a2'],
      ['b', 'c'],
    ]);
    commits[1]!();
    assert.deepEqual(await Promise.all(answers), ['a', 'a2', 'b', 'c']);
  });

  it('does not wait when the next batch is full already', async () => {
    const { commit, batches, commits } = heldBatches(60_000);
    const answers = [commit.submit('g', 'a')];
    await turn();
    answers.push(commit.submit('g', 'b'), commit.submit('g', 'c'), commit.submit('g', 'd'));
    commits[0]!();
    await turn();
    await turn();
    assert.deepEqual(batches, [['a'], ['b', 'c', 'd']]);
    commits[1]!();
    assert.deepEqual(await Promise.all(answers), ['a', 'b', 'c', 'd']);
  });
});
