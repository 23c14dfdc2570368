import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { AuditService } from '../../src/audit/audit.service.js';
import { loadConfig } from '../../src/config/config.loader.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { API_KEY, startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import {
  Clients,
  KEYS,
  MCP_HEADERS,
  callTool,
  initializeMessage,
  rawRequest,
  scopedKeys,
  textOf,
} from './helpers.js';

const FAILURE_LIMIT = 5;

/** Table A of security-and-faults.md: bearer API keys. */
describe('authentication (table A)', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({}, (sim) =>
      testConfig([simulatorTargetConfig(sim)], {
        http: { ...testConfig([]).http, apiKeys: [...testConfig([]).http.apiKeys, ...scopedKeys()] },
      }),
    );
  });
  after(() => h.close());

  test('A1: no Authorization → 401 + WWW-Authenticate: Bearer, JSON, on REST, POST /{tool}, /mcp (POST, GET, DELETE); nothing reaches PVE', async () => {
    const before = h.sim.totalRequests;
    for (const [method, path] of [
      ['get', '/vms'],
      ['post', '/get_vms'],
      ['get', '/audit/events'],
      ['post', '/mcp'],
      ['get', '/mcp'],
      ['delete', '/mcp'],
    ] as const) {
      const agent = request(h.url);
      const r = await agent[method](path)
        .set(MCP_HEADERS)
        .send(method === 'post' ? initializeMessage : undefined);
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.match(String(r.headers['www-authenticate']), /^Bearer realm=/);
      assert.match(String(r.headers['content-type']), /application\/json/);
      if (path === '/mcp') assert.equal(r.body.error.code, -32001);
      else assert.equal(r.body.code, 'UNAUTHORIZED');
    }
    assert.equal(h.sim.totalRequests, before);
  });

  test('A2-A5, A8: empty, wrong, near-miss, non-ASCII, other schemes and doubled credentials → 401, never 500', async () => {
    const values = [
      'Bearer',
      'Bearer ',
      'Bearer wrong',
      `Bearer ${API_KEY}x`,
      `Bearer ${API_KEY.slice(0, -1)}`,
      `Bearer x${API_KEY}`,
      `Bearer ${API_KEY.slice(0, 8)}`,
      'Bearer é',
      `Bearer ${'é'.repeat(40)}`,
      `Basic ${Buffer.from(`u:${API_KEY}`).toString('base64')}`,
      `Token ${API_KEY}`,
      `PVEAPIToken=root@pam!mcp=${API_KEY}`,
      `Bearer ${API_KEY}, Bearer ${API_KEY}`,
    ];
    for (const value of values) {
      const r = await rawRequest(`${h.url}/vms`, { headers: { authorization: value } });
      assert.equal(r.status, 401, value);
    }
    // two Authorization headers: refused whichever comes first, not "first one wins"
    for (const order of [
      ['Bearer wrong', `Bearer ${API_KEY}`],
      [`Bearer ${API_KEY}`, 'Bearer wrong'],
    ]) {
      const r = await rawRequest(`${h.url}/vms`, {
        headers: ['host', 'localhost', 'authorization', order[0], 'authorization', order[1]],
      });
      assert.equal(r.status, 401, order.join(' + '));
    }
  });

  test('A6: the scheme is case-insensitive (RFC 7235): "bearer <key>" works', async () => {
    await request(h.url).get('/vms').set('authorization', `bearer ${API_KEY}`).expect(200);
    await request(h.url).get('/vms').set('authorization', `BEARER ${API_KEY}`).expect(200);
  });

  test('A15: the right key sent with Basic to an API route → 401 that says to use Bearer; a wrong one → "Invalid API key"', async () => {
    const basic = (key: string) => `Basic ${Buffer.from(`operator:${key}`).toString('base64')}`;
    const before = h.sim.totalRequests;
    for (const [method, path] of [
      ['get', '/nodes'],
      ['post', '/get_vms'],
      ['post', '/mcp'],
    ] as const) {
      const send = (authorization: string) =>
        (method === 'get' ? request(h.url).get(path) : request(h.url).post(path))
          .set(MCP_HEADERS)
          .set('authorization', authorization)
          .send(method === 'post' ? (path === '/mcp' ? initializeMessage : {}) : undefined);
      const right = await send(basic(API_KEY));
      assert.equal(right.status, 401, `${method} ${path}`);
      const message = path === '/mcp' ? right.body.error.message : right.body.message;
      assert.match(message, /Basic authentication is accepted only for the documentation pages/);
      assert.match(message, /send this API key as `Authorization: Bearer <key>`/);
      const wrong = await send(basic('not-the-key-0123456789abcdef'));
      assert.equal(wrong.status, 401);
      assert.match(path === '/mcp' ? wrong.body.error.message : wrong.body.message, /Invalid API key$/);
    }
    assert.equal(h.sim.totalRequests, before, 'nothing reached PVE');
    const { events } = await h.server.app.get(AuditService).list({ action: 'auth.failed', limit: 500 });
    assert.ok(
      events.some(
        (e) =>
          e.details?.path === '/nodes' &&
          e.reason === 'valid API key sent with Basic auth to an API route (only Bearer is accepted there)',
      ),
      'audited as a refused attempt, with why',
    );
    assert.ok(!JSON.stringify(events).includes(API_KEY));
  });

  test('A15: /docs/session hands the Swagger page the key it was opened with, to nobody else', async () => {
    const basic = `Basic ${Buffer.from(`operator:${KEYS.read}`).toString('base64')}`;
    const session = await request(h.url).get('/docs/session').set('authorization', basic).expect(200);
    assert.deepEqual(session.body, { scheme: 'bearer', key: KEYS.read });
    assert.equal(session.headers['cache-control'], 'no-store');
    await request(h.url)
      .get('/docs/session')
      .set('authorization', basic)
      .set('sec-fetch-site', 'same-origin')
      .expect(200);
    const foreign = await request(h.url)
      .get('/docs/session')
      .set('authorization', basic)
      .set('sec-fetch-site', 'cross-site');
    assert.equal(foreign.status, 403);
    assert.ok(!foreign.text.includes(KEYS.read));
    const anonymous = await request(h.url).get('/docs/session');
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Basic realm=/);
    await request(h.url).post('/docs/session').set('authorization', basic).expect(401);
  });

  test('A7: keys in the query string are never accepted, and the value is not recorded', async () => {
    const secretInUrl = KEYS.admin;
    for (const name of ['access_token', 'api_key', 'key', 'token']) {
      await request(h.url).get(`/vms?${name}=${secretInUrl}`).expect(401);
    }
    const { events } = await h.server.app.get(AuditService).list({ action: 'auth.failed', limit: 500 });
    assert.ok(events.some((e) => e.details?.path === '/vms'));
    assert.ok(!JSON.stringify(events).includes(secretInUrl), 'the audit keeps the path without its query');
  });

  test('A9: an Mcp-Session-Id is not authentication', async () => {
    const r = await request(h.url)
      .post('/mcp')
      .set(MCP_HEADERS)
      .set('mcp-session-id', 'c0ffee00-0000-4000-8000-000000000000')
      .send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    assert.equal(r.status, 401);
  });

  test('A14: the OpenAPI document needs a key and holds no key', async () => {
    await request(h.url).get('/openapi.json').expect(401);
    const doc = await request(h.url).get('/openapi.json').set(h.auth).expect(200);
    for (const key of [API_KEY, ...Object.values(KEYS)]) assert.ok(!doc.text.includes(key));
  });

  test('every failed authentication is audited without the presented credential', async () => {
    await request(h.url).get('/nodes').set('authorization', 'Bearer canary-presented-key-123456').expect(401);
    const { events } = await h.server.app.get(AuditService).list({ action: 'auth.failed', limit: 500 });
    const last = events.find((e) => e.details?.path === '/nodes');
    assert.ok(last, 'recorded');
    assert.equal(last.actor, null);
    assert.equal(last.outcome, 'denied');
    assert.equal(last.reason, 'invalid API key');
    assert.equal(last.details?.method, 'GET');
    assert.ok(!JSON.stringify(events).includes('canary-presented-key'));
  });
});

