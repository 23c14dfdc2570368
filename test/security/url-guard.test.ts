import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { DomainError } from '../../src/common/errors/domain-error.js';
import { loadConfig } from '../../src/config/config.loader.js';
import { ConfigError } from '../../src/config/app-config.js';
import { blockedAddressReason } from '../../src/common/url-guard/ip-ranges.js';
import {
  checkDownloadUrl,
  hostAllowed,
  type LookupAll,
  type UrlGuardOptions,
} from '../../src/common/url-guard/url-guard.js';

/**
 * The download URL guard (security-and-faults.md table F, F3-F7). Name resolution uses node's real dns.lookup with
 * names that never leave the machine (`localhost` from /etc/hosts, numeric hosts); where a test needs a name with
 * several answers it passes a lookup function of the same shape, as an operator could configure one.
 */
const open: UrlGuardOptions = { allowedHosts: [] };
const PUBLIC = 'http://93.184.216.34/images/debian.iso';

async function refused(url: string, code: string, message?: RegExp, options: UrlGuardOptions = open) {
  await assert.rejects(checkDownloadUrl(url, options), (error: unknown) => {
    assert.ok(error instanceof DomainError, String(error));
    assert.equal(error.code, code, `${url}: ${error.code} ${error.message}`);
    if (message) assert.match(error.message, message, url);
    assert.deepEqual(error.details, { field: 'url' });
    return true;
  });
}

/** A resolver answering fixed addresses (same signature as dns.promises.lookup with all: true). */
const answering =
  (...addresses: string[]): LookupAll =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('url guard: address classification', () => {
  test('public unicast addresses pass, IPv4 and IPv6', () => {
    for (const address of [
      '93.184.216.34',
      '1.1.1.1',
      '8.8.8.8',
      '2606:4700:4700::1111',
      '2a00:1450:4001:80b::200e',
    ]) {
      assert.equal(blockedAddressReason(address), undefined, address);
    }
  });

  test('every special-purpose range is refused, with the reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['127.0.0.1', /loopback/],
      ['127.255.255.254', /loopback/],
      ['10.0.0.5', /private/],
      ['172.16.0.1', /private/],
      ['172.31.255.255', /private/],
      ['192.168.1.1', /private/],
      ['169.254.169.254', /link-local/],
      ['100.64.0.1', /carrier-grade NAT/],
      ['100.127.255.255', /carrier-grade NAT/],
      ['0.0.0.0', /unspecified/],
      ['224.0.0.1', /multicast/],
      ['239.255.255.250', /multicast/],
      ['240.0.0.1', /reserved/],
      ['255.255.255.255', /reserved/],
      ['192.0.2.10', /documentation/],
      ['198.51.100.7', /documentation/],
      ['203.0.113.9', /documentation/],
      ['198.18.0.1', /benchmarking/],
      ['192.0.0.8', /IETF/],
      ['::1', /loopback/],
      ['::', /unspecified/],
      ['fc00::1', /unique local/],
      ['fd00:ec2::254', /unique local/],
      ['fe80::1', /link-local/],
      ['ff02::1', /multicast/],
      ['2001:db8::1', /documentation/],
      ['2002:7f00:1::', /6to4/],
      ['100::1', /reserved/],
      ['::ffff:127.0.0.1', /loopback, as an IPv4 address inside IPv6/],
      ['::ffff:7f00:1', /loopback/],
      ['::ffff:169.254.169.254', /link-local/],
      ['64:ff9b::a00:5', /private/],
    ];
    for (const [address, why] of cases) assert.match(blockedAddressReason(address) ?? 'passed', why, address);
    assert.equal(
      blockedAddressReason('::ffff:93.184.216.34'),
      undefined,
      'a mapped public address is public',
    );
    assert.equal(blockedAddressReason('example.com'), 'not an IP address');
  });
});

