import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setNewest } from './newest-first-map.ts';

describe('setNewest', () => {
  it('keeps at most max entries, dropping the ones set longest ago; setting a key again makes it the newest', () => {
    const seen = new Map<string, number>();
    for (const [key, value] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ] as const)
      setNewest(seen, key, value, 3);
    setNewest(seen, 'a', 4, 3);
    setNewest(seen, 'd', 5, 3);
    assert.deepEqual(
      [...seen],
      [
        ['c', 3],
        ['a', 4],
        ['d', 5],
      ],
    );
  });
});
