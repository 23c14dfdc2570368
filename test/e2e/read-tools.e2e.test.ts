import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { type ToolResult, resultText as text } from '../helpers/tools.js';

const READ_TOOLS = [
  'get_cluster_status',
  'get_container_config',
  'get_container_ip',
  'get_containers',
  'get_next_vmid',
  'get_node_status',
  'get_nodes',
  'get_storage',
  'get_vm_config',
  'get_vms',
  'list_bridges',
  'list_targets',
];

describe('read tools over MCP and REST against the schema-checked simulator', () => {
  let h: Harness;
  let mcp: Client;
  const call = (name: string, args: Record<string, unknown> = {}) =>
    mcp.callTool({ name, arguments: args }) as Promise<ToolResult>;

  before(async () => {
    // this suite counts upstream requests per call and changes the simulator between calls (an offline node, a
    // fault): no inventory cache, so each call shows what it sends (the cache has its own tests in bench-smoke)
    h = await startHarness({ nodes: 3, guests: 12 }, (sim) =>
      testConfig([simulatorTargetConfig(sim, { inventoryCacheMs: 0 })]),
    );
    mcp = await h.mcp();
  });
  after(async () => {
    assert.deepEqual(h.sim.schemaViolations(), [], 'every request the tools sent must pass the PVE schema');
    await h.close();
  });

  test('tools/list advertises every tool with a closed, $ref-free schema; read tools are annotated read-only', async () => {
    const { tools } = await mcp.listTools();
    const names = tools.map((t) => t.name);
    for (const name of READ_TOOLS) assert.ok(names.includes(name), `${name} is listed`);
    for (const tool of tools) {
      assert.ok(tool.description && tool.description.length > 20, `${tool.name} has a description`);
      assert.equal(tool.inputSchema.type, 'object');
      assert.equal(
        (tool.inputSchema as any).additionalProperties,
        false,
        `${tool.name} rejects unknown args`,
      );
      assert.ok(!JSON.stringify(tool.inputSchema).includes('$ref'), `${tool.name} input has no $ref`);
      assert.ok(!JSON.stringify(tool.outputSchema).includes('$ref'), `${tool.name} output has no $ref`);
    }
    for (const tool of tools.filter((t) => READ_TOOLS.includes(t.name))) {
      assert.equal(tool.annotations?.readOnlyHint, true, `${tool.name} is read-only`);
      assert.equal(tool.annotations?.destructiveHint, false);
    }
  });

  test('get_nodes lists every node from one upstream request', async () => {
    const before = h.sim.requests.length;
    const r = await call('get_nodes');
    assert.equal(r.isError, undefined, text(r));
    assert.deepEqual(
      r.structuredContent.nodes.map((n: any) => n.node),
      ['pve1', 'pve2', 'pve3'],
    );
    assert.equal(r.structuredContent.partial, false);
    assert.match(text(r), /^Proxmox nodes\n/);
    assert.equal(h.sim.requests.length - before, 1, 'one /cluster/resources call');
  });

  test('get_vms and get_containers split the inventory by type, from one request each', async () => {
    const before = h.sim.requests.length;
    const vms = await call('get_vms');
    const cts = await call('get_containers', { format_style: 'json' });
    assert.equal(h.sim.requests.length - before, 2);
    assert.ok(vms.structuredContent.vms.length > 0);
    assert.ok(vms.structuredContent.vms.every((v: any) => v.type === 'qemu'));
    assert.ok(cts.structuredContent.containers.length > 0);
    assert.ok(cts.structuredContent.containers.every((c: any) => c.type === 'lxc'));
    assert.equal(vms.structuredContent.total + cts.structuredContent.total, 12);
    assert.ok(Array.isArray(JSON.parse(text(cts))), 'format_style json renders JSON rows');
  });

  test('get_vms pages with limit/offset and says it truncated', async () => {
    const all = (await call('get_vms')).structuredContent;
    const page = (await call('get_vms', { limit: 2, offset: 1 })).structuredContent;
    assert.equal(page.vms.length, Math.min(2, all.total - 1));
    assert.equal(page.vms[0].vmid, all.vms[1].vmid);
    assert.equal(page.truncated, all.total > 3);
  });

  test('config, IP, node status, cluster status, storage, bridges, next vmid all answer', async () => {
    const vms = (await call('get_vms')).structuredContent.vms;
    const cts = (await call('get_containers', { status: 'running' })).structuredContent.containers;
    const vmConfig = await call('get_vm_config', { node: vms[0].node, vmid: vms[0].vmid });
    assert.equal(vmConfig.isError, undefined, text(vmConfig));
    assert.ok(vmConfig.structuredContent.digest);
    const ctConfig = await call('get_container_config', { node: cts[0].node, vmid: String(cts[0].vmid) });
    assert.equal(ctConfig.structuredContent.type, 'lxc');
    const ip = await call('get_container_ip', { node: cts[0].node, vmid: cts[0].vmid });
    assert.equal(ip.isError, undefined, text(ip));
    assert.match(ip.structuredContent.primary_ip, /^\d+\.\d+\.\d+\.\d+$/);
    const status = await call('get_node_status', { node: 'pve1' });
    assert.equal(status.structuredContent.status, 'online');
    assert.ok(status.structuredContent.cpu_cores > 0, 'real PVE keys are read (reference bug #9)');
    const cluster = await call('get_cluster_status');
    assert.equal(cluster.structuredContent.quorum, 'OK');
    assert.equal(cluster.structuredContent.nodes_total, 3);
    const storage = await call('get_storage');
    const shared = storage.structuredContent.storages.filter((s: any) => s.shared);
    assert.ok(
      shared.length > 0 && shared.every((s: any) => s.nodes.length === 3),
      'shared storage listed once',
    );
    const bridges = await call('list_bridges');
    assert.ok(bridges.structuredContent.bridges.some((b: any) => b.iface === 'vmbr0'));
    const next = await call('get_next_vmid');
    assert.ok(Number.isInteger(next.structuredContent.vmid) && next.structuredContent.vmid >= 100);
    const targets = await call('list_targets');
    assert.equal(targets.structuredContent.targets[0].reachable, true);
    assert.ok(!JSON.stringify(targets).includes(h.sim.token.secret), 'token secret never shown');
  });

  test('REST routes return the same DTOs, and POST /{tool_name} works for reference scripts', async () => {
    const rest = await request(h.url).get('/vms').set(h.auth).expect(200);
    const mcpResult = await call('get_vms');
    // uptime moves on by a second between the two calls when they straddle a second boundary
    const steady = (body: { vms: Array<Record<string, unknown>> }) => ({
      ...body,
      vms: body.vms.map(({ uptime_seconds: _uptime, ...vm }) => vm),
    });
    assert.deepEqual(steady(rest.body), steady(mcpResult.structuredContent));
    assert.ok(rest.body.vms.some((vm: { uptime_seconds?: number }) => (vm.uptime_seconds ?? 0) > 0));
    const legacy = await request(h.url).post('/get_nodes').set(h.auth).send({}).expect(200);
    assert.equal(legacy.body.nodes.length, 3);
    await request(h.url).get('/nodes/pve1/status').set(h.auth).expect(200);
  });

  test('bad arguments are refused before any upstream request, with the field named', async () => {
    const before = h.sim.requests.length;
    for (const vmid of ['100/../../access/users', '0100', '99', 100.5, '1e3', ' 100']) {
      const r = await call('get_vm_config', { node: 'pve1', vmid });
      assert.equal(r.isError, true, `vmid ${JSON.stringify(vmid)} refused`);
      assert.match(text(r), /vmid must be a Proxmox VM\/CT ID/);
    }
    const badNode = await call('get_node_status', { node: 'pve/../../cluster' });
    assert.match(text(badNode), /node must be a Proxmox node name/);
    const unknown = await call('get_nodes', { force: true });
    assert.match(text(unknown), /unknown argument 'force'/);
    assert.equal(h.sim.requests.length - before, 0, 'nothing reached Proxmox');
    // A __proto__ key is dropped or refused, never merged into objects (C5).
    await mcp.callTool({ name: 'get_nodes', arguments: JSON.parse('{"__proto__":{"polluted":1}}') });
    await request(h.url)
      .post('/get_nodes')
      .set(h.auth)
      .set('content-type', 'application/json')
      .send('{"__proto__":{"polluted":1}}');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);

    const rest = await request(h.url).get('/nodes/pve1/vms/0100/config').set(h.auth).expect(400);
    assert.equal(rest.body.code, 'VALIDATION');
    assert.match(rest.body.message, /vmid/);
    await request(h.url).get('/vms?purge=1').set(h.auth).expect(400);
    await request(h.url).get('/containers?include_stats=yes').set(h.auth).expect(400);
  });

  test('an unknown tool is a protocol error, not a result', async () => {
    await assert.rejects(() => mcp.callTool({ name: 'no_such_tool', arguments: {} }), /Unknown tool/);
  });

  test('a missing VM maps to NOT_FOUND with a next step', async () => {
    const r = await call('get_vm_config', { node: 'pve1', vmid: 999999 });
    assert.equal(r.isError, true);
    assert.match(text(r), /NOT_FOUND/);
    const rest = await request(h.url).get('/nodes/pve1/vms/999999/config').set(h.auth).expect(404);
    assert.equal(rest.body.code, 'UPSTREAM_NOT_FOUND');
  });

  test('an offline node degrades the inventory (flagged partial) instead of failing it', async () => {
    h.sim.cluster.setNodeOnline('pve2', false);
    try {
      const vms = await call('get_vms');
      assert.equal(vms.isError, undefined, text(vms));
      assert.equal(vms.structuredContent.partial, true);
      assert.deepEqual(vms.structuredContent.unavailable_nodes, ['pve2']);
      const status = await call('get_node_status', { node: 'pve2' });
      assert.equal(status.isError, undefined, text(status));
      assert.equal(status.structuredContent.partial, true);
      assert.equal(status.structuredContent.status, 'offline');
      const bridges = await call('list_bridges');
      assert.deepEqual(bridges.structuredContent.unavailable_nodes, ['pve2']);
    } finally {
      h.sim.cluster.setNodeOnline('pve2', true);
    }
  });

  test('upstream faults become clear tool errors, never crashes', async () => {
    const id = h.sim.faults.add({
      match: { path: '/cluster/resources' },
      mode: 'status',
      status: 500,
      times: 10,
    });
    try {
      const r = await call('get_vms');
      assert.equal(r.isError, true);
      assert.match(text(r), /UPSTREAM_ERROR/);
    } finally {
      h.sim.faults.clear();
    }
    assert.ok(id !== undefined);
    h.sim.faults.add({ match: { path: '/cluster/resources' }, mode: 'bad-json', times: 10 });
    try {
      const r = await call('get_nodes');
      assert.match(text(r), /UPSTREAM_PROTOCOL/);
      await request(h.url).get('/nodes').set(h.auth).expect(502);
    } finally {
      h.sim.faults.clear();
    }
  });
});
