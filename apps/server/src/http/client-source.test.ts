import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientSource } from './client-source.ts';

describe('the source a limit counts a client under', () => {
  it('is an IPv4 address itself, also when it comes IPv4-mapped', () => {
    assert.equal(clientSource('192.0.2.7'), '192.0.2.7');
    assert.equal(clientSource('::ffff:192.0.2.7'), '192.0.2.7');
  });

  it("is an IPv6 address's /64, however the address is written", () => {
    assert.equal(clientSource('2001:db8:1:2::a'), '2001:db8:1:2::/64');
    assert.equal(clientSource('2001:0db8:0001:0002:ffff:0:0:b'), '2001:db8:1:2::/64');
    assert.notEqual(clientSource('2001:db8:1:3::a'), clientSource('2001:db8:1:2::a'));
    assert.equal(clientSource('::1'), '0:0:0:0::/64');
  });

  it('leaves anything else as it is', () => {
    assert.equal(clientSource('not an address'), 'not an address');
  });
});
