import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../platform/canonical-json.ts';
import { canonicalEnvelope, envelopeObject, GENESIS_HASH, hashEvent } from './audit.chain.ts';

const nullableText = fc.option(fc.string({ unit: 'binary' }), { nil: null });
const event = fc.record({
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  at: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
  actorType: fc.constantFrom('user', 'system'),
  actorId: nullableText,
  actorName: fc.string({ unit: 'binary' }),
  actorParty: nullableText,
  action: fc.string(),
  objectType: fc.string(),
  objectId: nullableText,
  summary: fc.jsonValue().map((v) => canonicalJson(v)),
  requestId: nullableText,
  prevHash: fc.stringMatching(/^[0-9a-f]{64}$/),
});

describe('audit hash chain encoding', () => {
  it('writes exactly the RFC 8785 canonical JSON of the envelope, for any content', () => {
    fc.assert(
      fc.property(event, (e) => {
        assert.equal(canonicalEnvelope(e), canonicalJson(envelopeObject(e)));
      }),
      { numRuns: 500 },
    );
  });

  it('changes the hash when any single field changes', () => {
    const base = {
      seq: 7,
      at: new Date('2026-11-23T10:00:00Z'),
      actorType: 'user',
      actorId: 'u1',
      actorName: 'alice',
      actorParty: 'LT',
      action: 'user.create',
      objectType: 'user',
      objectId: 'u2',
      summary: '{"name":"bob"}',
      requestId: 'r1',
      prevHash: GENESIS_HASH,
    };
    const original = hashEvent(base);
    const variants = [
      { seq: 8 },
      { at: new Date('2026-11-23T10:00:00.001Z') },
      { actorName: 'mallory' },
      { actorParty: 'PL' },
      { action: 'user.delete' },
      { objectId: null },
      { summary: '{"name":"eve"}' },
      { requestId: null },
      { prevHash: '1'.repeat(64) },
    ];
    for (const v of variants) assert.notEqual(hashEvent({ ...base, ...v }), original, JSON.stringify(v));
  });
});
