import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { bulkRecordBatches, MAX_RECORDS } from './bulk-parse.ts';

const drain = async (text: string, maxRecords?: number) => {
  let records = 0;
  for await (const batch of bulkRecordBatches(Readable.from([Buffer.from(text)]), {
    format: 'lines',
    type: 'domain',
    maxBytes: 1 << 30,
    maxRecords,
  })) {
    records += batch.length;
  }
  return records;
};

describe('bulk files: a bound on what one file may cost', () => {
  it('refuses a file of more indicators than one import holds, saying how to split it', async () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `host${i}.example`).join('\n');
    assert.equal(await drain(lines(500), 500), 500);
    await assert.rejects(drain(lines(501), 500), (error: { code?: string; message?: string }) => {
      assert.equal(error.code, 'payload_too_large');
      assert.match(error.message ?? '', /more than 500 indicators; split it into files of at most 500 lines/);
      return true;
    });
    // The node's own bound: a million lines, about 100 MB of checked rows in memory.
    assert.equal(MAX_RECORDS, 1_000_000);
  });
});
