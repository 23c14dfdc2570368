import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TargetConfig } from '../../src/config/app-config.js';
import { DomainError } from '../../src/common/errors/domain-error.js';
import { rejectsWith } from './helpers/rejects-with.js';
import { ProxmoxClient, type ProxmoxClientOptions } from '../../src/proxmox/proxmox-client.js';
import type { PveVersion } from '../../src/proxmox/pve-types.js';
import { parseUpid } from '../../src/proxmox/upid.js';
import { PveSimulator, simulatorTargetConfig } from '../../src/simulator/index.js';

const SCHEMA_PATH = process.env.PVE_API_SCHEMA ?? resolve('../shared/pve-api/apidoc.json');

describe('ProxmoxClient against the PVE simulator', () => {
  let sim: PveSimulator;
  const clients: ProxmoxClient[] = [];
  /** A client for the simulator (pinned by default); closed after the suite. */
  const clientFor = (overrides: Partial<TargetConfig> = {}, options: ProxmoxClientOptions = {}) => {
    const client = new ProxmoxClient(simulatorTargetConfig(sim, overrides), {
      retryBaseDelayMs: 20,
      ...options,
    });
    clients.push(client);
    return client;
  };
  let client: ProxmoxClient;

  before(async () => {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0 });
    client = clientFor();
  });
  afterEach(() => {
    sim.faults.clear();
    sim.clearRequests();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await sim.stop();
  });

  describe('envelope and errors', () => {
    test('GET unwraps data', async () => {
      const version = await client.get<PveVersion>('/version');
      assert.equal(typeof version.version, 'string');
      assert.equal(typeof version.release, 'string');
      assert.deepEqual(sim.schemaViolations(), []);
    });

    test('POST returns the UPID string of the started task', async () => {
      const upid = await client.post<string>('/nodes/pve1/qemu/100/status/stop');
      assert.equal(parseUpid(upid)?.type, 'qmstop');
      assert.deepEqual(sim.schemaViolations(), []);
    });

    test('a wrong token secret → UPSTREAM_AUTH, and neither secret appears in the error', async () => {
      const wrongSecret = '00000000-dead-beef-0000-000000000000';
      const e = await rejectsWith(clientFor({ tokenValue: wrongSecret }).get('/version'), 'UPSTREAM_AUTH');
      const shown = JSON.stringify({ message: e.message, hint: e.hint, details: e.details });
      assert.ok(!shown.includes(wrongSecret));
      assert.ok(!shown.includes(sim.token.secret));
      assert.equal(sim.requests.length, 1, 'not retried');
    });

    test("400 → UPSTREAM_REJECTED with PVE's field errors", async () => {
      const e = await rejectsWith(client.get('/cluster/resources', { type: 'qemu' }), 'UPSTREAM_REJECTED');
      const errors = e.details?.errors as Record<string, string>;
      assert.match(errors.type, /enumeration/);
      assert.ok(!errors.type.endsWith('\n'));
    });

    test('500 "does not exist" → UPSTREAM_NOT_FOUND', async () => {
      const e = await rejectsWith(client.get('/nodes/pve1/qemu/99999/config'), 'UPSTREAM_NOT_FOUND');
      assert.match(e.message, /does not exist/);
      assert.equal(e.details?.status, 500);
    });

    test('501 (unknown path) → UPSTREAM_REJECTED "does not implement"', async () => {
      const e = await rejectsWith(client.get('/nodes/pve1/no-such-thing'), 'UPSTREAM_REJECTED');
      assert.match(e.message, /^Proxmox does not implement GET \/nodes\/pve1\/no-such-thing/);
    });

    test('595 from an offline node → UPSTREAM_UNAVAILABLE, not retried', async () => {
      sim.cluster.setNodeOnline('pve2', false);
      try {
        const e = await rejectsWith(client.get('/nodes/pve2/status'), 'UPSTREAM_UNAVAILABLE');
        assert.equal(e.details?.status, 595);
        assert.match(e.hint ?? '', /unreachable from the cluster/);
        assert.equal(sim.requests.length, 1);
      } finally {
        sim.cluster.setNodeOnline('pve2', true);
      }
    });
  });

  describe('retries', () => {
    for (const fault of [{ mode: 'reset' as const }, { mode: 'status' as const, status: 503 }]) {
      test(`GET after one ${fault.mode}${fault.status ? ` ${fault.status}` : ''} is retried and succeeds`, async () => {
        sim.faults.add({ match: { path: '/version' }, ...fault, times: 1 });
        const version = await client.get<PveVersion>('/version');
        assert.equal(typeof version.version, 'string');
        assert.equal(sim.requestCount({ path: '/version' }), 2);
      });

      test(`POST after a ${fault.mode} is NOT retried: exactly one request`, async () => {
        const path = '/nodes/pve1/qemu/100/status/stop';
        sim.faults.add({ match: { method: 'POST', path }, ...fault, times: 1 });
        await rejectsWith(client.post(path), 'UPSTREAM_UNAVAILABLE');
        assert.equal(sim.requestCount({ method: 'POST', path }), 1);
      });
    }

    test('503 with Retry-After: 1 waits about a second before the retry', async () => {
      sim.faults.add({
        match: { path: '/version' },
        mode: 'status',
        status: 503,
        retryAfterSeconds: 1,
        times: 1,
      });
      const started = Date.now();
      await client.get('/version');
      assert.ok(Date.now() - started >= 900, `retried after ${Date.now() - started} ms`);
    });

    test('a persistent reset gives up after 1 + getRetries attempts', async () => {
      sim.faults.add({ match: { path: '/version' }, mode: 'reset' });
      const e = await rejectsWith(client.get('/version'), 'UPSTREAM_UNAVAILABLE');
      assert.match(e.message, /^Cannot reach Proxmox at /);
      assert.equal(sim.requestCount({ path: '/version' }), 3);
    });
  });

  describe('deadline, protocol and size', () => {
    test('hang → TIMEOUT at the deadline (headers never come)', async () => {
      sim.faults.add({ match: { path: '/version' }, mode: 'hang' });
      const started = Date.now();
      const e = await rejectsWith(client.get('/version', undefined, { timeoutMs: 400 }), 'TIMEOUT');
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 350 && elapsed < 1500, `gave up after ${elapsed} ms`);
      assert.match(e.message, /did not answer GET \/version within 0\.4 s/);
    });

    test('latency beyond the target timeout → TIMEOUT; a mutation is not retried after it', async () => {
      const path = '/nodes/pve1/qemu/100/status/stop';
      sim.faults.add({ match: { path }, mode: 'latency', latencyMs: 1000 });
      await rejectsWith(clientFor({ timeoutMs: 300 }).post(path), 'TIMEOUT');
      assert.equal(sim.requestCount({ path }), 1);
    });

    for (const mode of ['bad-json', 'html', 'truncated'] as const) {
      test(`${mode} → UPSTREAM_PROTOCOL`, async () => {
        sim.faults.add({ match: { path: '/cluster/resources' }, mode });
        const e = await rejectsWith(client.get('/cluster/resources'), 'UPSTREAM_PROTOCOL');
        assert.equal(e.details?.path, '/cluster/resources');
      });
    }

    test('a body cut off once is retried for GET and then succeeds', async () => {
      sim.faults.add({ match: { path: '/cluster/resources' }, mode: 'truncated', times: 1 });
      assert.ok(Array.isArray(await client.get('/cluster/resources')));
      assert.equal(sim.requestCount({ path: '/cluster/resources' }), 2);
    });

    test('html names the content type instead of trying to parse it', async () => {
      sim.faults.add({ match: { path: '/version' }, mode: 'html' });
      const e = await rejectsWith(client.get('/version'), 'UPSTREAM_PROTOCOL');
      assert.match(e.message, /'text\/html' instead of JSON/);
    });

    test('huge (64 MiB, no Content-Length) → UPSTREAM_PROTOCOL at the cap, quickly, memory bounded', async () => {
      const capped = clientFor({}, { maxResponseBytes: 1024 * 1024 });
      sim.faults.add({ match: { path: '/cluster/resources' }, mode: 'huge' });
      const memBefore = process.memoryUsage();
      const started = Date.now();
      const e = await rejectsWith(capped.get('/cluster/resources'), 'UPSTREAM_PROTOCOL');
      const elapsed = Date.now() - started;
      const memAfter = process.memoryUsage();
      assert.match(e.message, /larger than 1048576 bytes/);
      assert.ok(elapsed < 3000, `took ${elapsed} ms`);
      // The simulator streams 64 MiB; reading it all would add far more than this.
      const grown = memAfter.arrayBuffers + memAfter.heapUsed - (memBefore.arrayBuffers + memBefore.heapUsed);
      assert.ok(grown < 32 * 1024 * 1024, `memory grew by ${grown} bytes`);
    });
  });

  describe('TLS', () => {
    test('the right pin connects', async () => {
      assert.equal(typeof (await client.get<PveVersion>('/version')).version, 'string');
    });

    test('a wrong pin → UPSTREAM_TLS naming both fingerprints, and no request reaches the server', async () => {
      const wrong = sim.fingerprint.replace(/^../, sim.fingerprint.startsWith('00') ? '11' : '00');
      const seenBefore = sim.totalRequests;
      const e = await rejectsWith(clientFor({ fingerprint: wrong }).get('/version'), 'UPSTREAM_TLS');
      assert.ok(e.message.includes(wrong) && e.message.includes(sim.fingerprint), e.message);
      assert.match(e.hint ?? '', /proxmox\.fingerprint/);
      assert.equal(sim.totalRequests - seenBefore, 0);
    });

    test('no pin and no CA with verification on → UPSTREAM_TLS (self-signed certificate)', async () => {
      const seenBefore = sim.totalRequests;
      const e = await rejectsWith(clientFor({ fingerprint: undefined }).get('/version'), 'UPSTREAM_TLS');
      assert.match(e.message, /self[- ]signed/i);
      assert.match(e.hint ?? '', /proxmox\.fingerprint.*proxmox\.ca_file/);
      assert.equal(sim.totalRequests - seenBefore, 0);
    });

    test('ca_file = the simulator certificate → verified connection', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pve-ca-'));
      try {
        const caFile = join(dir, 'pve-root-ca.pem');
        writeFileSync(caFile, sim.certPem);
        const version = await clientFor({ fingerprint: undefined, caFile }).get<PveVersion>('/version');
        assert.equal(typeof version.version, 'string');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('an unreadable ca_file → UPSTREAM_TLS at construction, naming the key', () => {
      assert.throws(
        () =>
          new ProxmoxClient(
            simulatorTargetConfig(sim, { fingerprint: undefined, caFile: '/nonexistent/ca.pem' }),
          ),
        (e: unknown) => e instanceof DomainError && e.code === 'UPSTREAM_TLS' && /ENOENT/.test(e.message),
      );
    });

    test('verify_ssl=false (dev mode) connects and logs one loud warning at construction', async () => {
      const warnings: string[] = [];
      const insecure = clientFor(
        { fingerprint: undefined, verifySsl: false },
        { logger: { warn: (_obj, msg) => warnings.push(msg) } },
      );
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /TLS verification is DISABLED/);
      await insecure.get('/version');
      await insecure.get('/cluster/status');
      assert.equal(warnings.length, 1, 'only once, not per request');
    });
  });

  describe('coalescing', () => {
    test('10 concurrent identical GETs → 1 upstream request', async () => {
      sim.faults.add({ match: { path: '/cluster/resources' }, mode: 'latency', latencyMs: 100 });
      const results = await Promise.all(
        Array.from({ length: 10 }, () => client.get<unknown[]>('/cluster/resources', { type: 'vm' })),
      );
      assert.equal(sim.requestCount({ path: '/cluster/resources' }), 1);
      for (const r of results) assert.deepEqual(r, results[0]);
      assert.notEqual(results[1], results[0], 'each caller gets its own copy to mutate');
    });
  });
});
