import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { DomainError } from '../../src/common/errors/domain-error.js';
import { ProxmoxClient } from '../../src/proxmox/proxmox-client.js';
import { json, ScriptedHttps } from './helpers/scripted-https.js';

describe('ProxmoxClient: coalescing of identical concurrent GETs', () => {
  let upstream: ScriptedHttps;
  let client: ProxmoxClient;
  /** Answers held back until the test releases them. */
  let held: ServerResponse[] = [];
  const release = () => {
    for (const res of held) if (!res.destroyed) json(res, 200, { data: 'shared' });
    held = [];
  };
  const waitForRequests = async (n: number) => {
    for (let i = 0; i < 200 && upstream.requests.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  };

  before(async () => {
    upstream = await ScriptedHttps.start();
    client = new ProxmoxClient(upstream.target());
  });
  afterEach(() => {
    release();
    upstream.reset();
  });
  after(async () => {
    await client.close();
    await upstream.close();
  });

  test('same path and query (in any key order) → one upstream request, every caller gets the answer', async () => {
    upstream.handler = (_req, res) => held.push(res);
    const calls = [
      ...Array.from({ length: 5 }, () => client.get('/cluster/resources', { type: 'vm', full: true })),
      ...Array.from({ length: 5 }, () => client.get('/cluster/resources', { full: true, type: 'vm' })),
    ];
    await waitForRequests(1);
    release();
    assert.deepEqual(await Promise.all(calls), Array(10).fill('shared'));
    assert.equal(upstream.requests.length, 1);
  });

  test('a different query is a different request; mutations are never coalesced', async () => {
    upstream.handler = (_req, res) => json(res, 200, { data: 'x' });
    await Promise.all([
      client.get('/cluster/resources', { type: 'vm' }),
      client.get('/cluster/resources', { type: 'node' }),
      client.post('/nodes/pve1/qemu/100/status/start'),
      client.post('/nodes/pve1/qemu/100/status/start'),
    ]);
    assert.equal(upstream.requests.length, 4);
  });

  test('a settled request is not reused: the next GET goes upstream again', async () => {
    upstream.handler = (_req, res) => json(res, 200, { data: 'x' });
    await client.get('/version');
    await client.get('/version');
    assert.equal(upstream.requests.length, 2);
  });

  test('one caller cancelling does not cancel the others', async () => {
    upstream.handler = (_req, res) => held.push(res);
    const controller = new AbortController();
    const cancelled = client.get('/version', undefined, { signal: controller.signal });
    const kept = client.get('/version');
    await waitForRequests(1);
    controller.abort();
    await assert.rejects(cancelled, (e: unknown) => e instanceof DomainError && /cancelled/.test(e.message));
    release();
    assert.equal(await kept, 'shared');
    assert.equal(upstream.requests.length, 1);
  });

  test('when every caller cancelled, the upstream request is aborted and a new caller starts afresh', async () => {
    upstream.handler = (_req, res) => held.push(res);
    const controller = new AbortController();
    const first = client.get('/nodes', undefined, { signal: controller.signal });
    await waitForRequests(1);
    const upstreamClosed = new Promise((resolve) => held[0].once('close', resolve));
    controller.abort();
    await assert.rejects(first, (e: unknown) => e instanceof DomainError && e.code === 'INTERNAL');
    await upstreamClosed; // the client dropped the connection
    const second = client.get('/nodes');
    await waitForRequests(2);
    release();
    assert.equal(await second, 'shared');
    assert.equal(upstream.requests.length, 2);
  });
});
