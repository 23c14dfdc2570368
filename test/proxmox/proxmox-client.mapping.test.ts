import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { rejectsWith } from './helpers/rejects-with.js';
import { ProxmoxClient } from '../../src/proxmox/proxmox-client.js';
import { json, ScriptedHttps } from './helpers/scripted-https.js';

/** Awaits a rejection and checks it is a DomainError with the code; returns it for further asserts. */

describe('ProxmoxClient: request shape and error mapping (scripted HTTPS upstream)', () => {
  let upstream: ScriptedHttps;
  let client: ProxmoxClient;
  const SECRET = 'b7c1e0f4-0000-4000-8000-5ecre75ecre7';

  before(async () => {
    upstream = await ScriptedHttps.start();
    client = new ProxmoxClient(upstream.target({ tokenValue: SECRET }), { retryBaseDelayMs: 10 });
  });
  afterEach(() => upstream.reset());
  after(async () => {
    await client.close();
    await upstream.close();
  });

  test('GET sends the token header, /api2/json prefix and 1/0 booleans, and unwraps data', async () => {
    upstream.handler = (_req, res) => json(res, 200, { data: [{ vmid: 100 }] });
    const data = await client.get<Array<{ vmid: number }>>('/cluster/resources', {
      type: 'vm',
      full: true,
      skip: undefined,
      ids: ['a', 'b'],
    });
    assert.deepEqual(data, [{ vmid: 100 }]);
    const [req] = upstream.requests;
    assert.equal(req.method, 'GET');
    assert.equal(req.url, '/api2/json/cluster/resources?full=1&ids=a&ids=b&type=vm');
    assert.equal(req.headers.authorization, `PVEAPIToken=mcp@pve!ci=${SECRET}`);
    assert.equal(req.headers.accept, 'application/json');
  });

  test('POST/PUT send a form-encoded body like pvesh and proxmoxer: arrays repeat the key, booleans 1/0, undefined dropped', async () => {
    upstream.handler = (_req, res) =>
      json(res, 200, { data: 'UPID:pve1:00000001:00000002:00000003:qmstart:100:root@pam:' });
    const upid = await client.post<string>('/nodes/pve1/qemu/100/agent/exec', {
      skiplock: false,
      force: true,
      timeout: 30,
      command: ['/bin/echo', 'a b&c=d', 'ü'],
      description: 'line 1\nline 2 + 100%',
      x: undefined,
    });
    assert.match(upid, /^UPID:/);
    const [req] = upstream.requests;
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
    const form = new URLSearchParams(req.body);
    assert.deepEqual(form.getAll('command'), ['/bin/echo', 'a b&c=d', 'ü']);
    assert.equal(form.get('skiplock'), '0');
    assert.equal(form.get('force'), '1');
    assert.equal(form.get('timeout'), '30');
    assert.equal(form.get('description'), 'line 1\nline 2 + 100%');
    assert.equal(form.has('x'), false);

    await client.put('/nodes/pve1/qemu/100/config', { delete: 'ide2', memory: 2048 });
    const put = upstream.requests[1];
    assert.equal(put.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(put.body, 'delete=ide2&memory=2048');
  });

  test('DELETE takes query parameters', async () => {
    await client.delete('/nodes/pve1/qemu/100', { purge: true });
    assert.equal(upstream.requests[0].method, 'DELETE');
    assert.equal(upstream.requests[0].url, '/api2/json/nodes/pve1/qemu/100?purge=1');
  });

  test('getWithTotal returns the top-level total (numeric even if PVE sent a string)', async () => {
    upstream.handler = (_req, res) => json(res, 200, { data: [{ n: 1, t: 'TASK OK' }], total: '1' });
    assert.deepEqual(await client.getWithTotal('/nodes/pve1/tasks/x/log'), {
      data: [{ n: 1, t: 'TASK OK' }],
      total: 1,
    });
    upstream.handler = (_req, res) => json(res, 200, { data: [] });
    assert.deepEqual(await client.getWithTotal('/nodes/pve1/tasks/y/log'), { data: [] });
  });

  test('401 → UPSTREAM_AUTH, from the reason phrase of an empty body, never echoing the token', async () => {
    upstream.handler = (_req, res) => {
      res.writeHead(401, 'Authentication failed!');
      res.end();
    };
    const e = await rejectsWith(client.get('/version'), 'UPSTREAM_AUTH');
    assert.match(e.message, /Authentication failed!/);
    assert.match(e.hint ?? '', /token_name/);
    assert.deepEqual(e.details, { target: 'scripted', status: 401, method: 'GET', path: '/version' });
    assert.equal(upstream.requests.length, 1, '4xx is never retried');
    assert.ok(!JSON.stringify({ m: e.message, h: e.hint, d: e.details }).includes(SECRET));
  });

  test('a token echoed inside an upstream message is scrubbed', async () => {
    upstream.handler = (_req, res) =>
      json(
        res,
        500,
        { data: null, message: `proxy said: bad header PVEAPIToken=mcp@pve!ci=${SECRET}\n` },
        'err',
      );
    const e = await rejectsWith(client.get('/version'), 'UPSTREAM_ERROR');
    assert.ok(!e.message.includes(SECRET), e.message);
    assert.ok(!e.message.includes('mcp@pve!ci='), e.message);
  });

  test('403 → UPSTREAM_FORBIDDEN with the path and privilege from PVE', async () => {
    upstream.handler = (_req, res) =>
      json(
        res,
        403,
        { data: null, message: 'Permission check failed (/vms/100, VM.PowerMgmt)\n' },
        'Permission check failed (/vms/100, VM.PowerMgmt)',
      );
    const e = await rejectsWith(client.post('/nodes/pve1/qemu/100/status/start'), 'UPSTREAM_FORBIDDEN');
    assert.match(e.message, /Permission check failed \(\/vms\/100, VM\.PowerMgmt\)$/);
    assert.match(e.hint ?? '', /privilege/);
  });

  test('400 → UPSTREAM_REJECTED with the field errors, trailing newlines trimmed', async () => {
    upstream.handler = (_req, res) =>
      json(
        res,
        400,
        {
          data: null,
          message: 'Parameter verification failed.\n',
          errors: {
            vmid: 'invalid format - value does not look like a valid VM ID\n',
            ipconfig0: 'invalid format - format error\nipconfig0.gw: invalid format - bad IPv4\n\n',
          },
        },
        'Parameter verification failed.',
      );
    const e = await rejectsWith(client.post('/nodes/pve1/qemu', { vmid: 'abc' }), 'UPSTREAM_REJECTED');
    assert.deepEqual(e.details?.errors, {
      vmid: 'invalid format - value does not look like a valid VM ID',
      ipconfig0: 'invalid format - format error\nipconfig0.gw: invalid format - bad IPv4',
    });
    assert.equal(e.details?.status, 400);
    assert.match(e.message, /vmid: invalid format - value does not look like a valid VM ID/);
  });

  test('old PVE (< 8.3): no `message` in the body, the reason phrase carries it', async () => {
    upstream.handler = (_req, res) =>
      json(res, 500, { data: null }, "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist");
    const e = await rejectsWith(client.get('/nodes/pve1/qemu/100/config'), 'UPSTREAM_NOT_FOUND');
    assert.equal(e.message, "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist");
    assert.equal(upstream.requests.length, 1, 'a 500 is not retried');
  });

  test('400 with only a reason phrase and errors (PVE 8 capture) still lists the field errors', async () => {
    upstream.handler = (_req, res) =>
      json(
        res,
        400,
        { errors: { target: 'invalid format - value does not look like a valid node name\n' }, data: null },
        'Parameter verification failed.',
      );
    const e = await rejectsWith(
      client.post('/nodes/pve1/qemu/100/migrate', { target: '-' }),
      'UPSTREAM_REJECTED',
    );
    assert.deepEqual(e.details?.errors, {
      target: 'invalid format - value does not look like a valid node name',
    });
  });

  test("500 without a not-found phrase → UPSTREAM_ERROR with PVE's message", async () => {
    upstream.handler = (_req, res) =>
      json(
        res,
        500,
        { data: null, message: 'VM 100 is running - destroy failed\n' },
        'VM 100 is running - destroy failed',
      );
    const e = await rejectsWith(client.delete('/nodes/pve1/qemu/100'), 'UPSTREAM_ERROR');
    assert.match(e.message, /VM 100 is running - destroy failed$/);
  });

  test('501 → UPSTREAM_REJECTED "does not implement"', async () => {
    upstream.handler = (_req, res) =>
      json(
        res,
        501,
        { data: null, message: "Method 'GET /nodes/pve1/nope' not implemented\n" },
        'not implemented',
      );
    const e = await rejectsWith(client.get('/nodes/pve1/nope'), 'UPSTREAM_REJECTED');
    assert.match(e.message, /^Proxmox does not implement GET \/nodes\/pve1\/nope: /);
  });

  for (const status of [595, 596]) {
    test(`${status} → UPSTREAM_UNAVAILABLE (node unreachable from the cluster)`, async () => {
      upstream.handler = (_req, res) => json(res, status, { data: null }, 'Connection timed out');
      const e = await rejectsWith(client.get('/nodes/pve3/status'), 'UPSTREAM_UNAVAILABLE');
      assert.match(e.message, /Connection timed out/);
      assert.match(e.hint ?? '', /unreachable from the cluster/);
      assert.equal(upstream.requests.length, 1);
    });
  }

  test('other 4xx (404 from a proxy) → UPSTREAM_REJECTED, not retried', async () => {
    upstream.handler = (_req, res) => json(res, 404, { data: null }, 'Not Found');
    await rejectsWith(client.get('/version'), 'UPSTREAM_REJECTED');
    assert.equal(upstream.requests.length, 1);
  });

  test('details carry the path without the query string', async () => {
    upstream.handler = (_req, res) => json(res, 500, { data: null }, 'boom');
    const e = await rejectsWith(
      client.get('/nodes/pve1/storage/local/content', { content: 'iso' }),
      'UPSTREAM_ERROR',
    );
    assert.equal(e.details?.path, '/nodes/pve1/storage/local/content');
  });

  test('503 with Retry-After is retried for GET and honours the delay', async () => {
    let calls = 0;
    upstream.handler = (_req, res) => {
      calls++;
      if (calls === 1) json(res, 503, { data: null }, 'Service Unavailable', { 'retry-after': '1' });
      else json(res, 200, { data: 'ok' });
    };
    const started = Date.now();
    assert.equal(await client.get('/version'), 'ok');
    assert.equal(upstream.requests.length, 2);
    assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
  });

  test('503 exhausting the retries → UPSTREAM_UNAVAILABLE after 1 + getRetries attempts', async () => {
    upstream.handler = (_req, res) => json(res, 503, { data: null }, 'Service Unavailable');
    await rejectsWith(client.get('/version'), 'UPSTREAM_UNAVAILABLE');
    assert.equal(upstream.requests.length, 3);
  });

  test('a 200 without a data key → UPSTREAM_PROTOCOL', async () => {
    upstream.handler = (_req, res) => json(res, 200, { result: 1 });
    const e = await rejectsWith(client.get('/version'), 'UPSTREAM_PROTOCOL');
    assert.match(e.message, /no 'data' field/);
  });

  test('a declared Content-Length over the cap is refused before reading the body', async () => {
    const capped = new ProxmoxClient(upstream.target(), { maxResponseBytes: 1024 });
    upstream.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) });
      res.write('{"data":"'); // and then nothing: a client waiting for the body would hang until the deadline
    };
    try {
      const started = Date.now();
      const e = await rejectsWith(capped.get('/version'), 'UPSTREAM_PROTOCOL');
      assert.match(e.message, /larger than 1024 bytes/);
      assert.ok(Date.now() - started < 1000);
    } finally {
      await capped.close();
    }
  });

  test('a path without a leading slash is a programming error, refused before any request', async () => {
    await rejectsWith(client.get('version'), 'INTERNAL');
    assert.equal(upstream.requests.length, 0);
  });

  test('a caller-side cancel → INTERNAL "cancelled", distinct from a deadline', async () => {
    upstream.handler = () => undefined; // never answers
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const e = await rejectsWith(
      client.post('/nodes/pve1/qemu/100/status/start', {}, { signal: controller.signal }),
      'INTERNAL',
    );
    assert.match(e.message, /cancelled/);
  });

  test('an already-aborted signal fails without any request', async () => {
    const e = await rejectsWith(
      client.get('/version', undefined, { signal: AbortSignal.abort() }),
      'INTERNAL',
    );
    assert.match(e.message, /cancelled/);
    assert.equal(upstream.requests.length, 0);
  });
});

describe('ProxmoxClient: network errors', () => {
  test('connection refused → UPSTREAM_UNAVAILABLE, naming host and port', async () => {
    // Grab a free port and close it again, so nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const client = new ProxmoxClient(
      {
        name: 'dead',
        host: '127.0.0.1',
        port,
        service: 'PVE',
        timeoutMs: 3000,
        inventoryCacheMs: 0,
        verifySsl: true,
        user: 'u@pve',
        tokenName: 't',
        tokenValue: 'secret-value',
        readOnly: false,
      },
      { retryBaseDelayMs: 5 },
    );
    try {
      const e = await rejectsWith(client.get('/version'), 'UPSTREAM_UNAVAILABLE');
      assert.equal(e.message, `Cannot reach Proxmox at 127.0.0.1:${port}: connection refused`);
      assert.equal(e.details?.network_error, 'ECONNREFUSED');
    } finally {
      await client.close();
    }
  });
});
