import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import {
  isObservableType,
  lookupCandidates,
  MAX_VALUE_BYTES,
  normaliseObservable,
  OBSERVABLE_TYPES,
  refang,
} from './observable-types.ts';

const MISP = JSON.parse(
  fs.readFileSync(new URL('../../../data/misp/describeTypes.json', import.meta.url), 'utf8'),
).result as { types: string[]; sane_defaults: Record<string, { default_category: string; to_ids: number }> };

/** The stored value, failing the test with the message when `raw` is rejected. */
function stored(type: string, raw: string): string {
  const result = normaliseObservable(type, raw);
  assert.ok(result.ok, `${type} ${JSON.stringify(raw)} was rejected: ${result.ok ? '' : result.message}`);
  return result.observable.value;
}

/** The message, failing the test when `raw` is accepted. */
function rejection(type: string, raw: string): string {
  const result = normaliseObservable(type, raw);
  assert.ok(
    !result.ok,
    `${type} ${JSON.stringify(raw)} was accepted as ${result.ok ? result.observable.value : ''}`,
  );
  return result.message;
}

describe('observable types', () => {
  it('are every MISP type, with its default category and to_ids', () => {
    assert.deepEqual([...OBSERVABLE_TYPES], MISP.types);
    assert.ok(OBSERVABLE_TYPES.length > 150);
    for (const type of ['ip-src', 'ip-dst', 'domain', 'hostname', 'url', 'email', 'md5', 'sha1', 'sha256'])
      assert.ok(isObservableType(type), type);
    for (const type of ['filename', 'vulnerability', 'AS']) assert.ok(isObservableType(type), type);
    assert.equal(isObservableType('ipv4'), false);
    assert.equal(isObservableType('as'), false);
    assert.equal(isObservableType('__proto__'), false);
  });

  it('take category and toIds from sane_defaults', () => {
    const domain = normaliseObservable('domain', 'example.com');
    assert.deepEqual(domain, {
      ok: true,
      observable: { type: 'domain', category: 'Network activity', value: 'example.com', toIds: true },
    });
    assert.deepEqual(normaliseObservable('comment', 'seen in the wild'), {
      ok: true,
      observable: { type: 'comment', category: 'Other', value: 'seen in the wild', toIds: false },
    });
  });

  it('reject an unknown type, naming some known ones', () => {
    assert.deepEqual(normaliseObservable('ipv4', '192.0.2.1'), {
      ok: false,
      message: 'unknown type ipv4; use a MISP attribute type such as ip-src, domain, url, sha256',
    });
  });
});

describe('refang', () => {
  it('undoes the common defanging forms', () => {
    assert.equal(refang('evil[.]example'), 'evil.example');
    assert.equal(refang('a(.)b{.}c[dot]d(DOT)e{dot}f'), 'a.b.c.d.e.f');
    assert.equal(refang('evil dot example'), 'evil.example');
    assert.equal(refang('user [at] example [dot] com'), 'user@example.com');
    assert.equal(refang('user[@]mail[.]example'), 'user@mail.example');
    assert.equal(refang('user(at)mail.example'), 'user@mail.example');
    assert.equal(refang('hxxp[://]a.example'), 'http://a.example');
    assert.equal(refang('HXXPS[:]//a.example'), 'https://a.example');
    assert.equal(refang('fxp://files.example'), 'ftp://files.example');
    assert.equal(refang('hxxps://evil(dot)example[.]com/a'), 'https://evil.example.com/a');
  });

  it('changes hxxp only where a scheme would be', () => {
    assert.equal(refang('shxxp://a'), 'shxxp://a');
    assert.equal(refang('hxxpd'), 'hxxpd');
    assert.equal(refang('see hxxp://a'), 'see http://a');
  });

  it('refangs tokens that refanging uncovers, so refanging twice changes nothing', () => {
    assert.equal(refang('[[.]]'), '.');
    const defanged = fc
      .array(
        fc.constantFrom(
          '[.]',
          '(.)',
          '{.}',
          '[dot]',
          '(dot)',
          ' dot ',
          '[:]',
          '[://]',
          '[@]',
          '[at]',
          '(at)',
        ),
        { maxLength: 4 },
      )
      .chain((tokens) =>
        fc
          .array(
            fc.constantFrom(
              'a',
              '.',
              ' ',
              '[',
              ']',
              '(',
              ')',
              '{',
              '}',
              'd',
              'o',
              't',
              ':',
              '/',
              'hxxp',
              'x',
            ),
            {
              maxLength: 12,
            },
          )
          .map((noise) => [...tokens, ...noise].sort(() => 0).join('')),
      );
    fc.assert(
      fc.property(fc.oneof(defanged, fc.string()), (raw) => refang(refang(raw)) === refang(raw)),
      { numRuns: 500 },
    );
  });
});

