import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { resultText, simGuest, simRequests, toolCalls, harnessSuite } from '../helpers/tools.js';

// list_pools is docs/architecture.md's worked example of a read tool added inside one domain folder
// (src/modules/cluster): the same method answers MCP and REST, from GET /pools plus the inventory.
describe('list_pools against the schema-checked simulator', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, since } = simRequests(() => h.sim);

  // no inventory cache: each call shows the upstream requests it makes
  harnessSuite(
    () =>
      startHarness({ nodes: 3, guests: 12 }, (sim) =>
        testConfig([simulatorTargetConfig(sim, { inventoryCacheMs: 0 })]),
      ),
    (started, client) => {
      h = started;
      mcp = client;
      simGuest(h.sim, 101).pool = 'prod';
      simGuest(h.sim, 100).pool = 'prod';
      simGuest(h.sim, 104).pool = 'lab';
      h.sim.cluster.pools.get('prod')!.storages.add('local-lvm');
    },
  );

  test('every pool with its guests (by vmid) and storages, in two cluster-wide reads and one per pool', async () => {
    const seq = lastSeq();
    const r = await ok('list_pools');
    assert.deepEqual(
      since(seq)
        .map((q) => `${q.method} ${q.path}`)
        .sort(),
      ['GET /cluster/resources', 'GET /pools', 'GET /pools', 'GET /pools'],
    );
    // the storages of each pool: PVE lists them only in GET /pools?poolid=…
    assert.deepEqual(
      since(seq)
        .filter((q) => q.path === '/pools' && q.query.poolid !== undefined)
        .map((q) => [q.query.poolid, q.query.type].join(' '))
        .sort(),
      ['lab storage', 'prod storage'],
    );
    assert.deepEqual(
      r.pools.map((p: { storages: string[] }) => p.storages),
      [[], ['local-lvm']],
    );
    assert.deepEqual(
      r.pools.map((p: { poolid: string }) => p.poolid),
      ['lab', 'prod'],
    );
    const prod = r.pools.find((p: { poolid: string }) => p.poolid === 'prod');
    assert.deepEqual(
      prod.guests.map((g: { vmid: number }) => g.vmid),
      [100, 101],
    );
    const guest100 = simGuest(h.sim, 100);
    const { name, ...rest } = prod.guests[0];
    assert.deepEqual(rest, { vmid: 100, type: guest100.type, node: guest100.node, status: guest100.status });
    const listed =
      guest100.type === 'lxc' ? (await ok('get_containers')).containers : (await ok('get_vms')).vms;
    const inventoryName = listed.find((v: { vmid: number }) => v.vmid === 100)?.name;
    assert.ok(inventoryName, 'guest 100 has a name in the inventory');
    assert.equal(name, inventoryName);
    assert.equal(r.partial, false);
    assert.equal(r.target, (await ok('get_nodes')).target);
  });

  test('the text names each pool, its guest count and the guests', async () => {
    const text = resultText(await call('list_pools'));
    assert.match(text, /^Resource pools/);
    assert.match(text, /prod: 2 guest\(s\)/);
    assert.match(text, /lab: 1 guest\(s\)/);
    assert.match(text, /prod: 2 guest\(s\), storages: local-lvm/);
    assert.match(text, /\n {2}- 104 \S+ \((qemu|lxc), pve\d, \w+\)/);
  });

  test('REST GET /pools answers the same result as the tool', async () => {
    const rest = await request(h.url).get('/pools').set(h.auth).expect(200);
    assert.deepEqual(rest.body, await ok('list_pools'));
  });

  test('an offline node flags the result partial; its guests stay listed with an unknown status', async () => {
    const node = simGuest(h.sim, 100).node;
    h.sim.cluster.setNodeOnline(node, false);
    try {
      const r = await ok('list_pools');
      assert.equal(r.partial, true);
      assert.deepEqual(r.unavailable_nodes, [node]);
      const prod = r.pools.find((p: { poolid: string }) => p.poolid === 'prod');
      assert.equal(prod.guests.find((g: { vmid: number }) => g.vmid === 100).status, 'unknown');
    } finally {
      h.sim.cluster.setNodeOnline(node, true);
    }
  });

  test('refusals: an unknown argument and an unknown target, before any upstream request', async () => {
    const seq = lastSeq();
    await fails('list_pools', { poolid: 'prod' }, 'VALIDATION', /poolid/);
    await fails('list_pools', { target: 'nowhere' }, 'NOT_FOUND', /nowhere/);
    assert.deepEqual(since(seq), []);
    await request(h.url).get('/pools?verbose=1').set(h.auth).expect(400);
  });

  test('a cluster without pools says so', async () => {
    const saved = new Map(h.sim.cluster.pools);
    h.sim.cluster.pools.clear();
    try {
      const r = await call('list_pools');
      assert.deepEqual(r.structuredContent.pools, []);
      assert.equal(resultText(r), 'No resource pools.');
    } finally {
      for (const [id, pool] of saved) h.sim.cluster.pools.set(id, pool);
    }
  });
});
