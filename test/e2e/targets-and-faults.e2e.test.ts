import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { PveSimulator, simulatorTargetConfig } from '../../src/simulator/index.js';
import { SCHEMA_PATH, startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { type ToolResult, resultText as text } from '../helpers/tools.js';

/** A port where nothing answers: connections are refused. */
async function closedPort(): Promise<number> {
  const srv: Server = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('several targets, an unreachable one, and a misbehaving one', () => {
  let h: Harness;
  let lab: PveSimulator;
  let mcp: Client;
  const call = (name: string, args: Record<string, unknown> = {}) =>
    mcp.callTool({ name, arguments: args }) as Promise<ToolResult>;

  before(async () => {
    lab = await PveSimulator.start({ schemaPath: SCHEMA_PATH, nodes: 1, standalone: true, guests: 2 });
    const downPort = await closedPort();
    h = await startHarness({ nodes: 3 }, (sim) =>
      testConfig([
        // faults are injected between calls: no inventory cache, so every call meets them
        simulatorTargetConfig(sim, { name: 'prod', timeoutMs: 1500, inventoryCacheMs: 0 }),
        simulatorTargetConfig(lab, { name: 'lab', readOnly: true }),
        { ...simulatorTargetConfig(sim, { name: 'down' }), port: downPort, timeoutMs: 1500 },
        simulatorTargetConfig(sim, { name: 'badtoken', tokenValue: 'canary-wrong-secret-1234' }),
      ]),
    );
    mcp = await h.mcp();
  });
  after(async () => {
    await h.close();
    assert.deepEqual(lab.schemaViolations(), []);
    await lab.stop();
  });

  test('with several targets, `target` is required and named in the error', async () => {
    const r = await call('get_nodes');
    assert.equal(r.isError, true);
    assert.match(text(r), /target is required.*prod, lab, down, badtoken/);
    const unknown = await call('get_nodes', { target: 'nope' });
    assert.match(text(unknown), /Unknown target .nope.; configured targets: prod/);
  });

  test('each target answers for itself; a standalone node is not "quorum lost"', async () => {
    const prod = await call('get_nodes', { target: 'prod' });
    assert.equal(prod.structuredContent.nodes.length, 3);
    const lab = await call('get_cluster_status', { target: 'lab' });
    assert.equal(lab.structuredContent.standalone, true);
    assert.equal(lab.structuredContent.quorum, 'n/a');
    assert.match(text(lab), /standalone node/);
    assert.doesNotMatch(text(lab), /NOT OK/);
  });

  test('list_targets shows every target with reachability, never a secret', async () => {
    const r = await call('list_targets');
    const byName = Object.fromEntries(r.structuredContent.targets.map((t: any) => [t.name, t]));
    assert.equal(byName.prod.reachable, true);
    assert.equal(byName.lab.read_only, true);
    assert.equal(byName.down.reachable, false);
    assert.match(byName.down.error, /UPSTREAM_UNAVAILABLE/);
    assert.equal(byName.badtoken.reachable, false);
    assert.match(byName.badtoken.error, /UPSTREAM_AUTH/);
    assert.ok(!JSON.stringify(r).includes('canary-wrong-secret'));
  });

  test('an unreachable PVE is UPSTREAM_UNAVAILABLE and makes /readyz 503', async () => {
    const r = await call('get_vms', { target: 'down' });
    assert.equal(r.isError, true);
    assert.match(text(r), /UPSTREAM_UNAVAILABLE/);
    const ready = await request(h.url).get('/readyz').set(h.auth).expect(503);
    assert.equal(ready.body.status, 'unavailable');
  });

  test('a rejected token is UPSTREAM_AUTH and the secret never appears', async () => {
    const r = await call('get_vms', { target: 'badtoken' });
    assert.match(text(r), /UPSTREAM_AUTH/);
    assert.ok(!text(r).includes('canary-wrong-secret'));
    const rest = await request(h.url).get('/vms?target=badtoken').set(h.auth).expect(502);
    assert.ok(!JSON.stringify(rest.body).includes('canary-wrong-secret'));
  });

  test('a hanging PVE is cut at the per-call deadline (TIMEOUT), and the server stays responsive', async () => {
    h.sim.faults.add({ match: { path: '/cluster/resources' }, mode: 'hang', times: 5 });
    try {
      const started = Date.now();
      const r = await call('get_vms', { target: 'prod' });
      assert.match(text(r), /TIMEOUT/);
      assert.ok(Date.now() - started < 10_000);
      await request(h.url).get('/livez').expect(200);
    } finally {
      h.sim.faults.clear();
    }
  });

  test('a 503 on a GET is retried and succeeds; HTML and truncated bodies are protocol errors', async () => {
    h.sim.faults.add({ match: { path: '/cluster/resources' }, mode: 'status', status: 503, times: 1 });
    const ok = await call('get_vms', { target: 'prod' });
    assert.equal(ok.isError, undefined, text(ok));
    for (const mode of ['html', 'truncated'] as const) {
      h.sim.faults.add({ match: { path: '/cluster/resources' }, mode, times: 5 });
      const r = await call('get_vms', { target: 'prod' });
      h.sim.faults.clear();
      assert.match(text(r), /UPSTREAM_PROTOCOL|UPSTREAM_UNAVAILABLE/, mode);
    }
  });
});