describe('every type', () => {
  it('trims, and rejects an empty value', () => {
    assert.equal(stored('filename', '  evil.exe \t\n'), 'evil.exe');
    assert.equal(rejection('filename', '  \n '), 'filename: value is empty');
    assert.equal(rejection('md5', ''), 'md5: value is empty');
  });

  it(`rejects values over ${MAX_VALUE_BYTES} bytes of UTF-8, counting bytes not characters`, () => {
    assert.equal(stored('text', 'a'.repeat(MAX_VALUE_BYTES)).length, MAX_VALUE_BYTES);
    assert.match(rejection('text', 'a'.repeat(MAX_VALUE_BYTES + 1)), /2049 bytes of UTF-8; at most 2048/);
    assert.ok(stored('text', 'é'.repeat(MAX_VALUE_BYTES / 2)));
    assert.match(rejection('text', `${'é'.repeat(MAX_VALUE_BYTES / 2)}x`), /2049 bytes/);
    assert.match(rejection('text', '😀'.repeat(MAX_VALUE_BYTES / 4 + 1)), /2052 bytes/);
  });

  it('rejects a stored value that normalising has made too long', () => {
    // Percent-encoding triples each byte of "é" (two bytes: %C3%A9).
    assert.match(rejection('url', `http://a.example/${'é'.repeat(600)}`), /bytes of UTF-8; at most 2048/);
  });

  it('rejects C0 control characters and DEL, except tab', () => {
    assert.equal(
      rejection('domain', 'evil\u0000.example'),
      'domain: value contains the control character U+0000 at position 4; only tab is allowed',
    );
    assert.match(rejection('filename', 'a\nb'), /U\+000A at position 1; only tab is allowed/);
    assert.match(rejection('filename', 'a\u007fb'), /U\+007F/);
    assert.match(rejection('comment', 'a\u001bb'), /U\+001B/);
    assert.equal(stored('filename', 'a\tb'), 'a\tb');
  });

  it('lets rules, keys and prose span lines, and stores them exactly (no refanging)', () => {
    const rule = 'rule evil {\r\n  strings: $a = /evil[.]example/\n  condition: $a\n}';
    assert.equal(stored('yara', rule), rule);
    assert.equal(stored('text', 'first line\nsecond (dot) line'), 'first line\nsecond (dot) line');
    assert.equal(stored('sigma', 'title: x\ndetection:\n  sel: a'), 'title: x\ndetection:\n  sel: a');
    assert.equal(stored('threat-actor', 'Polka dot Panda'), 'Polka dot Panda');
  });

  it('rejects a lone surrogate, which would be stored as U+FFFD', () => {
    assert.match(rejection('filename', 'a\ud800b'), /well-formed Unicode/);
  });

  it('refangs and trims the types without a format of their own', () => {
    assert.equal(stored('filename', 'invoice[.]pdf[.]exe'), 'invoice.pdf.exe');
    assert.equal(stored('filename', 'C:\\Users\\Public\\Invoice.EXE'), 'C:\\Users\\Public\\Invoice.EXE');
    assert.equal(stored('btc', ' 1BoatSLRHtKNngkdXEeobR76b53LETtpyT '), '1BoatSLRHtKNngkdXEeobR76b53LETtpyT');
    assert.equal(stored('mutex', 'Global\\evil'), 'Global\\evil');
  });
});

