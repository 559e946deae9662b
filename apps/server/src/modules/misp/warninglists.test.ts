import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseObservable } from '../indicators/observable-types.ts';
import { regexProblem, WarningLists, warningListsFor, warningNamesForAnyType } from './warninglists.ts';

/** The ids of the lists a value is on, typed as a user would (normalised first, as it is stored). */
function on(type: string, raw: string): string[] {
  const normalised = normaliseObservable(type, raw);
  assert.ok(normalised.ok, `${type} ${raw}: ${normalised.ok ? '' : normalised.message}`);
  return warningListsFor(normalised.observable.type, normalised.observable.value).map((hit) => hit.id);
}

describe('MISP warning lists', () => {
  it('flag a public resolver, a private address and reserved ranges, IPv4 and IPv6', () => {
    assert.deepEqual(on('ip-dst', '8.8.8.8'), ['public-dns-v4']);
    assert.deepEqual(on('ip-src', '10.1.2.3'), ['rfc1918', 'rfc5735']);
    assert.deepEqual(on('ip-dst', 'FE80::1'), ['ipv6-linklocal']);
    assert.deepEqual(on('ip-dst', '2001:db8::5'), ['rfc3849']);
    assert.deepEqual(on('ip-dst', '100.64.1.1'), ['rfc6598']);
    assert.deepEqual(on('ip-dst', '239.1.2.3'), ['multicast', 'rfc5735']);
    // An IPv4-mapped IPv6 address is the IPv4 one.
    assert.deepEqual(on('ip-dst', '::ffff:192.168.1.1'), ['rfc1918', 'rfc5735']);
  });

  it('flag a network inside a listed one, not one wider than it', () => {
    assert.deepEqual(on('ip-src', '10.20.0.0/16'), ['rfc1918', 'rfc5735']);
    assert.deepEqual(on('ip-src', '10.0.0.0/7'), []);
  });

  it('flag an address in a composite value on its own part, as MISP does', () => {
    assert.deepEqual(on('ip-dst|port', '8.8.8.8|53'), ['public-dns-v4']);
    assert.deepEqual(on('ip-src|port', '[fe80::1]:443'), ['ipv6-linklocal']);
    assert.ok(on('domain|ip', 'evil.example|192.168.0.1').includes('rfc1918'));
  });

  it('leave an ordinary address alone', () => {
    assert.deepEqual(on('ip-dst', '185.220.101.4'), []);
    assert.deepEqual(on('ip-dst', '2a0b:4e07:1:1::99'), []);
  });

  it('flag a host under a top domain, with any of its parent domains, in URLs too', () => {
    // tranco10k holds google.com, not www.google.com: the parent domain is what matches.
    assert.deepEqual(on('domain', 'www.google.com'), ['tranco10k']);
    assert.deepEqual(on('hostname', 'WWW.Google.COM.'), ['tranco10k']);
    assert.deepEqual(on('url', 'hxxps://mail.google[.]com/x?y=1'), ['tranco10k']);
    assert.deepEqual(on('domain|ip', 'maps.google.com|185.220.101.4'), ['tranco10k']);
    assert.deepEqual(on('domain', 'bit.ly'), ['tranco10k', 'url-shortener']);
    assert.deepEqual(on('domain', 'google.com.evil.example'), [], 'a suffix, not a prefix, is a parent');
    assert.deepEqual(on('domain', 'evil-google.com'), [], 'labels, not characters');
  });

  it('flag an exact string: second-level domains and special-use names', () => {
    assert.deepEqual(on('domain', 'co.uk'), ['second-level-tlds']);
    assert.deepEqual(on('domain', 'evil-shop.co.uk'), [], 'a string list is exact');
  });

  it('flag empty-file hashes, alone or after a filename', () => {
    assert.deepEqual(on('md5', 'D41D8CD98F00B204E9800998ECF8427E'), [
      'common-ioc-false-positive',
      'empty-hashes',
    ]);
    assert.ok(
      on('sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855').includes(
        'empty-hashes',
      ),
    );
    assert.ok(on('filename|md5', 'empty.txt|d41d8cd98f00b204e9800998ecf8427e').includes('empty-hashes'));
    assert.deepEqual(on('md5', 'd41d8cd98f00b204e9800998ecf8427f'), []);
  });

  it('apply a list only to the types it names', () => {
    // The same text under a type no list names (text, comment) is no warning.
    assert.deepEqual(on('text', '8.8.8.8'), []);
    assert.deepEqual(on('comment', 'www.google.com'), []);
    // public-dns-v4 names ip-src and ip-dst, not domain: a host list does not see addresses as such.
    assert.deepEqual(on('ip-dst', '8.8.8.8'), ['public-dns-v4']);
    assert.deepEqual(on('email', 'someone@google.com'), [], 'email is not among the host lists’ types');
  });

  it('answer a lookup’s untyped forms under any type a list applies to', () => {
    assert.deepEqual(warningNamesForAnyType(['8.8.8.8']), ['List of known IPv4 public DNS resolvers']);
    assert.deepEqual(warningNamesForAnyType(['185.220.101.4', 'evil.example']), []);
  });

  it('read substring and regex lists, skipping a pattern that is not safe to run', () => {
    const lists = new WarningLists([
      {
        id: 'sub',
        list: { name: 'Sub', type: 'substring', matching_attributes: ['url'], list: ['/wp-admin/'] },
      },
      {
        id: 're',
        list: {
          name: 'Re',
          type: 'regex',
          matching_attributes: ['domain'],
          list: ['/^cdn[0-9]+\\.example\\.net$/i', '/^(a+)+$/', '/(x)\\1/', '/[/'],
        },
      },
      { id: 'all', list: { name: 'All', type: 'string', list: ['needle'] } },
    ]);
    assert.deepEqual(
      lists.listsFor('url', 'http://blog.example/wp-admin/x').map((h) => h.id),
      ['sub'],
    );
    assert.deepEqual(
      lists.listsFor('domain', 'cdn42.example.net').map((h) => h.id),
      ['re'],
    );
    assert.deepEqual(
      lists.listsFor('domain', 'aaaa').map((h) => h.id),
      [],
      'the unsafe pattern is not run',
    );
    assert.deepEqual(
      lists.skipped.map((s) => s.entry),
      ['/^(a+)+$/', '/(x)\\1/', '/[/'],
    );
    assert.deepEqual(
      lists.listsFor('text', 'needle').map((h) => h.id),
      ['all'],
      'a list naming no type applies to all',
    );
  });

  it('judge which patterns are safe to run', () => {
    assert.equal(regexProblem('/^https?:\\/\\/.*\\.example\\.com/i'), null);
    assert.equal(regexProblem('/(ab){2}/'), null);
    assert.equal(regexProblem('/(a+)?/'), null);
    assert.match(regexProblem('/(a|aa)*$/') ?? '', /repeats a group/);
    assert.match(regexProblem('/(a+){2,}/') ?? '', /repeats a group/);
    assert.match(regexProblem('/(\\w)\\1/') ?? '', /backreference/);
  });

  it('look a value up by index, not by scanning a list: 40,000 values in well under the time of one scan each', () => {
    warningListsFor('ip-dst', '192.0.2.1');
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) {
      warningListsFor('ip-dst', `185.${i & 255}.${(i >> 8) & 255}.7`);
      warningListsFor('domain', `host${i}.sub.example${i % 97}.com`);
    }
    // About 0.1 s on an idle machine; scanning public-dns-v4 (~60k entries) per address would take
    // minutes. The bound is loose, for a busy test machine.
    const took = performance.now() - started;
    assert.ok(took < 10_000, `took ${took} ms`);
  });
});