describe('A12: brute force from one address is throttled; valid keys keep working', () => {
  let h: Harness;
  const clients = new Clients();

  before(async () => {
    h = await startHarness({}, (sim) =>
      testConfig([simulatorTargetConfig(sim)], {
        http: { ...testConfig([]).http, authFailureLimit: FAILURE_LIMIT, authFailureWindowMs: 60_000 },
      }),
    );
  });
  after(async () => {
    await clients.closeAll();
    await h.close();
  });

  test('after the limit: 429 + Retry-After (JSON), a valid key still passes, and the audit log stays bounded', async () => {
    for (let i = 1; i <= FAILURE_LIMIT; i++) {
      await request(h.url).get('/vms').set('authorization', `Bearer guess-number-${i}-abcdefgh`).expect(401);
    }
    for (let i = 0; i < 20; i++) {
      const r = await request(h.url).get('/vms').set('authorization', `Bearer more-guesses-${i}-abcdefgh`);
      assert.equal(r.status, 429);
      const retryAfter = Number(r.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${r.headers['retry-after']}`);
      assert.equal(r.body.code, 'RATE_LIMITED');
    }
    const onMcp = await request(h.url).post('/mcp').set(MCP_HEADERS).send(initializeMessage);
    assert.equal(onMcp.status, 429);
    assert.equal(onMcp.body.jsonrpc, '2.0');
    assert.ok(Number(onMcp.headers['retry-after']) >= 1, 'Retry-After on /mcp too');

    // the right key from the same address: served (a shared NAT or proxy must not lock legitimate callers out)
    await request(h.url).get('/vms').set(h.auth).expect(200);
    const mcp = await clients.as(h.url, API_KEY);
    const listed = await callTool(mcp, 'get_nodes');
    assert.equal(listed.isError, undefined, textOf(listed));

    const audit = h.server.app.get(AuditService);
    assert.equal((await audit.list({ action: 'auth.failed' })).total, FAILURE_LIMIT);
    assert.equal(
      (await audit.list({ action: 'auth.throttled' })).total,
      1,
      'one event per lockout, not one per try',
    );
  });
});

describe('the reference single key (MCP_API_KEY / PROXMOX_API_KEY) is an admin key', () => {
  test('loaded from the environment, named env:<variable>, scope admin, usable for admin tools', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmp-auth-'));
    let h: Harness | undefined;
    const clients = new Clients();
    try {
      h = await startHarness({}, (sim) => {
        const target = simulatorTargetConfig(sim);
        const config = loadConfig(
          {
            HOME: dir,
            PROXMOX_HOST: target.host,
            PROXMOX_PORT: String(target.port),
            PROXMOX_USER: target.user,
            PROXMOX_TOKEN_NAME: target.tokenName,
            PROXMOX_TOKEN_VALUE: target.tokenValue,
            PROXMOX_FINGERPRINT: target.fingerprint!,
            PROXMOX_JOBS_SQLITE_PATH: ':memory:',
            LOG_LEVEL: 'silent',
            MCP_API_KEY: 'legacy-mcp-key-0123456789',
            PROXMOX_API_KEY: 'legacy-proxy-key-0123456789',
          },
          { cwd: dir },
        );
        assert.deepEqual(
          config.http.apiKeys.map((k) => [k.name, k.scope]),
          [
            ['env:MCP_API_KEY', 'admin'],
            ['env:PROXMOX_API_KEY', 'admin'],
          ],
        );
        return { ...config, mcp: { ...config.mcp, port: 0 } };
      });
      for (const key of ['legacy-mcp-key-0123456789', 'legacy-proxy-key-0123456789']) {
        const result = await callTool(await clients.as(h.url, key), 'list_audit_events', { limit: 1 });
        assert.equal(result.isError, undefined, textOf(result));
      }
    } finally {
      await clients.closeAll();
      await h?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
