import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { argsDigest } from '../../src/audit/args-digest.js';
import { AuthFailureLimiter, addressKey } from '../../src/security/auth-failure-limiter.js';
import { requiredScope, scopeAllows } from '../../src/security/scopes.js';

describe('auth failure limiter', () => {
  test('counts per address in a fixed window; over the limit it throttles until the window ends', () => {
    let now = 1_000_000;
    const limiter = new AuthFailureLimiter(3, 60_000, 100, () => now);
    assert.deepEqual(
      [1, 2, 3, 4].map(() => limiter.fail('10.0.0.1').throttled),
      [false, false, false, true],
    );
    assert.equal(limiter.fail('10.0.0.2').throttled, false, 'other addresses are not affected');
    now += 30_000;
    assert.equal(limiter.fail('10.0.0.1').retryAfterMs, 30_000);
    now += 30_000;
    assert.deepEqual(limiter.fail('10.0.0.1'), { count: 1, throttled: false, retryAfterMs: 60_000 });
  });

  test('memory is bounded: the oldest window is evicted first', () => {
    const limiter = new AuthFailureLimiter(1, 60_000, 3);
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) limiter.fail(ip);
    assert.equal(limiter.size, 3);
    assert.equal(limiter.fail('10.0.0.1').count, 1, '10.0.0.1 was evicted and starts over');
    assert.equal(limiter.fail('10.0.0.4').count, 2);
  });

  test('IPv6 clients are counted per /64; IPv4-mapped addresses as IPv4', () => {
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey(undefined), 'unknown');
  });
});

describe('scopes', () => {
  test('read → read tools; operate → power, mutate, exec; admin → destroy and admin-only tools', () => {
    assert.equal(requiredScope('read'), 'read');
    for (const risk of ['power', 'mutate', 'exec'] as const) assert.equal(requiredScope(risk), 'operate');
    assert.equal(requiredScope('destroy'), 'admin');
    assert.equal(requiredScope('read', 'admin'), 'admin', 'a tool may ask for more');
    assert.equal(requiredScope('destroy', 'read'), 'admin', 'never for less');
    assert.ok(scopeAllows('admin', 'operate') && scopeAllows('operate', 'operate'));
    assert.ok(!scopeAllows('read', 'operate') && !scopeAllows('operate', 'admin'));
  });
});

describe('arguments digest', () => {
  test('the same call digests the same over MCP (typed) and REST (strings); target and approval token aside', () => {
    const viaMcp = argsDigest({ node: 'pve1', vmid: 100, force: true, target: 'lab' });
    const viaRest = argsDigest({ vmid: '100', node: 'pve1', force: 'true' });
    assert.equal(viaMcp, viaRest);
    assert.equal(viaMcp, argsDigest({ node: 'pve1', vmid: 100, force: true, approval_token: 'pmpa_x' }));
    assert.notEqual(viaMcp, argsDigest({ node: 'pve1', vmid: 101, force: true }));
    assert.match(viaMcp, /^[0-9a-f]{64}$/);
  });

  test('secrets are redacted before hashing, so a digest cannot be brute-forced back to a password', () => {
    assert.equal(argsDigest({ vmid: 100, cipassword: 'a' }), argsDigest({ vmid: 100, cipassword: 'b' }));
  });
});