describe('url guard: URLs', () => {
  test('a public URL passes; PVE gets the WHATWG-normalised href', async () => {
    const checked = await checkDownloadUrl('HTTPS://93.184.216.34:443/isos/../isos/debian.iso', open);
    assert.deepEqual(checked, {
      href: 'https://93.184.216.34/isos/debian.iso',
      hostname: '93.184.216.34',
      addresses: ['93.184.216.34'],
    });
    const v6 = await checkDownloadUrl('http://[2606:4700:4700::1111]/x.iso', open);
    assert.equal(v6.hostname, '2606:4700:4700::1111');
  });

  test('F3: only http and https', async () => {
    for (const url of [
      'file:///etc/passwd',
      'ftp://93.184.216.34/x.iso',
      'gopher://93.184.216.34/',
      'data:text/plain,x',
      'javascript:alert(1)',
      '//93.184.216.34/x.iso',
      'x.iso',
    ]) {
      await refused(url, 'VALIDATION', /scheme/);
    }
  });

  test('F4: loopback, private, link-local, metadata and unspecified hosts are refused', async () => {
    for (const url of [
      'http://127.0.0.1:8006/api2/json/access/users',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.5/x.iso',
      'http://[::1]/x.iso',
      'http://[fc00::1]/x.iso',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://0/x.iso',
      'http://100.64.0.1/x.iso',
      'http://[::ffff:127.0.0.1]/x.iso',
    ]) {
      await refused(url, 'POLICY_DENIED', /^url refused: /);
    }
  });

  test('F5: numeric host spellings are normalised first, then refused', async () => {
    for (const url of [
      'http://0x7f000001/',
      'http://2130706433/',
      'http://017700000001/',
      'http://127.1/',
      'http://0x7f.1/',
      'http://①②⑦.0.0.1/',
    ]) {
      await refused(url, 'POLICY_DENIED', /127\.0\.0\.1 is loopback/);
    }
  });

  test('F6: backslashes, userinfo, whitespace and control characters are refused before parsing', async () => {
    await refused('http://evil.com\\@127.0.0.1/x.iso', 'VALIDATION', /backslash/);
    await refused('http://u:p@93.184.216.34/x.iso', 'VALIDATION', /credentials/);
    await refused('http://@93.184.216.34/x.iso', 'VALIDATION', /credentials/);
    await refused('http://93.184.216.34/a b.iso', 'VALIDATION', /whitespace/);
    await refused('http://93.184.216.34/x.iso\n', 'VALIDATION', /whitespace/);
    await refused('http://93.184.216.34/x\u0000.iso', 'VALIDATION', /control/);
    await refused('http://93.184.216.34/x\u00a0.iso', 'VALIDATION', /whitespace/);
    // WHATWG reads the host as 127.0.0.1 here: refused by address
    await refused('http://127.0.0.1#@evil.com/x.iso', 'POLICY_DENIED', /loopback/);
    await refused(`http://93.184.216.34/${'a'.repeat(2100)}`, 'VALIDATION', /longer than 2048/);
    await refused('', 'VALIDATION');
  });

  test('F7: names are resolved with dns.lookup and every address must be public', async () => {
    // localhost comes from /etc/hosts: no network involved
    const local = await lookup('localhost', { all: true });
    assert.ok(local.length > 0);
    await refused(
      'http://localhost/x.iso',
      'POLICY_DENIED',
      /^url refused: localhost resolves to (127\.0\.0\.1|::1), which is loopback/,
    );
    // one private answer among public ones is enough to refuse
    await refused(
      'https://mirror.example.org/x.iso',
      'POLICY_DENIED',
      /mirror\.example\.org resolves to 10\.1\.2\.3, which is private/,
      {
        allowedHosts: [],
        lookup: answering('93.184.216.34', '10.1.2.3'),
      },
    );
    const ok = await checkDownloadUrl('https://mirror.example.org/x.iso', {
      allowedHosts: [],
      lookup: answering('93.184.216.34', '2606:4700:4700::1111'),
    });
    assert.deepEqual(ok.addresses, ['93.184.216.34', '2606:4700:4700::1111']);
    const failing: LookupAll = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' });
    };
    await refused('https://nowhere.invalid/x.iso', 'VALIDATION', /could not be resolved \(ENOTFOUND\)/, {
      allowedHosts: [],
      lookup: failing,
    });
    await refused('https://empty.example/x.iso', 'VALIDATION', /has no addresses/, {
      allowedHosts: [],
      lookup: answering(),
    });
  });

  test('F7/F8: with allowed_hosts, only those hosts; an allowed host still has to resolve to public addresses', async () => {
    const options: UrlGuardOptions = { allowedHosts: ['93.184.216.34', '*.debian.org', 'localhost'] };
    assert.equal((await checkDownloadUrl(PUBLIC, options)).href, PUBLIC);
    await refused(
      'http://1.1.1.1/x.iso',
      'POLICY_DENIED',
      /host '1\.1\.1\.1' is not in downloads\.allowed_hosts/,
      options,
    );
    await refused('http://localhost/x.iso', 'POLICY_DENIED', /loopback/, options);
    await refused(
      'https://debian.org.evil.com/x.iso',
      'POLICY_DENIED',
      /not in downloads\.allowed_hosts/,
      options,
    );
    assert.ok(hostAllowed('cdimage.debian.org', ['*.debian.org']));
    assert.ok(hostAllowed('CDIMAGE.Debian.org', ['*.debian.org']));
    assert.ok(!hostAllowed('debian.org', ['*.debian.org']), 'a wildcard means subdomains only');
    assert.ok(!hostAllowed('evildebian.org', ['*.debian.org']));
    assert.ok(hostAllowed('releases.ubuntu.com', ['releases.ubuntu.com']));
    assert.ok(!hostAllowed('x.releases.ubuntu.com', ['releases.ubuntu.com']));
  });
});

describe('config: downloads.allowed_hosts', () => {
  const env = {
    PROXMOX_HOST: 'pve.example.com',
    PROXMOX_USER: 'mcp@pve',
    PROXMOX_TOKEN_NAME: 'mcp',
    PROXMOX_TOKEN_VALUE: 'f3a9c0de-1111-2222-3333-444455556666',
  };

  test('defaults to no restriction; the environment sets a comma-separated list, lower-cased', () => {
    assert.deepEqual(loadConfig(env).downloads, { allowedHosts: [] });
    const config = loadConfig({
      ...env,
      PROXMOX_DOWNLOADS_ALLOWED_HOSTS: 'Releases.Ubuntu.com, *.debian.org,93.184.216.34',
    });
    assert.deepEqual(config.downloads?.allowedHosts, [
      'releases.ubuntu.com',
      '*.debian.org',
      '93.184.216.34',
    ]);
  });

  test('entries with a scheme, path, port or bad wildcard are configuration errors naming the key', () => {
    for (const bad of [
      'https://releases.ubuntu.com',
      'releases.ubuntu.com/isos',
      'host:8080',
      'a.*.org',
      '*',
    ]) {
      assert.throws(
        () => loadConfig({ ...env, PROXMOX_DOWNLOADS_ALLOWED_HOSTS: bad }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.problems.some((p) => p.includes('PROXMOX_DOWNLOADS_ALLOWED_HOSTS')),
        bad,
      );
    }
  });
});
