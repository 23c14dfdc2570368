import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { argumentsSummary, escapeHtml, renderPlan } from '../../src/security/approvals-page/page-html.js';
import {
  PageSessions,
  SESSION_TTL_MS,
  sessionCookie,
} from '../../src/security/approvals-page/page-session.js';

const KEYS = [
  { name: 'operator', secret: 'operator-key-0123456789abcdef', scope: 'admin' as const },
  { name: 'agent', secret: 'agent-key-0123456789abcdefgh', scope: 'admin' as const },
];

describe('approvals page: plan renderer', () => {
  const plan = {
    requests: [
      { method: 'DELETE', path: '/nodes/pve1/qemu/101', params: { purge: 1, note: '<script>x</script>' } },
    ],
    checks: [
      { name: 'guest exists', ok: true, detail: 'qemu 101 on pve1' },
      { name: 'guest stopped', ok: false, detail: 'it is <b>running</b>' },
    ],
    warnings: ['HA-managed: <i>removed from HA too</i>'],
    plan_digest: 'abc123',
  };

  test('a plan shows its requests, checks with their outcome, warnings and digest, all escaped', () => {
    const html = renderPlan(plan);
    assert.match(html, /<h3>Plan<\/h3>/);
    assert.match(html, /<td><code>DELETE<\/code><\/td><td><code>\/nodes\/pve1\/qemu\/101<\/code><\/td>/);
    assert.match(html, /&lt;script&gt;x&lt;\/script&gt;/);
    assert.match(html, /<li class="ok">✓ guest exists — <span class="muted">qemu 101 on pve1<\/span><\/li>/);
    assert.match(
      html,
      /<li class="fail">✗ guest stopped — <span class="muted">it is &lt;b&gt;running&lt;\/b&gt;<\/span>/,
    );
    assert.match(html, /<li>HA-managed: &lt;i&gt;removed from HA too&lt;\/i&gt;<\/li>/);
    assert.match(html, /Plan digest <code>abc123<\/code>/);
    assert.doesNotMatch(html, /<(script|b|i)>/, 'no markup from the plan itself');
  });

  test('no plan renders nothing; an unexpected shape is shown as escaped JSON, never trusted', () => {
    assert.equal(renderPlan(undefined), '');
    assert.equal(renderPlan(null), '');
    assert.match(renderPlan('<img src=x>'), /<pre>&lt;img src=x&gt;<\/pre>/);
    assert.match(
      renderPlan({ surprise: '<b>' }),
      /<pre>\{&quot;surprise&quot;:&quot;&lt;b&gt;&quot;\}<\/pre>/,
    );
    assert.match(renderPlan({ requests: ['junk'], checks: [42] }), /<code>\?<\/code>.*✗ check/s);
  });

  test('arguments: one line each, long values cut, everything escaped', () => {
    assert.equal(
      escapeHtml(`<a href="x" onclick='y'>&\``),
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;',
    );
    const html = argumentsSummary({ vmid: '101', command: 'x'.repeat(400), tag: '"><script>' });
    assert.match(html, /<code>vmid<\/code> = <code>101<\/code>/);
    assert.match(html, /x{300}… \(400 characters\)/);
    assert.match(html, /&quot;&gt;&lt;script&gt;/);
    assert.match(argumentsSummary({}), /none/);
  });
});

describe('approvals page: sessions', () => {
  test('a cookie names the key and carries a MAC, never the key; it verifies until it expires', () => {
    let now = 1_000_000;
    const sessions = new PageSessions(KEYS, () => now);
    const principal = sessions.match(KEYS[0].secret)!;
    assert.equal(principal.name, 'operator');
    assert.equal(sessions.match('operator-key-0123456789abcdeX'), undefined);
    const cookie = sessions.issue(principal);
    assert.ok(!cookie.includes(KEYS[0].secret));
    const session = sessions.verify(cookie)!;
    assert.equal(session.principal.name, 'operator');
    assert.equal(session.expiresAt, now + SESSION_TTL_MS);
    assert.ok(sessions.csrfMatches(session, session.csrf));
    assert.ok(!sessions.csrfMatches(session, undefined));
    assert.ok(!sessions.csrfMatches(session, `${session.csrf.slice(0, -1)}A`));
    now += SESSION_TTL_MS;
    assert.equal(sessions.verify(cookie), undefined, 'expired');
  });

  test('forged, renamed, truncated or signed-out cookies are no session; removing the key ends its sessions', () => {
    const sessions = new PageSessions(KEYS);
    const cookie = sessions.issue(sessions.match(KEYS[1].secret)!);
    const [, expires, nonce, mac] = cookie.split('.');
    const renamed = [Buffer.from('operator').toString('base64url'), expires, nonce, mac].join('.');
    assert.equal(sessions.verify(renamed), undefined, 'the MAC binds the name');
    assert.equal(
      sessions.verify([cookie.split('.')[0], String(Number(expires) + 1e9), nonce, mac].join('.')),
      undefined,
    );
    assert.equal(sessions.verify(cookie.slice(0, -2)), undefined);
    assert.equal(sessions.verify(undefined), undefined);
    assert.equal(new PageSessions(KEYS.slice(0, 1)).verify(cookie), undefined);
    assert.ok(new PageSessions(KEYS).verify(cookie), 'another replica with the same keys accepts it');
    sessions.signOut(sessions.verify(cookie)!);
    assert.equal(sessions.verify(cookie), undefined);
  });

  test('the cookie attributes: HttpOnly, SameSite=Strict, Path=/approvals, Secure only over https', () => {
    assert.equal(
      sessionCookie('v', false),
      'pmp_approvals=v; Path=/approvals; HttpOnly; SameSite=Strict; Max-Age=1800',
    );
    assert.match(sessionCookie('', true, 0), /Max-Age=0; Secure$/);
  });
});
