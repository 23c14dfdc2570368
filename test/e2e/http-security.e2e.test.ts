import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import request from 'supertest';
import { API_KEY, startHarness, type Harness } from '../helpers/test-app.js';

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

/** Raw request so the Host header can be set (fetch cannot). */
function rawPost(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('HTTP security baseline', () => {
  let h: Harness;
  const mcpHeaders = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };

  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('/livez needs no key; every other route does (401 + WWW-Authenticate, JSON)', async () => {
    await request(h.url).get('/livez').expect(200, { status: 'ok' });
    for (const path of ['/', '/vms', '/health', '/readyz', '/openapi.json', '/docs']) {
      const r = await request(h.url).get(path).expect(401);
      assert.match(String(r.headers['www-authenticate']), /Bearer/);
      assert.equal(r.body.code, 'UNAUTHORIZED', path);
    }
    const r = await request(h.url).post('/mcp').set(mcpHeaders).send(initialize).expect(401);
    assert.equal(r.body.error.code, -32001);
  });

  test('wrong, partial, oddly encoded or URL-borne keys are refused, never a 500', async () => {
    for (const value of [
      'Bearer wrong',
      `Bearer ${API_KEY}x`,
      `Bearer ${API_KEY.slice(0, -1)}`,
      'Bearer é',
      'Bearer',
      `Basic ${Buffer.from(`u:${API_KEY}`).toString('base64')}`,
      `Token ${API_KEY}`,
      `Bearer ${API_KEY} ${API_KEY}`,
    ]) {
      await request(h.url).get('/vms').set('authorization', value).expect(401);
    }
    await request(h.url).get(`/vms?api_key=${API_KEY}`).expect(401);
    await request(h.url).get(`/vms?access_token=${API_KEY}`).expect(401);
    await request(h.url).get('/vms').set('authorization', `bearer ${API_KEY}`).expect(200);
  });

  test('the docs pages accept Basic (password = key) so a browser can open them', async () => {
    const basic = `Basic ${Buffer.from(`anyone:${API_KEY}`).toString('base64')}`;
    await request(h.url).get('/openapi.json').set('authorization', basic).expect(200);
    const page = await request(h.url).get('/docs').set('authorization', basic).redirects(1);
    assert.equal(page.status, 200);
    assert.match(page.text, /swagger/i);
  });

  test('a foreign Origin or Host on /mcp gets 403 even with a valid key', async () => {
    const evilOrigin = await request(h.url)
      .post('/mcp')
      .set(h.auth)
      .set(mcpHeaders)
      .set('origin', 'http://evil.example.com')
      .send(initialize);
    assert.equal(evilOrigin.status, 403);
    const nullOrigin = await request(h.url)
      .post('/mcp')
      .set(h.auth)
      .set(mcpHeaders)
      .set('origin', 'null')
      .send(initialize);
    assert.equal(nullOrigin.status, 403);
    const localOrigin = await request(h.url)
      .post('/mcp')
      .set(h.auth)
      .set(mcpHeaders)
      .set('origin', 'http://localhost:5173')
      .send(initialize);
    assert.equal(localOrigin.status, 200);
    const evilHost = await rawPost(
      `${h.url}/mcp`,
      { ...mcpHeaders, authorization: `Bearer ${API_KEY}`, host: 'evil.example.com' },
      JSON.stringify(initialize),
    );
    assert.equal(evilHost.status, 403);
    assert.match(evilHost.body, /Host 'evil.example.com' is not allowed/);
  });

  test('malformed JSON and oversized bodies get JSON errors, never HTML or a stack', async () => {
    const bad = await request(h.url).post('/mcp').set(h.auth).set(mcpHeaders).send('{"jsonrpc": ');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, -32700);
    const badRest = await request(h.url)
      .post('/get_vms')
      .set(h.auth)
      .set('content-type', 'application/json')
      .send('{oops');
    assert.equal(badRest.status, 400);
    assert.equal(badRest.body.code, 'VALIDATION');
    const huge = await request(h.url)
      .post('/get_vms')
      .set(h.auth)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }));
    assert.equal(huge.status, 413);
    assert.equal(huge.body.code, 'PAYLOAD_TOO_LARGE');
    for (const r of [bad, badRest, huge]) {
      assert.match(String(r.headers['content-type']), /application\/json/);
      assert.doesNotMatch(r.text, /<html|at .*\.js:\d+/i);
    }
  });

  test('unknown routes are JSON 404s; GET /mcp is 405 in stateless mode', async () => {
    const r = await request(h.url).get('/nope').set(h.auth).expect(404);
    assert.equal(r.body.code, 'NOT_FOUND');
    await request(h.url).get('/mcp').set(h.auth).expect(405);
  });

  test('/readyz reaches PVE: 200 while it answers, 503 when it does not', async () => {
    const ok = await request(h.url).get('/readyz').set(h.auth).expect(200);
    assert.equal(ok.body.targets[0].reachable, true);
    const health = await request(h.url).get('/health').set(h.auth).expect(200);
    assert.ok(!JSON.stringify(health.body).includes(API_KEY));
    assert.ok(!JSON.stringify(health.body).includes(h.sim.token.secret));
  });
});
