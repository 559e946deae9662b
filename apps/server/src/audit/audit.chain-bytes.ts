import { to as copyTo } from 'pg-copy-streams';
import type { DatabaseHandle } from '../platform/db/database.ts';
import type { Executor } from '../platform/db/transaction.ts';

/**
 * Reads the chain in order as raw bytes, for the verifier: `visit(seq, envelope, hash)` gets
 * a view into the envelope's bytes as they arrived (valid only during the call) and returns false to stop.
 *
 * On a PostgreSQL server this is one `COPY … (FORMAT binary)` stream: fields arrive
 * length-prefixed and unescaped, so a million envelopes are hashed without making a JS string of
 * any of them. On PGlite, or inside a transaction, pages come through Kysely.
 */
export type ChainVisitor = (seq: number, envelope: Buffer, hash: string) => boolean;

export async function visitChainBytes(source: Executor | DatabaseHandle, visit: ChainVisitor): Promise<void> {
  if ('kind' in source && source.pool) return copyChain(source, visit);
  const db = 'kind' in source ? source.db : source;
  for (let after = 0; ; ) {
    const rows = await db
      .selectFrom('audit_events')
      .select(['seq', 'envelope', 'hash'])
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(20_000)
      .execute();
    if (rows.length === 0) return;
    for (const row of rows) {
      if (!visit(row.seq, Buffer.from(row.envelope, 'utf8'), row.hash)) return;
    }
    after = rows.at(-1)!.seq;
  }
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

async function copyChain(database: DatabaseHandle, visit: ChainVisitor): Promise<void> {
  const client = await database.pool!.connect();
  let stream: ReturnType<typeof copyTo> | undefined;
  try {
    stream = client.query(
      copyTo('copy (select seq, envelope, hash from audit_events order by seq) to stdout (format binary)'),
    );
    let pending: Buffer = Buffer.alloc(0);
    let headerDone = false;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const buf: Buffer = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      let pos = 0;
      if (!headerDone) {
        if (buf.length < 19) {
          pending = buf;
          continue;
        }
        if (!buf.subarray(0, 11).equals(SIGNATURE)) throw new Error('unexpected COPY BINARY header');
        pos = 19 + buf.readUInt32BE(15); // signature, flags, header extension length + extension
        headerDone = true;
      }
      // A tuple: int16 field count (-1 ends the stream), then per field an int32 length and bytes.
      for (;;) {
        if (pos + 2 > buf.length) break;
        const fields = buf.readInt16BE(pos);
        if (fields === -1) return;
        let p = pos + 2;
        if (p + 4 > buf.length) break;
        const seqLength = buf.readInt32BE(p);
        if (p + 4 + seqLength + 4 > buf.length) break;
        const seq = buf.readUInt32BE(p + 4) * 2 ** 32 + buf.readUInt32BE(p + 8);
        p += 4 + seqLength;
        const envelopeLength = buf.readInt32BE(p);
        if (p + 4 + envelopeLength + 4 > buf.length) break;
        const envelope = buf.subarray(p + 4, p + 4 + envelopeLength);
        p += 4 + envelopeLength;
        const hashLength = buf.readInt32BE(p);
        if (p + 4 + hashLength > buf.length) break;
        const hash = buf.toString('latin1', p + 4, p + 4 + hashLength);
        p += 4 + hashLength;
        if (!visit(seq, envelope, hash)) return;
        pos = p;
      }
      pending = buf.subarray(pos);
    }
  } finally {
    stream?.destroy();
    // A COPY stopped early leaves the connection mid-protocol: discard it rather than reuse it.
    client.release(true);
  }
}
