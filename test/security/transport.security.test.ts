import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import request from 'supertest';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { API_KEY, startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { KEYS, MCP_HEADERS, bearer, initializeMessage, rawRequest, scopedKeys } from './helpers.js';

const APP_ORIGIN = 'https://app.example.com';
const auth = bearer(API_KEY);
const mcpPost = (url: string, headers: Record<string, string>, body: unknown = initializeMessage) =>
  rawRequest(`${url}/mcp`, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...auth, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** Opens a socket, sends `head`, then trickles `trickle` one byte per interval; resolves with what came back. */
function slowClient(
  port: number,
  head: string,
  trickle: string,
  intervalMs: number,
): Promise<{ response: string; cutOffMidRequest: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (i < trickle.length && !socket.destroyed) socket.write(trickle[i++]);
      }, intervalMs);
    });
    socket.on('data', (c) => (response += c.toString()));
    socket.on('error', () => undefined); // a reset is one way of being cut off
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response, cutOffMidRequest: i < trickle.length });
    });
    setTimeout(() => {
      socket.destroy();
      reject(new Error('the server kept a slow client open for 15 s'));
    }, 15_000).unref();
  });
}

/** Table B of security-and-faults.md: transport, Host/Origin, protocol. */
describe('transport hardening (table B)', () => {
  let h: Harness;
  let port: number;

  before(async () => {
    h = await startHarness({}, (sim) =>
      testConfig([simulatorTargetConfig(sim)], {
        http: {
          ...testConfig([]).http,
          apiKeys: [...testConfig([]).http.apiKeys, ...scopedKeys()],
          corsOrigins: [APP_ORIGIN],
          headersTimeoutMs: 1000,
          requestTimeoutMs: 1500,
          authFailureLimit: 3,
        },
      }),
    );
    port = Number(new URL(h.url).port);
  });
  after(() => h.close());

  test('B1, B3, B4: a foreign, look-alike or missing Host on /mcp → 403 with a valid key', async () => {
    for (const host of ['evil.example.com', 'localhost.evil.example.com', '127.0.0.1.nip.io']) {
      const r = await mcpPost(h.url, { host });
      assert.equal(r.status, 403, host);
      assert.match(r.body, /is not allowed; add it to mcp.allowed_hosts/);
    }
    const noHost = await new Promise<string>((resolve) => {
      const body = JSON.stringify(initializeMessage);
      const s = net.connect(port, '127.0.0.1', () =>
        s.write(
          `POST /mcp HTTP/1.0\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\n` +
            `Accept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        ),
      );
      let data = '';
      s.on('data', (c: Buffer) => (data += c.toString()));
      s.on('close', () => resolve(data));
    });
    assert.match(noHost, /^HTTP\/1\.1 403 /);
  });

  test('B2, B5: a foreign Origin → 403 (spec MUST); "null" → 403; loopback origins on any port and configured origins pass', async () => {
    for (const origin of ['http://evil.example.com', 'null', 'http://localhost.evil.example.com']) {
      assert.equal((await mcpPost(h.url, { origin })).status, 403, origin);
    }
    for (const origin of ['http://localhost:1', 'http://127.0.0.1:5173', APP_ORIGIN]) {
      assert.equal((await mcpPost(h.url, { origin })).status, 200, origin);
    }
  });

  test('B6: CORS answers only configured origins, never "*", never with credentials', async () => {
    const evil = await request(h.url)
      .options('/vms')
      .set('origin', 'http://evil.example.com')
      .set('access-control-request-method', 'GET');
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    const good = await request(h.url)
      .options('/vms')
      .set('origin', APP_ORIGIN)
      .set('access-control-request-method', 'GET')
      .set('access-control-request-headers', 'authorization');
    assert.equal(good.headers['access-control-allow-origin'], APP_ORIGIN);
    assert.equal(good.headers['access-control-allow-credentials'], undefined);
    assert.match(String(good.headers['access-control-allow-headers']), /Authorization/i);
  });

  test('B6: refusals to an allowed origin carry CORS headers (401, 403, 429), so the page can read them', async () => {
    const ok = await request(h.url).get('/vms').set(auth).set('origin', APP_ORIGIN).expect(200);
    assert.equal(ok.headers['access-control-allow-origin'], APP_ORIGIN);
    const unauthorized = await request(h.url).get('/vms').set('origin', APP_ORIGIN).expect(401);
    assert.equal(unauthorized.headers['access-control-allow-origin'], APP_ORIGIN);
    assert.match(String(unauthorized.headers['access-control-expose-headers']), /WWW-Authenticate/);
    const forbidden = await request(h.url)
      .get('/audit/events')
      .set(bearer(KEYS.read))
      .set('origin', APP_ORIGIN);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.headers['access-control-allow-origin'], APP_ORIGIN);
    let throttled = await request(h.url).get('/vms').set('origin', APP_ORIGIN);
    for (let i = 0; i < 5; i++) {
      throttled = await request(h.url)
        .get('/vms')
        .set('authorization', 'Bearer nope-nope-nope')
        .set('origin', APP_ORIGIN);
    }
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers['access-control-allow-origin'], APP_ORIGIN);
    assert.match(String(throttled.headers['access-control-expose-headers']), /Retry-After/);
  });

  test('helmet security headers on REST responses', async () => {
    const r = await request(h.url).get('/vms').set(auth).expect(200);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    // over plain http under a LAN name it would send the browser to https for the Swagger UI's own assets
    assert.doesNotMatch(csp, /upgrade-insecure-requests/);
    assert.equal(r.headers['x-powered-by'], undefined);
  });

  test('B7, B9, B10, B12: protocol violations get JSON-RPC errors with the right status', async () => {
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
    const version = await mcpPost(h.url, { 'mcp-protocol-version': '1999-01-01' }, list);
    assert.equal(version.status, 400);
    assert.match(version.body, /Unsupported protocol version/);
    assert.equal((await mcpPost(h.url, { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await mcpPost(h.url, { accept: 'application/json' })).status, 406);
    const batch = Array.from({ length: 101 }, (_, i) => ({ ...list, id: i + 1 }));
    const tooMany = await mcpPost(h.url, {}, batch);
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body, /Batch must not exceed 100 messages/);
  });

  test('B14: a client trickling its headers is cut off at headers_timeout; others are served meanwhile', async () => {
    const slow = slowClient(
      port,
      'GET /vms HTTP/1.1\r\nHost: localhost\r\n',
      'X-Slow: ' + 'a'.repeat(40),
      100,
    );
    const served = await request(h.url).get('/vms').set(auth);
    assert.equal(served.status, 200, 'another client is not blocked');
    const { response, cutOffMidRequest } = await slow;
    assert.ok(cutOffMidRequest, 'the server closed before the client finished its headers');
    assert.ok(response === '' || /^HTTP\/1\.1 408 /.test(response), response);
  });

  test('B14: a client trickling its body is cut off at request_timeout', async () => {
    const body = JSON.stringify({ target: 'x'.repeat(60) });
    const head =
      `POST /get_vms HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${API_KEY}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { response, cutOffMidRequest } = await slowClient(port, head, body, 100);
    assert.ok(cutOffMidRequest, 'the server closed before the client finished its body');
    assert.ok(!/^HTTP\/1\.1 200 /.test(response), response);
  });

  test('B15: oversized headers → 431; a flood of headers does not crash the server', async () => {
    const big = await rawRequest(`${h.url}/vms`, { headers: { ...auth, 'x-pad': 'a'.repeat(20 * 1024) } });
    assert.equal(big.status, 431);
    const many: Record<string, string> = { ...auth };
    for (let i = 0; i < 300; i++) many[`x-h${i}`] = 'v';
    const flood = await rawRequest(`${h.url}/livez`, { headers: many });
    assert.ok([200, 400, 431].includes(flood.status), String(flood.status));
    await request(h.url).get('/livez').expect(200);
  });
});

describe('MCP_DNS_REBINDING_PROTECTION=false', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, (sim) =>
      testConfig([simulatorTargetConfig(sim)], {
        mcp: { ...testConfig([]).mcp, dnsRebindingProtection: false },
      }),
    );
  });
  after(() => h.close());

  test('turns the Host/Origin checks off, and /health says so', async () => {
    assert.equal(
      (await mcpPost(h.url, { host: 'evil.example.com', origin: 'http://evil.example.com' })).status,
      200,
    );
    const health = await request(h.url).get('/health').set(auth).expect(200);
    assert.ok(
      health.body.security_warnings.some((w: string) => /MCP_DNS_REBINDING_PROTECTION is off/.test(w)),
      JSON.stringify(health.body.security_warnings),
    );
  });
});
