import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { API_KEY, startHarness, type Harness } from '../helpers/test-app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** A name that is not loopback, as a LAN or Docker host name would be; the browser maps it to 127.0.0.1. */
const LAN_NAME = 'pmp.test';

/**
 * Swagger UI renders a long operation list virtually (from 100 operations on; we have more): only the operations
 * near the viewport exist in the page. So this reads the page as a person does, scrolling down and collecting the
 * operation paths that appear, until `until` is on the page or the page ends.
 */
async function scrollThrough(page: Page, until?: Locator): Promise<string[]> {
  await page.waitForSelector('.opblock', { timeout: 20_000 });
  const seen = new Set<string>();
  for (let step = 0; step < 500; step++) {
    for (const path of await page.locator('.opblock-summary-path').allInnerTexts()) seen.add(path);
    if (until && (await until.count()) > 0) break;
    const atEnd = await page.evaluate(() => {
      // runs in the page (this project compiles without the DOM library)
      const win = globalThis as unknown as {
        scrollY: number;
        innerHeight: number;
        scrollBy(x: number, y: number): void;
      };
      const before = win.scrollY;
      win.scrollBy(0, Math.round(win.innerHeight * 0.8));
      return win.scrollY === before;
    });
    if (atEnd) break;
    await page.waitForTimeout(25);
  }
  return [...seen];
}

/** A person opening /docs in a real (headless) browser: the login prompt, then the rendered operations. */
describe('Swagger UI in headless Chromium', () => {
  let h: Harness;
  let browser: Browser;

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `Chromium is required at ${CHROMIUM} (.ci/run installs Debian's chromium)`,
    );
    h = await startHarness();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        `--host-resolver-rules=MAP ${LAN_NAME} 127.0.0.1`,
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  /**
   * /docs in a fresh browser context, logged in with `password` (the key) as the Basic password, under the
   * server's loopback URL or another origin; script errors and failed requests collected.
   */
  const openDocs = async (origin = h.url, password = API_KEY) => {
    const context = await browser.newContext({
      httpCredentials: { username: 'operator', password },
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => errors.push(`${r.url()}: ${r.failure()?.errorText ?? 'failed'}`));
    await page.goto(`${origin}/docs`);
    return { context, page, errors };
  };

  test('with the API key as the Basic password, /docs renders every tool operation', async () => {
    const { context, page, errors } = await openDocs();
    const operations = await scrollThrough(page);
    assert.ok(
      operations.some((p) => p.includes('/vms')),
      `GET /vms shown (saw ${operations.length} operations)`,
    );
    assert.ok(
      operations.some((p) => p.includes('/get_vms')),
      'the POST /{tool_name} routes are documented',
    );
    assert.match(await page.title(), /Proxmox MCP Plus/);
    await page.screenshot({ path: '.tmp/swagger-ui.png' });
    assert.deepEqual(errors, [], 'no script errors (helmet CSP must allow the UI)');
    await context.close();
  });

  test(`under a non-loopback name (http://${LAN_NAME}), /docs renders: no asset is upgraded to https`, async () => {
    const origin = `http://${LAN_NAME}:${new URL(h.url).port}`;
    const { context, page, errors } = await openDocs(origin);
    const operations = await scrollThrough(page);
    assert.ok(
      operations.some((p) => p.includes('/vms')),
      `GET /vms shown (saw ${operations.length} operations)`,
    );
    assert.deepEqual(errors, [], 'every asset loads over plain http (no CSP upgrade-insecure-requests)');
    await context.close();
  });

  test('"Try it out" on GET /nodes works at once after the Basic login: the key is sent as Bearer', async () => {
    // under a LAN name, as a person on another machine would open it
    const { context, page, errors } = await openDocs(`http://${LAN_NAME}:${new URL(h.url).port}`);
    // Swagger UI names each block operations-<tag>-<operationId>; the operationId is the tool name
    const operation = page.locator('#operations-cluster-get_nodes');
    await scrollThrough(page, operation);
    await operation.waitFor({ timeout: 20_000 });
    // the page authorizes itself with the key it was opened with: the lock of the Authorize button is closed
    await page.locator('.auth-wrapper button.authorize.locked').waitFor({ timeout: 10_000 });
    await operation.locator('.opblock-summary').click();
    await operation.locator('.try-out__btn').click();
    const responseCode = operation.locator('.live-responses-table .response .response-col_status');

    const sent = page.waitForRequest((r) => new URL(r.url()).pathname === '/nodes');
    await operation.locator('button.execute').click();
    assert.equal((await sent).headers()['authorization'], `Bearer ${API_KEY}`);
    await responseCode.filter({ hasText: '200' }).waitFor({ timeout: 10_000 });
    const body = JSON.parse(
      await operation
        .locator('.live-responses-table .response-col_description pre.microlight')
        .first()
        .innerText(),
    ) as { nodes: { node: string; status: string }[] };
    const expected = h.sim.cluster
      .nodes()
      .map((n) => n.name)
      .sort();
    assert.deepEqual(
      body.nodes.map((n) => n.node).sort(),
      expected,
      'the simulated nodes, as the page shows them',
    );
    assert.ok(
      body.nodes.every((n) => n.status === 'online'),
      'all nodes of the default simulator are online',
    );
    await operation.screenshot({ path: '.tmp/swagger-ui-try-it-out.png' });

    // Logged out in the Authorize dialog, the call goes without a key and is refused (401)...
    await page.locator('.auth-wrapper button.authorize').click();
    const dialog = page.locator('.modal-ux');
    await dialog.locator('.auth-btn-wrapper button', { hasText: 'Logout' }).click();
    const refused = page.waitForRequest((r) => new URL(r.url()).pathname === '/nodes');
    await dialog.locator('.auth-btn-wrapper button.btn-done').click();
    await scrollThrough(page, operation); // the Authorize button sits at the top: back down to the operation
    await operation.locator('button.execute').click();
    assert.equal((await refused).headers()['authorization'], undefined, 'no key after logging out');
    await responseCode.filter({ hasText: '401' }).waitFor({ timeout: 10_000 });

    // ...and the key typed into the dialog (the "bearer" scheme: http, bearer) is sent again.
    await page.locator('.auth-wrapper button.authorize').click();
    await dialog.locator('input').fill(API_KEY);
    await dialog.locator('.auth-btn-wrapper button.authorize').click();
    await dialog.locator('.auth-btn-wrapper button.btn-done').click();
    await scrollThrough(page, operation);
    const again = page.waitForRequest((r) => new URL(r.url()).pathname === '/nodes');
    await operation.locator('button.execute').click();
    assert.equal((await again).headers()['authorization'], `Bearer ${API_KEY}`);
    await responseCode.filter({ hasText: '200' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('without credentials the browser is refused (401 Basic challenge), not shown the page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Headless Chromium answers the 401 Basic challenge it cannot satisfy with a navigation error.
    await assert.rejects(() => page.goto(`${h.url}/docs`), /ERR_INVALID_AUTH_CREDENTIALS|401/);
    assert.equal(await page.locator('.opblock').count(), 0);
    await context.close();
  });
});
