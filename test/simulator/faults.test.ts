import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { SCHEMA_PATH, simulatorApiSuite, SimClient, type Json } from '../helpers/sim-client.js';
import { PveSimulator } from '../../src/simulator/index.js';

describe('simulator: fault modes', () => {
  let sim: PveSimulator;
  let api: SimClient;

  simulatorApiSuite({}, (started) => ({ sim, api } = started));

  test('latency delays the normal answer', async () => {
    sim.faults.add({ match: { path: '/version' }, mode: 'latency', latencyMs: 300, times: 1 });
    const started = Date.now();
    const res = await api.get('/version');
    assert.equal(res.status, 200);
    assert.ok(Date.now() - started >= 290, 'delayed');
    const fast = Date.now();
    await api.get('/version');
    assert.ok(Date.now() - fast < 250, 'times: 1 expired');
  });

  test('status answers a PVE-style error with Retry-After, `times` times, only on matching requests', async () => {
    const id = sim.faults.add({
      match: { method: 'GET', path: '/cluster/resources' },
      mode: 'status',
      status: 503,
      message: 'service unavailable - try again',
      retryAfterSeconds: 2,
      times: 2,
    });
    assert.equal(typeof id, 'number');
    assert.equal((await api.get('/version')).status, 200, 'other paths unaffected');
    for (let i = 0; i < 2; i++) {
      const res = await api.get('/cluster/resources?type=node');
      assert.equal(res.status, 503);
      assert.equal(res.reason, 'service unavailable - try again');
      assert.equal(res.headers['retry-after'], '2');
      assert.deepEqual(res.json, { data: null, message: 'service unavailable - try again\n' });
    }
    assert.equal((await api.get('/cluster/resources?type=node')).status, 200, 'expired after 2');
    assert.equal(sim.requests.at(-2)?.fault, 'status');
  });

  test('a RegExp path matches many paths; clear() removes every fault', async () => {
    sim.faults.add({ match: { path: /^\/nodes\/pve1\// }, mode: 'status', status: 500 });
    assert.equal((await api.get('/nodes/pve1/status')).status, 500);
    assert.equal((await api.get('/nodes/pve1/qemu')).reason, 'Internal Server Error');
    assert.equal((await api.get('/nodes/pve2/status')).status, 200);
    sim.faults.clear();
    assert.equal((await api.get('/nodes/pve1/status')).status, 200);
  });

  test('reset destroys the connection', async () => {
    sim.faults.add({ match: { path: '/version' }, mode: 'reset', times: 1 });
    await assert.rejects(api.get('/version'), (e: Json) =>
      /socket|closed|reset/i.test(`${e.code} ${e.message}`),
    );
  });

  test('bad-json and html answer 200 with bodies that are not PVE JSON', async () => {
    sim.faults.add({ match: { path: '/version' }, mode: 'bad-json', times: 1 });
    const bad = await api.get('/version');
    assert.equal(bad.status, 200);
    assert.throws(() => JSON.parse(bad.text));
    sim.faults.add({ match: { path: '/version' }, mode: 'html', times: 1 });
    const html = await api.get('/version');
    assert.equal(html.status, 200);
    assert.match(String(html.headers['content-type']), /^text\/html/);
    assert.match(html.text, /^<!DOCTYPE html>/);
  });

  test('huge streams a valid ~64 MiB JSON body', async () => {
    sim.faults.add({ match: { path: '/cluster/resources' }, mode: 'huge', times: 1 });
    const res = await request(`${sim.url}/api2/json/cluster/resources`, {
      dispatcher: api.agent,
      headers: { authorization: sim.authorization },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-length'], undefined, 'streamed, no length announced');
    const text = await res.body.text();
    assert.ok(text.length >= 64 * 1024 * 1024, `got ${text.length} bytes`);
    const parsed = JSON.parse(text);
    assert.ok(Array.isArray(parsed.data) && parsed.data.length > 60_000);
  });

  test('truncated announces more bytes than it sends, then closes', async () => {
    sim.faults.add({ match: { path: '/version' }, mode: 'truncated', times: 1 });
    await assert.rejects(api.get('/version'));
  });

  test('hang never answers, and does not keep the simulator from stopping', async () => {
    const own = await PveSimulator.start({ schemaPath: SCHEMA_PATH });
    const client = new SimClient(own);
    own.faults.add({ mode: 'hang' });
    const pending = client.get('/version', { signal: AbortSignal.timeout(5_000) });
    const outcome = pending.then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(own.requests.length, 1);
    assert.equal(own.requests[0].status, 0, 'still unanswered');
    const stopStarted = Date.now();
    await own.stop();
    assert.ok(Date.now() - stopStarted < 1_000, 'stop() does not wait for the hanging request');
    assert.equal(await outcome, 'failed');
    await client.close();
  });

  test('invalid fault specs are refused', () => {
    assert.throws(() => sim.faults.add({ mode: 'explode' as never }), /fault mode must be one of/);
    assert.throws(() => sim.faults.add({ mode: 'status', status: 42 }), /status/);
    assert.throws(() => sim.faults.add({ mode: 'latency', latencyMs: -1 }), /latencyMs/);
  });
});

describe('simulator: HTTP control surface /_simulator', () => {
  let sim: PveSimulator;
  let api: SimClient;

  simulatorApiSuite({}, (started) => ({ sim, api } = started));

  test('needs the token', async () => {
    assert.equal((await api.get('/_simulator/requests', { auth: false })).status, 401);
  });

  test('POST/GET/DELETE /_simulator/faults manage faults; GET /_simulator/requests?since=N lists requests', async () => {
    const added = await api.postJson('/_simulator/faults', {
      match: { path: '/version' },
      mode: 'status',
      status: 502,
      times: 1,
    });
    assert.equal(added.status, 200);
    assert.equal(typeof added.json.data.id, 'number');
    const listed = await api.get('/_simulator/faults');
    assert.equal(listed.json.data.length, 1);
    assert.equal((await api.get('/version')).status, 502);
    await api.postJson('/_simulator/faults', {
      match: { pathPattern: '^/nodes/' },
      mode: 'status',
      status: 500,
    });
    assert.equal((await api.get('/nodes/pve1/status')).status, 500);
    assert.equal((await api.call('/_simulator/faults', { method: 'DELETE' })).status, 200);
    assert.equal((await api.get('/nodes/pve1/status')).status, 200);

    const bad = await api.postJson('/_simulator/faults', { mode: 'nope' });
    assert.equal(bad.status, 400);

    const all = await api.get('/_simulator/requests');
    const lastSeq = all.json.data.at(-1).seq;
    assert.ok(
      all.json.data.every((r: Json) => !r.path.startsWith('/_simulator')),
      'control calls are not recorded',
    );
    await api.get('/cluster/nextid');
    const since = await api.get(`/_simulator/requests?since=${lastSeq}`);
    assert.deepEqual(
      since.json.data.map((r: Json) => [r.method, r.path, r.status]),
      [['GET', '/cluster/nextid', 200]],
    );
    assert.equal(since.json.total, sim.totalRequests);
  });
});

describe('simulator: offline node', () => {
  let sim: PveSimulator;
  let api: SimClient;

  simulatorApiSuite({}, (started) => {
    ({ sim, api } = started);
    sim.cluster.setNodeOnline('pve2', false);
  });

  test('calls proxied to the node fail with 595, before parameter checks (those run on the target)', async () => {
    for (const path of ['/nodes/pve2/status', '/nodes/pve2/qemu', '/nodes/pve2/network?type=bogus']) {
      const res = await api.get(path);
      assert.equal(res.status, 595, path);
      assert.equal(res.reason, 'Connection refused');
    }
    const post = await api.post('/nodes/pve2/lxc/101/status/stop');
    assert.equal(post.status, 595);
  });

  test('the cluster view shows the node offline and its guests unknown', async () => {
    const items: Json[] = await api.data('/cluster/resources');
    assert.equal(items.find((i) => i.id === 'node/pve2').status, 'offline');
    const guests = items.filter((i) => (i.type === 'qemu' || i.type === 'lxc') && i.node === 'pve2');
    assert.ok(guests.length > 0);
    assert.ok(guests.every((g) => g.status === 'unknown'));
    assert.ok(
      items.filter((i) => i.type === 'storage' && i.node === 'pve2').every((s) => s.status === 'unknown'),
    );
    const nodes: Json[] = await api.data('/nodes');
    assert.equal(nodes.find((n) => n.node === 'pve2').status, 'offline');
    const status: Json[] = await api.data('/cluster/status');
    assert.equal(status.find((s) => s.name === 'pve2').online, 0);
    assert.equal(status[0].quorate, 1, '2 of 3 nodes keep quorum');
  });

  test('coming back online restores it', async () => {
    sim.cluster.setNodeOnline('pve2', true);
    assert.equal((await api.get('/nodes/pve2/status')).status, 200);
    assert.throws(() => sim.cluster.setNodeOnline('pve9', false), /no node 'pve9'/);
  });
});