describe('ip-src and ip-dst', () => {
  it('accept a strict dotted-quad IPv4 address as written', () => {
    assert.equal(stored('ip-src', '192.0.2.1'), '192.0.2.1');
    assert.equal(stored('ip-dst', ' 0.0.0.0 '), '0.0.0.0');
    assert.equal(stored('ip-dst', '255.255.255.255'), '255.255.255.255');
    assert.equal(stored('ip-src', '1.2.3[.]4'), '1.2.3.4');
    assert.equal(stored('ip-src', '1[.]2[.]3[.]4'), '1.2.3.4');
  });

  it('reject what is not an address, saying so', () => {
    assert.equal(rejection('ip-src', '999.1.1.1'), 'ip-src: 999.1.1.1 is not an IPv4 or IPv6 address');
    for (const raw of [
      '1.2.3',
      '1.2.3.4.5',
      '1.2.3.',
      '.1.2.3',
      '0x7f.0.0.1',
      '2130706433',
      '1.2.3.4 ',
      'a.b.c.d',
    ])
      if (raw.trim() !== '1.2.3.4')
        assert.match(rejection('ip-src', raw), /is not an IPv4 or IPv6 address/, raw);
    assert.match(rejection('ip-src', 'evil.example'), /is not an IPv4 or IPv6 address/);
  });

  it('reject octets with leading zeros, which some software reads as octal', () => {
    assert.match(rejection('ip-src', '010.1.1.1'), /^ip-src: 010\.1\.1\.1 has an octet with a leading zero/);
    assert.match(rejection('ip-dst', '1.1.1.00'), /leading zero/);
  });

  it('store IPv6 in the RFC 5952 form', () => {
    assert.equal(stored('ip-src', '2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(stored('ip-src', '2001:0db8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1');
    assert.equal(stored('ip-src', '2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
    assert.equal(stored('ip-src', '2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    assert.equal(stored('ip-src', '0:0:0:0:0:0:0:0'), '::');
    assert.equal(stored('ip-src', '::1'), '::1');
    assert.equal(stored('ip-src', 'fe80::'), 'fe80::');
  });

  it('keep IPv4-mapped IPv6 addresses as IPv6, in the mixed form RFC 5952 recommends', () => {
    assert.equal(stored('ip-dst', '::FFFF:192.0.2.1'), '::ffff:192.0.2.1');
    assert.equal(stored('ip-dst', '0:0:0:0:0:ffff:c000:0201'), '::ffff:192.0.2.1');
    assert.equal(stored('ip-dst', '::1.2.3.4'), '::102:304');
  });

  it('reject malformed IPv6, zone indexes and brackets', () => {
    for (const raw of [
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':::',
      '1:2',
      '12345::',
      ':1::',
      '1::2:',
      'g::1',
      '::ffff:1.2.3',
    ])
      assert.match(rejection('ip-src', raw), /is not an IPv4 or IPv6 address/, raw);
    assert.match(rejection('ip-src', '::ffff:1.2.3.04'), /is not an IPv4 or IPv6 address/);
    assert.match(rejection('ip-src', 'fe80::1%eth0'), /zone index \(%eth0\)/);
    assert.match(rejection('ip-src', '[2001:db8::1]'), /without brackets/);
  });

  it('accept CIDR networks, stored with the host bits cleared, and a whole-address prefix as the address', () => {
    assert.equal(stored('ip-src', '192.0.2.0/24'), '192.0.2.0/24');
    assert.equal(stored('ip-src', '192.0.2.77/24'), '192.0.2.0/24');
    assert.equal(stored('ip-src', '10.255.255.255/0'), '0.0.0.0/0');
    assert.equal(stored('ip-src', '255.255.255.255/31'), '255.255.255.254/31');
    assert.equal(stored('ip-src', '192.0.2.1/32'), '192.0.2.1');
    assert.equal(stored('ip-dst', '2001:DB8::1/32'), '2001:db8::/32');
    assert.equal(stored('ip-dst', '2001:db8:ffff:ffff::/33'), '2001:db8:8000::/33');
    assert.equal(stored('ip-dst', '2001:db8::1/128'), '2001:db8::1');
    assert.match(rejection('ip-src', '192.0.2.0/33'), /at most 32/);
    assert.match(rejection('ip-src', '2001:db8::/129'), /at most 128/);
    assert.match(rejection('ip-src', '192.0.2.0/024'), /prefix length/);
    assert.match(rejection('ip-src', '192.0.2.0/'), /prefix length/);
  });

  it('store any IPv4 address written as a dotted quad unchanged', () => {
    fc.assert(
      fc.property(fc.ipV4(), (address) => stored('ip-src', address) === address),
      { numRuns: 300 },
    );
  });

  it('store IPv6 as WHATWG URL and ipaddr.js print it (apart from the mixed form)', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const value = stored('ip-dst', address);
        const expected = new URL(`http://[${address}]/`).hostname.slice(1, -1);
        if (value.startsWith('::ffff:') && value.includes('.')) {
          const whatwg = new URL(`http://[${value}]/`).hostname.slice(1, -1);
          return whatwg === expected;
        }
        // ipaddr.js 2.5 reads any "::a.b.c.d" as IPv4-mapped, so it is no oracle for those.
        return (
          value === expected &&
          (address.includes('.') || value === ipaddr.IPv6.parse(address).toRFC5952String())
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe('ip-src|port and ip-dst|port', () => {
  it('store address|port with both parts normalised', () => {
    assert.equal(stored('ip-src|port', '192.0.2.1|443'), '192.0.2.1|443');
    assert.equal(stored('ip-dst|port', '192.0.2.1 | 0443'), '192.0.2.1|443');
    assert.equal(stored('ip-dst|port', '192.0.2.1:8080'), '192.0.2.1|8080');
    assert.equal(stored('ip-dst|port', '2001:DB8::1|0'), '2001:db8::1|0');
    assert.equal(stored('ip-dst|port', '[2001:db8::1]:65535'), '2001:db8::1|65535');
    assert.equal(stored('ip-dst|port', '192[.]0[.]2[.]1|53'), '192.0.2.1|53');
  });

  it('reject a bad port or address, or a missing port', () => {
    assert.match(
      rejection('ip-src|port', '192.0.2.1|65536'),
      /port 65536 is not a whole number from 0 to 65535/,
    );
    assert.match(rejection('ip-src|port', '192.0.2.1|http'), /port http/);
    assert.match(rejection('ip-src|port', '192.0.2.256|80'), /192\.0\.2\.256 is not an IPv4 or IPv6 address/);
    assert.match(rejection('ip-src|port', '192.0.2.1'), /is not address\|port/);
    assert.match(rejection('ip-src|port', '192.0.2.0/24|80'), /is not an IPv4 or IPv6 address/);
  });
});

describe('domain and hostname', () => {
  it('store lower case without one trailing dot', () => {
    assert.equal(stored('domain', 'Evil.EXAMPLE.'), 'evil.example');
    assert.equal(stored('hostname', 'WWW.Evil.Example'), 'www.evil.example');
    assert.equal(stored('domain', 'evil[.]example'), 'evil.example');
    assert.equal(stored('domain', 'evil(dot)example{.}com'), 'evil.example.com');
    assert.equal(stored('domain', '_dmarc.evil-1.example'), '_dmarc.evil-1.example');
    assert.match(rejection('domain', 'evil.example..'), /empty label/);
  });

  it('store internationalised names as punycode', () => {
    assert.equal(stored('domain', 'Bücher.example'), 'xn--bcher-kva.example');
    assert.equal(stored('domain', 'xn--bcher-kva.example'), 'xn--bcher-kva.example');
    assert.equal(stored('hostname', '例え.テスト'), 'xn--r8jz45g.xn--zckzah');
    assert.equal(stored('domain', 'evil。example'), 'evil.example');
    assert.match(rejection('domain', 'xn--zz.example'), /not a valid internationalised domain name/);
  });

  it('check labels: 1 to 63 of [a-z0-9_-], not starting or ending with a hyphen, 253 in all', () => {
    assert.equal(stored('domain', `${'a'.repeat(63)}.example`), `${'a'.repeat(63)}.example`);
    assert.match(rejection('domain', `${'a'.repeat(64)}.example`), /label longer than 63/);
    assert.match(rejection('domain', '-evil.example'), /starts or ends with a hyphen/);
    assert.match(rejection('domain', 'evil-.example'), /starts or ends with a hyphen/);
    assert.match(rejection('domain', '.evil.example'), /empty label/);
    assert.match(rejection('domain', 'evil..example'), /empty label/);
    assert.match(rejection('domain', '*.evil.example'), /contains '\*', which a domain name cannot/);
    assert.match(rejection('domain', 'evil example.com'), /contains a space/);
    assert.match(rejection('domain', 'evil%2eexample'), /contains '%'/);
    const long = `${'a'.repeat(60)}.`.repeat(4) + 'b'.repeat(10);
    assert.match(rejection('domain', long), /longer than 253/);
  });

  it('want a dot in a domain, not in a hostname', () => {
    assert.match(rejection('domain', 'localhost'), /has no dot; .*use type hostname/);
    assert.equal(stored('hostname', 'WS-0142'), 'ws-0142');
  });

  it('send URLs, email addresses, ports and IP addresses to their own types', () => {
    assert.match(rejection('domain', 'https://evil.example'), /looks like a URL; use type url/);
    assert.match(rejection('domain', 'evil.example/path'), /use type url/);
    assert.match(rejection('domain', 'user@evil.example'), /use type email/);
    assert.match(rejection('hostname', 'evil.example:8080'), /use type hostname\|port/);
    assert.match(rejection('domain', '192.0.2.1'), /looks like an IP address; use type ip-src or ip-dst/);
    assert.match(rejection('hostname', '0x7f.1'), /looks like an IP address/);
    assert.match(rejection('hostname', '2001:db8::1'), /looks like an IPv6 address/);
  });

  it('store domain|ip and hostname|port with both parts normalised', () => {
    assert.equal(stored('domain|ip', 'Evil[.]Example|192.0.2.1'), 'evil.example|192.0.2.1');
    assert.equal(stored('domain|ip', 'evil.example | 2001:DB8::1'), 'evil.example|2001:db8::1');
    assert.match(rejection('domain|ip', 'evil.example'), /is not domain\|ip/);
    assert.match(rejection('domain|ip', 'evil.example|999.0.0.1'), /not an IPv4 or IPv6/);
    assert.match(rejection('domain|ip', 'localhost|192.0.2.1'), /has no dot/);
    assert.equal(stored('hostname|port', 'Mail.Evil.Example|025'), 'mail.evil.example|25');
    assert.equal(stored('hostname|port', 'mail.evil.example:587'), 'mail.evil.example|587');
  });

  it('check onion addresses', () => {
    const onion = 'duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion';
    assert.equal(stored('onion-address', onion.toUpperCase()), onion);
    assert.match(rejection('onion-address', 'evil.onion'), /not an onion address/);
  });
});

describe('url, uri and link', () => {
  it('refang and normalise with the WHATWG parser', () => {
    assert.equal(stored('url', 'hxxps://evil(dot)example[.]com/a'), 'https://evil.example.com/a');
    assert.equal(
      stored('url', 'HTTPS://Evil.Example:443/A/./b/../C?Q=1&a=2'),
      'https://evil.example/A/C?Q=1&a=2',
    );
    assert.equal(stored('url', 'http://evil.example:8080/x'), 'http://evil.example:8080/x');
    assert.equal(stored('url', 'http://Bücher.example/ä b'), 'http://xn--bcher-kva.example/%C3%A4%20b');
    assert.equal(stored('link', 'https://reports.example/report.pdf'), 'https://reports.example/report.pdf');
  });

  it('drop the fragment and a lone "/" path, and keep the query as it is', () => {
    assert.equal(stored('url', 'https://evil.example/#top'), 'https://evil.example');
    assert.equal(stored('url', 'https://evil.example/'), 'https://evil.example');
    assert.equal(stored('url', 'https://evil.example/?b=2&a=1#x'), 'https://evil.example/?b=2&a=1');
    assert.equal(stored('url', 'https://evil.example/dir/'), 'https://evil.example/dir/');
    assert.equal(stored('url', 'https://evil.example?'), 'https://evil.example/?');
  });

  it('assume http:// when there is no scheme', () => {
    assert.equal(stored('url', 'evil.example/login.php'), 'http://evil.example/login.php');
    assert.equal(stored('url', 'evil.example:8080/x'), 'http://evil.example:8080/x');
    assert.equal(stored('url', '//evil.example/x'), 'http://evil.example/x');
    assert.equal(stored('url', 'user:secret@evil.example'), 'http://user:secret@evil.example');
    assert.equal(stored('url', 'mailto:Someone@evil.example'), 'mailto:Someone@evil.example');
  });

  it('reject what WHATWG cannot parse, paths without a host, and tabs', () => {
    assert.match(rejection('url', 'http://evil example/'), /is not a valid URL/);
    assert.match(rejection('url', 'http://evil.example:99999/'), /is not a valid URL/);
    assert.match(rejection('url', '/wp-login.php'), /has no host; use type uri/);
    assert.match(rejection('url', 'http://evil.example/a\tb'), /contains a tab/);
  });

  it('store a uri without a scheme as the path it is', () => {
    assert.equal(stored('uri', '/wp-login.php?action=x'), '/wp-login.php?action=x');
    assert.equal(stored('uri', 'HTTP://Evil.Example/x'), 'http://evil.example/x');
  });

  it('refang what normalising uncovers, so the stored value is stable', () => {
    assert.equal(stored('url', 'http://evil%28dot%29example/'), 'http://evil.example');
  });

  it('are idempotent for any web URL', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (raw) => {
        const value = stored('url', raw);
        return stored('url', value) === value && !value.includes('#');
      }),
      { numRuns: 300 },
    );
  });
});

describe('email addresses', () => {
  it('store local@domain in lower case, the domain as a domain', () => {
    assert.equal(stored('email', 'user[@]mail[.]example'), 'user@mail.example');
    assert.equal(stored('email-src', 'First.Last+tag@Evil.Example.'), 'first.last+tag@evil.example');
    assert.equal(stored('email-dst', 'x(at)bücher.example'), 'x@xn--bcher-kva.example');
    assert.equal(stored('target-email', 'ceo@victim.example'), 'ceo@victim.example');
    assert.equal(stored('whois-registrant-email', 'Reg@Registrar.Example'), 'reg@registrar.example');
  });

  it('reject values that are not an address', () => {
    assert.match(rejection('email', 'user.example'), /no @/);
    assert.match(rejection('email', '@evil.example'), /the part before @/);
    assert.match(rejection('email', 'Evil <user@evil.example>'), /the part before @/);
    assert.match(rejection('email', `${'a'.repeat(65)}@evil.example`), /1 to 64 characters/);
    assert.match(rejection('email', 'user@localhost'), /^email: in user@localhost, localhost has no dot/);
    assert.match(rejection('email', 'user@evil..example'), /empty label/);
  });

  it('accept generated addresses and store them stably', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (raw) => {
        const value = stored('email', raw);
        // fast-check local parts may hold "{.}", which refangs like any other.
        return value === refang(raw).toLowerCase() && stored('email', value) === value;
      }),
      { numRuns: 300 },
    );
  });
});

describe('digests', () => {
  const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
  const sha1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
  const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

  it('store hexadecimal digests in lower case at their exact length', () => {
    assert.equal(stored('md5', md5.toUpperCase()), md5);
    assert.equal(stored('sha1', sha1), sha1);
    assert.equal(stored('sha256', ` ${sha256.toUpperCase()} `), sha256);
    assert.equal(stored('sha512', 'a'.repeat(128)), 'a'.repeat(128));
    assert.equal(stored('sha512/256', 'B'.repeat(64)), 'b'.repeat(64));
    assert.equal(stored('sha3-384', 'c'.repeat(96)), 'c'.repeat(96));
    assert.equal(stored('imphash', md5), md5);
    assert.equal(stored('authentihash', sha256), sha256);
    assert.equal(stored('telfhash', 'd'.repeat(72)), 'd'.repeat(72));
    assert.equal(stored('x509-fingerprint-sha1', sha1.toUpperCase().replace(/(..)(?!$)/g, '$1:')), sha1);
  });

  it('reject a wrong length or a non-hex character, saying what is expected', () => {
    assert.equal(rejection('md5', md5.slice(1)), `md5: ${md5.slice(1)} is not 32 hexadecimal characters`);
    assert.match(rejection('sha256', sha1), /is not 64 hexadecimal characters/);
    assert.match(rejection('sha1', `${sha1.slice(1)}g`), /is not 40 hexadecimal characters/);
    assert.match(rejection('telfhash', 'd'.repeat(71)), /70 or 72 hexadecimal/);
  });

  it('check TLSH and ssdeep lightly, keeping the case of ssdeep', () => {
    assert.equal(stored('tlsh', `T1${'A'.repeat(70)}`), `t1${'a'.repeat(70)}`);
    assert.match(rejection('tlsh', 'abc'), /not a TLSH digest/);
    const ssdeep = '96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrUoG4Hh';
    assert.equal(stored('ssdeep', ssdeep), ssdeep);
    assert.match(rejection('ssdeep', 'not-a-fuzzy-hash'), /blocksize:hash:hash/);
  });

  it('store filename|digest with the digest checked and the filename kept as given', () => {
    assert.equal(stored('filename|md5', `Invoice.PDF.exe|${md5.toUpperCase()}`), `Invoice.PDF.exe|${md5}`);
    assert.equal(stored('filename|sha256', `C:\\Temp\\a b.dll | ${sha256}`), `C:\\Temp\\a b.dll|${sha256}`);
    assert.equal(stored('filename|sha1', `odd|name.exe|${sha1}`), `odd|name.exe|${sha1}`);
    assert.equal(stored('filename|vhash', 'a.exe|015076651d1bz4hz1lz'), 'a.exe|015076651d1bz4hz1lz');
    assert.match(rejection('filename|md5', `a.exe|${sha1}`), /is not 32 hexadecimal characters/);
    assert.match(rejection('filename|md5', md5), /is not filename\|hash/);
    assert.match(rejection('filename|md5', `|${md5}`), /filename before \| is empty/);
    assert.match(rejection('filename|ssdeep', 'a.exe|nope'), /blocksize:hash:hash/);
  });
});

describe('other identifiers', () => {
  it('store vulnerability as an upper-case CVE id', () => {
    assert.equal(stored('vulnerability', 'cve-2024-3094'), 'CVE-2024-3094');
    assert.equal(stored('vulnerability', 'CVE–2021–44228'), 'CVE-2021-44228');
    assert.equal(stored('vulnerability', 'CVE-2024-123456'), 'CVE-2024-123456');
    assert.equal(
      rejection('vulnerability', 'CVE-24-1'),
      'vulnerability: CVE-24-1 is not a CVE id such as CVE-2024-3094',
    );
  });

  it('store weakness as CWE-N', () => {
    assert.equal(stored('weakness', 'cwe-079'), 'CWE-79');
    assert.match(rejection('weakness', 'CWE-XSS'), /not a CWE id/);
  });

  it('store AS numbers as ASn, from plain, AS-prefixed or asdot forms', () => {
    assert.equal(stored('AS', '64496'), 'AS64496');
    assert.equal(stored('AS', 'as64496'), 'AS64496');
    assert.equal(stored('AS', 'AS 64496'), 'AS64496');
    assert.equal(stored('AS', 'AS0'), 'AS0');
    assert.equal(stored('AS', '4294967295'), 'AS4294967295');
    assert.equal(stored('AS', '1.10'), 'AS65546');
    assert.match(rejection('AS', '4294967296'), /not an AS number/);
    assert.match(rejection('AS', 'AS-1'), /not an AS number/);
    assert.match(rejection('AS', '1.65536'), /not an AS number/);
  });

  it('store MAC addresses in lower-case colon form', () => {
    assert.equal(stored('mac-address', '00-00-5E-00-53-01'), '00:00:5e:00:53:01');
    assert.equal(stored('mac-address', '0000.5e00.5301'), '00:00:5e:00:53:01');
    assert.equal(stored('mac-address', '00005E005301'), '00:00:5e:00:53:01');
    assert.equal(stored('mac-eui-64', '02-00-5E-10-00-00-00-01'), '02:00:5e:10:00:00:00:01');
    assert.match(rejection('mac-address', '00:00:5e:00:53'), /not a MAC address/);
    assert.match(rejection('mac-address', '00:00-5e:00:53:01'), /not a MAC address/);
  });

  it('store ports as whole numbers from 0 to 65535', () => {
    assert.equal(stored('port', '0'), '0');
    assert.equal(stored('port', '08080'), '8080');
    assert.equal(rejection('port', '65536'), 'port: 65536 is not a whole number from 0 to 65535');
    assert.match(rejection('port', '-1'), /not a whole number/);
  });
});

// Values close to what analysts paste, and noise, for the properties that hold for every type.
const DEFANGINGS: [RegExp, string][] = [
  [/\./g, '[.]'],
  [/\./g, '(dot)'],
  [/@/g, '[at]'],
  [/^http/, 'hxxp'],
  [/:\/\//, '[://]'],
];
const pasted = fc.oneof(
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6(),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 40 })).map(([ip, prefix]) => `${ip}/${prefix}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 130 })).map(([ip, prefix]) => `${ip}/${prefix}`),
  fc
    .tuple(fc.oneof(fc.ipV4(), fc.domain()), fc.integer({ min: 0, max: 70000 }))
    .map(([a, port]) => `${a}|${port}`),
  fc.domain(),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.emailAddress(),
  fc.stringMatching(/^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/),
  fc.tuple(fc.string(), fc.stringMatching(/^[0-9a-fA-F]{32}$/)).map(([name, md5]) => `${name}|${md5}`),
  fc.stringMatching(/^(?:AS|as|As)?[0-9]{1,11}$/),
  fc.stringMatching(/^(?:cve|CWE)[-–][0-9]{1,6}(?:-[0-9]{4,6})?$/),
  fc.stringMatching(/^[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5}$/),
  fc.string({ unit: fc.constantFrom(...'aZ09.:/-_@|[]()%#? \t\nx'.split('')), maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const pastedMaybeDefanged = fc
  .tuple(pasted, fc.subarray(DEFANGINGS), fc.constantFrom('', ' ', '\t'))
  .map(
    ([value, defangings, pad]) =>
      pad + defangings.reduce((v, [from, to]) => v.replace(from, to), value) + pad,
  );

describe('every accepted value', () => {
  it('is stored the same when normalised again, under every type', () => {
    fc.assert(
      fc.property(pastedMaybeDefanged, (raw) => {
        for (const type of OBSERVABLE_TYPES) {
          const first = normaliseObservable(type, raw);
          if (!first.ok) continue;
          const again = normaliseObservable(type, first.observable.value);
          assert.ok(
            again.ok,
            `${type}: ${JSON.stringify(first.observable.value)} rejected: ${again.ok || again.message}`,
          );
          assert.equal(again.observable.value, first.observable.value, `${type}: ${JSON.stringify(raw)}`);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('is among the lookup candidates of the raw value and of itself', () => {
    fc.assert(
      fc.property(pastedMaybeDefanged, (raw) => {
        const candidates = lookupCandidates(raw);
        const storedValues = new Set<string>();
        for (const type of OBSERVABLE_TYPES) {
          const result = normaliseObservable(type, raw);
          if (!result.ok) continue;
          storedValues.add(result.observable.value);
          assert.ok(
            candidates.includes(result.observable.value),
            `${type}: ${JSON.stringify(raw)} is stored as ${JSON.stringify(result.observable.value)}, not in ${JSON.stringify(candidates)}`,
          );
        }
        for (const value of storedValues) assert.ok(lookupCandidates(value).includes(value), value);
      }),
      { numRuns: 300 },
    );
  });
});

describe('lookupCandidates', () => {
  it('gives the value as typed, then the other forms it could be stored in', () => {
    assert.deepEqual(lookupCandidates('  Evil[.]Example '), [
      'Evil[.]Example',
      'Evil.Example',
      'evil.example',
      'http://evil.example',
    ]);
    assert.deepEqual(lookupCandidates('192.0.2.1'), ['192.0.2.1', 'http://192.0.2.1']);
    assert.deepEqual(lookupCandidates('2001:DB8::1'), ['2001:DB8::1', '2001:db8::1']);
    assert.deepEqual(lookupCandidates('hxxps://evil[.]example/'), [
      'hxxps://evil[.]example/',
      'https://evil.example/',
      'https://evil.example',
    ]);
    assert.ok(lookupCandidates('cve-2024-3094').includes('CVE-2024-3094'));
    assert.ok(lookupCandidates('64496').includes('AS64496'));
    assert.ok(lookupCandidates('User@Example.COM').includes('user@example.com'));
  });

  it('is empty for an empty or oversized value', () => {
    assert.deepEqual(lookupCandidates('   '), []);
    assert.deepEqual(lookupCandidates('a'.repeat(MAX_VALUE_BYTES + 1)), []);
  });

  it('stays short', () => {
    for (const raw of [
      'Evil.Example',
      'D41D8CD98F00B204E9800998ECF8427E',
      'user@evil.example',
      '80',
      'a.exe|x',
    ])
      assert.ok(lookupCandidates(raw).length <= 5, `${raw}: ${lookupCandidates(raw)}`);
  });
});
