import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scoId, uuidV5 } from './stix-ids.ts';
import { expressionOf } from './stix-mapping.ts';
import { parsePattern, quote } from './stix-pattern.ts';

describe('STIX patterns', () => {
  it('quotes a value with quotes and backslashes so it reads back unchanged', () => {
    const value = `C:\\Users\\O'Brien\\'evil'.exe`;
    assert.equal(quote(value), `'C:\\\\Users\\\\O\\'Brien\\\\\\'evil\\'.exe'`);
    const parsed = parsePattern(`[file:name = ${quote(value)}]`);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
    const comparison = parsed.ok && parsed.pattern.kind === 'observation' ? parsed.pattern.comparison : null;
    assert.equal(
      comparison?.kind === 'test' && !Array.isArray(comparison.value) ? comparison.value.value : null,
      value,
    );
  });

  it('parses the forms the grammar allows', () => {
    for (const pattern of [
      "[ipv4-addr:value = '198.51.100.1']",
      "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
      "[file:hashes.'SHA-256' = 'aa' OR file:hashes.MD5 = 'bb']",
      "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_port = 443]",
      "[domain-name:resolves_to_refs[*].value = '192.0.2.1']",
      '[autonomous-system:number = 64496]',
      "[email-message:body_multipart[0].body_raw_ref.name NOT = 'a']",
      "[url:value = 'http://a.example'] OR ([file:name LIKE 'x%'] AND [file:size > 10]) FOLLOWEDBY [mutex:name = 'm']",
      "[x509-certificate:validity_not_before < t'2024-01-01T00:00:00Z']",
      "[artifact:payload_bin = b'aGVsbG8=' OR artifact:hashes.MD5 = h'00ff']",
      '[process:pid IN (1, 2, 3)]',
      "[file:name = 'a' AND (file:size = 1 OR file:size = 2)]",
    ]) {
      const parsed = parsePattern(pattern);
      assert.ok(parsed.ok, `${pattern}: ${parsed.ok ? '' : parsed.message}`);
    }
  });

  it('refuses what is not a pattern, saying where', () => {
    const bad: [string, RegExp][] = [
      ["[ipv4-addr:value = '1.2.3.4'", /expected '\]'/],
      ["ipv4-addr:value = '1.2.3.4'", /expected '\[' or '\('/],
      ["[ipv4-addr:value = 'it's']", /unterminated string/],
      ["[file:name = 'a\\b']", /invalid escape/],
      ["[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'a.example']", /different object types/],
      ["[file:name = 'a'] WITHIN 5 SECONDS", /not supported/],
      ["[file:name ~ 'a']", /unexpected character/],
      ['[file:name = ]', /expected a literal/],
      ["[x509-certificate:validity_not_before < t'2024-13-01T00:00:00Z']", /timestamp/],
    ];
    for (const [pattern, message] of bad) {
      const parsed = parsePattern(pattern);
      assert.equal(parsed.ok, false, pattern);
      assert.match(parsed.ok ? '' : parsed.message, message, pattern);
    }
  });
});

describe('STIX ids', () => {
  it('computes cyber-observable ids as the specification does (its own example vectors)', () => {
    // STIX 2.1 §2.9 and errata 01: domain-name example.com; ipv4-addr 198.51.100.3.
    assert.equal(
      scoId('domain-name', { value: 'example.com' }, ['value']),
      'domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7',
    );
    assert.equal(
      scoId('ipv4-addr', { value: '198.51.100.3' }, ['value']),
      'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4',
    );
    // RFC 9562's UUIDv5 example: "www.example.com" in the DNS namespace.
    assert.equal(
      uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'),
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('takes one hash for a file id, MD5 first, and the name with it', () => {
    const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
    const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const both = scoId('file', { name: 'a.exe', hashes: { 'SHA-256': sha256, MD5: md5 } }, [
      'hashes',
      'name',
    ]);
    assert.equal(both, scoId('file', { name: 'a.exe', hashes: { MD5: md5 } }, ['hashes', 'name']));
    assert.notEqual(both, scoId('file', { hashes: { MD5: md5 } }, ['hashes', 'name']));
  });

  it('writes registry hives out in full, as §6.13 requires', () => {
    const e = expressionOf('regkey', 'HKLM\\Software\\Run');
    assert.equal(
      e?.kind === 'stix' ? e.pattern : null,
      "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Run']",
    );
  });
});
