import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { getDataSourceToken } from '@nestjs/typeorm';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { ApprovalStore } from '../../src/security/approvals/approval.store.js';
import { AuditService } from '../../src/audit/audit.service.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import {
  API_KEY,
  OPERATOR_KEY,
  startHarness,
  testConfig,
  withOperator,
  type Harness,
} from '../helpers/test-app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The screenshot in docs/security.md; rewritten only on request, so a test run leaves the work tree clean. */
const SCREENSHOT = process.env.PMP_UPDATE_SCREENSHOTS
  ? 'docs/images/approvals-page.png'
  : '.tmp/approvals-page.png';
const READ_KEY = 'reader-key-0123456789abcdef';

/**
 * An operator at /approvals in a real (headless) browser: sign in with an admin key, see what agents asked for,
 * approve (the agent's retry with the token then runs) or deny; expired requests are shown but not approvable.
 */
describe('approvals page in headless Chromium', () => {
  let h: Harness;
  let browser: Browser;

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `Chromium is required at ${CHROMIUM} (.ci/run installs Debian's chromium)`,
    );
    h = await startHarness({ nodes: 1, guests: 2 }, (sim) => {
      const config = withOperator(testConfig([simulatorTargetConfig(sim)]), { highRiskMode: 'enforce' });
      config.http.apiKeys.push({ name: 'reader', secret: READ_KEY, scope: 'read' });
      return config;
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  /** What the agent (API_KEY) gets when it deletes a pool without approval: the request id. */
  const agentAsks = async (pool: string): Promise<string> => {
    const refused = await request(h.url).delete(`/pools/${pool}`).set(h.auth).expect(403);
    assert.equal(refused.body.details.policy_code, 'OP_POLICY_APPROVAL_REQUIRED');
    return refused.body.details.request_id as string;
  };

  /** Whether an audit event of `action` matching `match` was written (audit writes are asynchronous). */
  const audited = async (
    action: string,
    match: (e: { actor: string; details?: unknown; reason?: string | null }) => boolean,
  ) => {
    for (let i = 0; i < 50; i++) {
      const { events } = await h.server.app.get(AuditService).list({ action, limit: 100 });
      if (events.some((e) => match(e as never))) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  };

  const dataSource = () => h.server.app.get<DataSource>(getDataSourceToken());

  /** A fresh browser whose script errors and console errors (CSP violations among them) are collected. */
  const openPage = async (): Promise<{ context: BrowserContext; page: Page; errors: string[] }> => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    return { context, page, errors };
  };

  const signIn = async (page: Page, key: string) => {
    await page.goto(`${h.url}/approvals`);
    await page.locator('#key').fill(key);
    const answer = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.locator('#sign-in').click();
    return answer;
  };

  const card = (page: Page, id: string) => page.locator(`section[data-request-id="${id}"]`);

  test('without a session the page is the sign-in form, under a strict CSP and never cached', async () => {
    const { context, page, errors } = await openPage();
    const response = (await page.goto(`${h.url}/approvals`))!;
    assert.equal(response.status(), 200);
    const headers = response.headers();
    const csp = headers['content-security-policy'];
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /form-action 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|script-src/, 'no script may run at all');
    assert.equal(headers['cache-control'], 'no-store');
    assert.equal(await page.locator('#key').count(), 1);
    assert.equal(
      await page.locator('section[data-request-id]').count(),
      0,
      'no request shown before sign-in',
    );
    assert.equal(await page.locator('script').count(), 0);
    assert.deepEqual(errors, [], 'the hashed style is allowed; nothing else is loaded');
    await context.close();
  });

  test('a wrong key is refused (401, no cookie); a valid key that is not admin cannot sign in', async () => {
    const { context, page } = await openPage();
    const refused = await signIn(page, 'not-a-key-0123456789abcdef');
    assert.equal(refused.status(), 401);
    await page.locator('.error', { hasText: 'That key is not valid.' }).waitFor();
    assert.deepEqual(await context.cookies(), []);
    await context.close();

    // the audit log records the failed sign-in like any failed API-key attempt
    assert.ok(
      await audited('auth.failed', (e) => JSON.stringify(e.details).includes('/approvals/sign-in')),
      'auth.failed audited with the sign-in path',
    );

    // a valid key of another scope: refused with the reason, still no cookie
    const reader = await openPage();
    const readOnly = await signIn(reader.page, READ_KEY);
    assert.equal(readOnly.status(), 403);
    await reader.page.locator('.error', { hasText: "The key 'reader' is not an admin key" }).waitFor();
    assert.deepEqual(await reader.context.cookies(), []);
    await reader.context.close();
  });

  test('sign in, list, approve: the token is shown once and the agent’s retry with it succeeds', async () => {
    const labId = await agentAsks('lab');
    const prodId = await agentAsks('prod');
    // an expired request: asked two lifetimes ago
    const ttl = 3600_000;
    const old = await new ApprovalStore(dataSource(), ttl, () => Date.now() - 2 * ttl).request({
      tool: 'delete_snapshot',
      target: 'default',
      digest: 'e'.repeat(64),
      args: { node: 'pve1', vmid: '100', snapname: 'before-upgrade' },
      requestedBy: 'test',
      reason: 'delete_snapshot is high-risk (destroy)',
    });

    const { context, page, errors } = await openPage();
    const signedIn = await signIn(page, OPERATOR_KEY);
    assert.equal(signedIn.status(), 303, 'post/redirect/get');
    await page.locator('header', { hasText: 'Signed in as operator' }).waitFor();

    const [cookie] = await context.cookies();
    assert.equal(cookie.name, 'pmp_approvals');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/approvals');
    assert.ok(!cookie.value.includes(OPERATOR_KEY), 'the key itself is never in the cookie');

    // the list: tool, target, arguments, risk, who asked and when, expiry
    const lab = card(page, labId);
    assert.match(await lab.locator('h2').innerText(), /^delete_pool\s+on\s+default\s+destroy$/);
    assert.match(await lab.locator('.arguments').innerText(), /poolid = lab/);
    assert.match(
      await lab.locator('.requested-by').innerText(),
      /^test at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
    );
    assert.match(await lab.locator('.expires').innerText(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    await card(page, prodId).waitFor();

    // the expired one is marked and has no buttons
    const expired = card(page, old.id);
    assert.match(await expired.locator('h2').innerText(), /expired/);
    assert.match(await expired.locator('.expires').innerText(), /\(expired\)/);
    assert.equal(await expired.locator('button').count(), 0, 'an expired request cannot be approved');

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // approve: the one answer that shows the token
    await lab.locator('button.approve').click();
    const token = (await page.locator('#approval-token').innerText()).trim();
    assert.match(token, /^pmpa_/);
    // reloading re-posts the form: already approved, and no second token
    const again = (await page.reload())!;
    assert.equal(again.status(), 409);
    await page.locator('.error', { hasText: 'was already approved' }).waitFor();
    assert.equal(await page.locator('#approval-token').count(), 0);

    await request(h.url)
      .delete('/pools/lab')
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(200);
    assert.ok(!h.sim.cluster.pools.has('lab'), 'the approved call ran');
    const view = await request(h.url).get(`/approvals/${labId}`).set(h.auth).expect(200);
    assert.equal(view.body.approved_by, 'operator', 'audited with the approver’s name');
    assert.equal(view.body.status, 'used');

    // a crafted post for the expired request is refused too
    await page.goto(`${h.url}/approvals`);
    const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
    const crafted = await page.request.post(`${h.url}/approvals/${old.id}/approve`, {
      form: { csrf: csrf! },
      headers: { origin: h.url },
    });
    assert.equal(crafted.status(), 409);
    assert.match(await crafted.text(), /expired before it was approved/);

    // the browser logs the reload's 409 itself; nothing else went wrong
    assert.deepEqual(
      errors.filter((e) => !/status of 409/.test(e)),
      [],
    );
    await context.close();
  });

  test('deny: the request leaves the list, cannot be approved afterwards, and the agent must ask again', async () => {
    const id = await agentAsks('prod');
    const { context, page, errors } = await openPage();
    await signIn(page, OPERATOR_KEY);
    await card(page, id).locator('button.deny').click();
    await page.locator('.notice', { hasText: `Denied request ${id}.` }).waitFor();
    assert.equal(await card(page, id).count(), 0);

    const view = await request(h.url).get(`/approvals/${id}`).set(h.auth).expect(200);
    assert.equal(view.body.status, 'denied');
    assert.equal(view.body.approved_by, 'operator');
    const late = await request(h.url)
      .post(`/approvals/${id}`)
      .set({ authorization: `Bearer ${OPERATOR_KEY}` })
      .expect(409);
    assert.match(late.body.message, /was denied by an operator/);
    assert.ok(h.sim.cluster.pools.has('prod'), 'nothing ran');
    assert.ok(await audited('approval.deny', (e) => e.actor === 'operator' && e.reason === 'DENIED'));
    assert.notEqual(await agentAsks('prod'), id, 'a repeated call is a new request');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('an approver cannot approve their own request; arguments render inert (<script> is text)', async () => {
    const own = await agentAsks('prod'); // asked with API_KEY, the key "test"
    const hostile = await new ApprovalStore(dataSource(), 600_000).request({
      tool: 'delete_vm',
      target: 'default',
      digest: 'f'.repeat(64),
      args: { node: 'pve1', vmid: '101', note: '<script>document.title="owned"</script><img src=x>' },
      requestedBy: '<b>agent</b>',
      reason: 'delete_vm is high-risk (destroy)',
    });
    const { context, page, errors } = await openPage();
    await signIn(page, API_KEY);
    const mine = card(page, own);
    assert.equal(await mine.locator('button.approve').isDisabled(), true);
    // a crafted post is refused by the same rule as POST /approvals/{id}
    const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
    const crafted = await page.request.post(`${h.url}/approvals/${own}/approve`, {
      form: { csrf: csrf! },
      headers: { origin: h.url },
    });
    assert.equal(crafted.status(), 403);
    assert.match(await crafted.text(), /a key cannot approve its own calls/);

    const evil = card(page, hostile.id);
    assert.match(
      await evil.locator('.arguments').innerText(),
      /note = <script>document.title="owned"<\/script><img src=x>/,
    );
    assert.match(await evil.locator('.requested-by').innerText(), /^<b>agent<\/b> at /);
    assert.equal(await page.locator('script, img, b').count(), 0, 'no element came from the arguments');
    assert.notEqual(await page.title(), 'owned');
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('form posts need the session, its CSRF token and the page’s own origin; sign-out ends the session', async () => {
    const { context, page } = await openPage();
    await signIn(page, OPERATOR_KEY);
    const [cookie] = await context.cookies();
    const jar = `${cookie.name}=${cookie.value}`;
    const id = await agentAsks('prod');

    // no CSRF token, a wrong one, or another site: refused, nothing decided
    await request(h.url)
      .post(`/approvals/${id}/approve`)
      .set('cookie', jar)
      .type('form')
      .send({})
      .expect(403);
    await request(h.url)
      .post(`/approvals/${id}/deny`)
      .set('cookie', jar)
      .type('form')
      .send({ csrf: 'x' })
      .expect(403);
    const csrf = (await page.locator('input[name=csrf]').first().getAttribute('value'))!;
    await request(h.url)
      .post(`/approvals/${id}/deny`)
      .set({ cookie: jar, 'sec-fetch-site': 'cross-site' })
      .type('form')
      .send({ csrf })
      .expect(403);
    await request(h.url)
      .post(`/approvals/${id}/deny`)
      .set({ cookie: jar, origin: 'http://evil.example' })
      .type('form')
      .send({ csrf })
      .expect(403);
    // a forged cookie (another name, same shape) is no session
    const forged = jar.replace(
      /^pmp_approvals=[^.]+/,
      `pmp_approvals=${Buffer.from('test').toString('base64url')}`,
    );
    await request(h.url)
      .post(`/approvals/${id}/deny`)
      .set('cookie', forged)
      .type('form')
      .send({ csrf })
      .expect(401);
    assert.equal(
      (await request(h.url).get(`/approvals/${id}`).set(h.auth).expect(200)).body.status,
      'pending',
    );

    // sign-out: the page is the sign-in form again, and the old cookie is worthless
    await page.locator('#sign-out').click();
    await page.locator('.notice', { hasText: 'Signed out.' }).waitFor();
    assert.deepEqual(await context.cookies(), []);
    const replay = await request(h.url).get('/approvals').set('cookie', jar).expect(200);
    assert.match(replay.text, /name="key"/);
    assert.doesNotMatch(replay.text, new RegExp(id));
    await context.close();
  });

  test('the page follows the Host/Origin rules of /mcp (DNS rebinding)', async () => {
    const refused = await request(h.url).get('/approvals').set('host', 'attacker.example').expect(403);
    assert.match(refused.text, /Host 'attacker.example' is not allowed/);
    await request(h.url).get('/approvals').set('host', 'localhost').expect(200);
  });

  test('the JSON routes are unchanged: GET /approvals/{id} still needs a Bearer admin key', async () => {
    const id = await agentAsks('prod');
    await request(h.url).get(`/approvals/${id}`).expect(401);
    await request(h.url).get(`/approvals/${id}`).set(h.auth).expect(200);
  });
});
