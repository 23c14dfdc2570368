import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openScenarioTarget, type ScenarioTarget } from './harness.js';

// Story: an operator new to the cluster looks around before changing anything — quorum and nodes, the guests,
// the storage — through an MCP client and through REST, and the two agree. Looking creates no job.
describe('scenario: inspect the cluster (MCP and REST)', () => {
  let t: ScenarioTarget;
  before(async () => (t = await openScenarioTarget()));
  after(() => t?.close());

  test('the inspection tools are listed, read-only', async () => {
    const { tools } = await t.ops.mcp.listTools();
    for (const name of ['get_cluster_status', 'get_nodes', 'get_vms', 'get_storage']) {
      const tool = tools.find((x) => x.name === name);
      assert.ok(tool, `${name} is listed`);
      assert.equal(tool.annotations?.readOnlyHint, true, `${name} is read-only`);
    }
  });

  test('cluster status and the node list describe the same nodes, all accounted for', async () => {
    const status = await t.ops.tool('get_cluster_status');
    const nodes = await t.ops.tool('get_nodes');
    assert.equal(status.target, t.target);
    assert.ok(status.nodes_total >= 1);
    assert.ok(status.nodes_online >= 1 && status.nodes_online <= status.nodes_total);
    if (!status.standalone) assert.equal(status.quorum, status.quorate ? 'OK' : 'NOT OK');
    const names = (list: Array<{ node?: string; name?: string }>) => list.map((n) => n.node ?? n.name).sort();
    assert.deepEqual(names(nodes.nodes), names(status.nodes));
    assert.equal(nodes.partial, false, 'every node answered');
    for (const n of nodes.nodes) {
      assert.ok(['online', 'offline', 'unknown'].includes(n.status), `${n.node}: ${n.status}`);
      if (n.status === 'online') assert.ok(n.memory.total_bytes > 0, `${n.node} reports its memory`);
    }
    assert.ok(
      nodes.nodes.some((n: { node: string }) => n.node === t.node),
      'the scenario node is listed',
    );

    const rest = await t.ops.rest('GET', '/nodes');
    assert.equal(rest.status, 200);
    assert.deepEqual(names(rest.body.nodes), names(nodes.nodes));
    const restStatus = await t.ops.rest('GET', '/cluster/status');
    assert.equal(restStatus.status, 200);
    assert.equal(restStatus.body.nodes_total, status.nodes_total);
  });

  test('the VM inventory: every entry a QEMU guest on a known node, the same over REST', async () => {
    const nodes = (await t.ops.tool('get_nodes')).nodes.map((n: { node: string }) => n.node);
    const vms = await t.ops.tool('get_vms', { limit: 500 });
    assert.equal(vms.vms.length, Math.min(vms.total, 500));
    for (const vm of vms.vms) {
      assert.equal(vm.type, 'qemu');
      assert.ok(nodes.includes(vm.node), `VM ${vm.vmid} is on a known node (${vm.node})`);
      assert.ok(Number.isInteger(vm.vmid) && vm.vmid >= 100);
    }
    const rest = await t.ops.rest('GET', '/vms?limit=500');
    assert.equal(rest.status, 200);
    // a live cluster may change between two calls; the shape and the target do not
    assert.equal(typeof rest.body.total, 'number');
    assert.ok(rest.body.vms.every((v: { type: string }) => v.type === 'qemu'));
    const running = await t.ops.tool('get_vms', { status: 'running', limit: 500 });
    assert.ok(running.vms.every((v: { status: string }) => v.status === 'running'));
  });

  test('storage: a shared storage once with all its nodes, a local one per node; the same over REST', async () => {
    const storage = await t.ops.tool('get_storage');
    assert.ok(storage.storages.length > 0, 'the cluster has storage');
    type Row = { storage: string; shared: boolean; nodes: string[]; usage: { total_bytes: number } };
    const rows = storage.storages as Row[];
    const key = (s: Row) => (s.shared ? s.storage : `${s.storage}@${s.nodes.join(',')}`);
    const keys = rows.map(key);
    assert.equal(new Set(keys).size, keys.length, `no storage is listed twice: ${keys.join(' ')}`);
    for (const s of rows) {
      assert.ok(s.nodes.length >= 1, `${s.storage} names its nodes`);
      if (!s.shared) assert.equal(s.nodes.length, 1, `local storage ${s.storage} is one row per node`);
    }
    if (t.storage) {
      assert.ok(
        rows.some((s) => s.storage === t.storage && s.nodes.includes(t.node)),
        `the scenario storage ${t.storage} exists on ${t.node}`,
      );
    }
    const rest = await t.ops.rest('GET', '/storage');
    assert.equal(rest.status, 200);
    assert.deepEqual((rest.body.storages as Row[]).map(key).sort(), [...keys].sort());
  });

  test('looking changed nothing: no job was recorded', async () => {
    const jobs = await t.ops.tool('list_jobs');
    assert.equal(jobs.total, 0, JSON.stringify(jobs.jobs.map((j: { tool_name: string }) => j.tool_name)));
  });
});
