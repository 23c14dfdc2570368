import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { API_KEY, startHarness, testConfig, type Harness } from '../helpers/test-app.js';

const OTHER_KEY = 'second-key-0123456789abcdef0123';

/** GET with a chosen source address on the loopback network (127.0.0.0/8 is all local on Linux). */
function get(url: string, key: string, localAddress: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: any }>((resolve, reject) => {
    const req = httpRequest(url, { headers: { authorization: `Bearer ${key}` }, localAddress }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('rate limit (http.rate_limit_rpm): tool calls per minute per API key and per client address', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({}, (sim) => {
      const base = testConfig([simulatorTargetConfig(sim)]);
      return {
        ...base,
        http: {
          ...base.http,
          rateLimitRpm: 3,
          apiKeys: [...base.http.apiKeys, { name: 'second', secret: OTHER_KEY, scope: 'admin' }],
        },
      };
    });
  });
  after(() => h.close());

  test('the 4th call of a key within a minute is 429 with Retry-After, from any address', async () => {
    const url = `${h.url}/cluster/next-vmid`;
    for (let i = 0; i < 3; i++) assert.equal((await get(url, API_KEY, '127.0.0.1')).status, 200);
    const limited = await get(url, API_KEY, '127.0.0.1');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'RATE_LIMITED');
    assert.match(limited.body.message, /at most 3 tool calls per minute/);
    assert.ok(
      Number(limited.headers['retry-after-per-key'] ?? limited.headers['retry-after-per-address']) > 0,
    );
    // the standard header too (RFC 9110), in seconds, matching the message and the body
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60,
      `Retry-After ${retryAfter}`,
    );
    assert.equal(limited.body.details.retry_after_seconds, retryAfter);
    // the key's bucket follows the key to another address
    assert.equal((await get(url, API_KEY, '127.0.0.2')).status, 429);
  });

  test('another key from another address is not affected; the address bucket is shared by every key', async () => {
    const url = `${h.url}/cluster/next-vmid`;
    assert.equal((await get(url, OTHER_KEY, '127.0.0.3')).status, 200);
    // 127.0.0.1 used up its 3 calls above: a different key from there is refused too (per address)
    assert.equal((await get(url, OTHER_KEY, '127.0.0.1')).status, 429);
  });

  test('POST /{tool} (the reference routes) is refused the same way, with Retry-After', async () => {
    const r = await fetch(`${h.url}/get_next_vmid`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(r.status, 429);
    const body = (await r.json()) as { code: string; details: { retry_after_seconds: number } };
    assert.equal(body.code, 'RATE_LIMITED');
    assert.equal(Number(r.headers.get('retry-after')), body.details.retry_after_seconds);
  });

  test('MCP tool calls count and are refused the same way, as an error result', async () => {
    const mcp = await h.mcp(); // API_KEY from 127.0.0.1: both of its buckets are spent
    const result = (await mcp.callTool({ name: 'get_next_vmid', arguments: {} })) as {
      isError?: boolean;
      content: Array<{ text?: string }>;
    };
    assert.equal(result.isError, true);
    assert.match(result.content[0].text ?? '', /Too many requests/);
  });
});
