import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { resultText, simRequests, toolCalls, harnessSuite } from '../helpers/tools.js';

// The seeded state (src/simulator/cluster-services-state.ts) on 3 nodes: vm 100 on pve1 replicates to pve2 (ok),
// vm 102 on pve3 to pve1 (failing once); SDN zones localnet/vlanzone/overlay (overlay not applied yet) with three
// VNets; pending updates pve1: 1, pve2: 3, pve3: 4; no Ceph.
describe('cluster services (replication, Ceph, SDN, updates) against the schema-checked simulator', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, since } = simRequests(() => h.sim);
  const requests = (seq: number): string[] =>
    since(seq)
      .map((q) => `${q.method} ${q.path}`)
      .sort();

  // no inventory cache: a node taken offline shows at once
  harnessSuite(
    () =>
      startHarness({ nodes: 3, guests: 12 }, (sim) =>
        testConfig([simulatorTargetConfig(sim, { inventoryCacheMs: 0 })]),
      ),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('get_replication_status: every job with its state, from the config and one read per source node', async () => {
    const seq = lastSeq();
    const r = await ok('get_replication_status');
    assert.deepEqual(requests(seq), [
      'GET /cluster/replication',
      'GET /cluster/resources',
      'GET /nodes/pve1/replication',
      'GET /nodes/pve3/replication',
    ]);
    assert.deepEqual(
      r.jobs.map((j: any) => [j.id, j.source_node, j.target_node, j.state, j.fail_count]),
      [
        ['100-0', 'pve1', 'pve2', 'ok', 0],
        ['102-0', 'pve3', 'pve1', 'failing', 1],
      ],
    );
    const [healthy, failing] = r.jobs;
    assert.equal(healthy.guest_type, 'qemu');
    assert.ok(Date.parse(healthy.next_sync) > Date.parse(healthy.last_sync));
    assert.match(failing.error, /zfs recv/);
    assert.deepEqual(r.summary, { total: 2, ok: 1, failing: 1, syncing: 0, disabled: 0, unknown: 0 });
    assert.equal(r.partial, false);
    const text = resultText(await call('get_replication_status'));
    assert.match(text, /^Replication jobs: 2 \(1 ok, 1 failing/);
    assert.match(text, /102-0: pve3 → pve1 every \*\/30 \[failing\].*1 failure\(s\): command 'zfs recv/);
  });

  test('get_replication_status by vmid or node; an offline source node makes its jobs unknown (partial)', async () => {
    let seq = lastSeq();
    const one = await ok('get_replication_status', { vmid: 102 });
    assert.deepEqual(
      one.jobs.map((j: any) => j.id),
      ['102-0'],
    );
    assert.deepEqual(
      since(seq)
        .filter((q) => q.path === '/nodes/pve3/replication')
        .map((q) => q.query.guest),
      ['102'],
    );
    const byNode = await ok('get_replication_status', { node: 'pve1' });
    assert.deepEqual(
      byNode.jobs.map((j: any) => j.id),
      ['100-0'],
    );
    h.sim.cluster.setNodeOnline('pve3', false);
    try {
      const r = await ok('get_replication_status');
      assert.deepEqual(
        r.jobs.map((j: any) => [j.id, j.state]),
        [
          ['100-0', 'ok'],
          ['102-0', 'unknown'],
        ],
      );
      assert.equal(r.partial, true);
      assert.deepEqual(r.unavailable_nodes, ['pve3']);
      // asked for the offline node itself: its failure is the answer
      await fails('get_replication_status', { node: 'pve3' }, 'UPSTREAM_UNAVAILABLE');
    } finally {
      h.sim.cluster.setNodeOnline('pve3', true);
    }
    seq = lastSeq();
    await fails('get_replication_status', { node: 'pve9' }, 'NOT_FOUND', /pve9.*not a member/);
    assert.ok(
      since(seq).every((q) => !q.path.startsWith('/nodes/')),
      'no per-node read for an unknown node',
    );
    await fails('get_replication_status', { vmid: 12 }, 'VALIDATION', /vmid/);
  });

  test('get_ceph_status: a cluster without Ceph says so (not an error); with Ceph, health, checks, OSDs, PGs', async () => {
    const absent = await call('get_ceph_status');
    assert.equal(absent.isError, undefined);
    assert.equal(absent.structuredContent.configured, false);
    assert.deepEqual(absent.structuredContent.checks, []);
    assert.equal(
      resultText(absent),
      'Ceph is not installed or not configured on this cluster (target default).',
    );
    try {
      h.sim.cluster.services.ceph = 'HEALTH_WARN';
      const warn = await ok('get_ceph_status');
      assert.equal(warn.health, 'HEALTH_WARN');
      assert.deepEqual(
        warn.checks.map((c: any) => c.code),
        ['OSD_DOWN', 'PG_DEGRADED'],
      );
      assert.deepEqual(warn.osds, { total: 3, up: 2, in: 3 });
      assert.deepEqual(warn.monitors, { total: 3, quorum: ['pve1', 'pve2', 'pve3'] });
      assert.equal(warn.pgs.total, 129);
      assert.equal(warn.usage.used_percent, 37);
      assert.match(
        resultText(await call('get_ceph_status')),
        /^Ceph health: HEALTH_WARN\n {2}- HEALTH_WARN OSD_DOWN: 1 osds down/,
      );
      h.sim.cluster.services.ceph = 'HEALTH_OK';
      const healthy = await ok('get_ceph_status');
      assert.equal(healthy.health, 'HEALTH_OK');
      assert.deepEqual(healthy.checks, []);
      const rest = await request(h.url).get('/cluster/ceph').set(h.auth).expect(200);
      assert.deepEqual(rest.body, healthy);
    } finally {
      h.sim.cluster.services.ceph = 'absent';
    }
  });

  test('list_sdn_zones and list_sdn_vnets: pending (not applied) objects are marked; filters by type and zone', async () => {
    let seq = lastSeq();
    const zones = await ok('list_sdn_zones');
    assert.deepEqual(requests(seq), ['GET /cluster/sdn/zones']);
    assert.deepEqual(
      zones.zones.map((z: any) => [z.zone, z.type, z.state]),
      [
        ['localnet', 'simple', 'applied'],
        ['overlay', 'vxlan', 'new'],
        ['vlanzone', 'vlan', 'applied'],
      ],
    );
    assert.deepEqual(zones.zones[1].peers, ['10.0.0.11', '10.0.0.12', '10.0.0.13']);
    assert.match(resultText(await call('list_sdn_zones')), /overlay \(vxlan\).* \[new, not applied\]/);
    seq = lastSeq();
    const vlan = await ok('list_sdn_zones', { type: 'vlan' });
    assert.deepEqual(
      vlan.zones.map((z: any) => z.zone),
      ['vlanzone'],
    );
    assert.equal(since(seq)[0].query.type, 'vlan');
    await fails('list_sdn_zones', { type: 'bridge' }, 'VALIDATION', /type/);

    const vnets = await ok('list_sdn_vnets');
    assert.deepEqual(
      vnets.vnets.map((v: any) => [v.vnet, v.zone, v.tag, v.state]),
      [
        ['ovl100', 'overlay', 100000, 'new'],
        ['vnet10', 'vlanzone', 10, 'applied'],
        ['vnet20', 'vlanzone', 20, 'applied'],
      ],
    );
    assert.equal(vnets.vnets[2].vlan_aware, true);
    const inZone = await ok('list_sdn_vnets', { zone: 'vlanzone' });
    assert.deepEqual(
      inZone.vnets.map((v: any) => v.vnet),
      ['vnet10', 'vnet20'],
    );
    const rest = await request(h.url).get('/sdn/vnets?zone=vlanzone').set(h.auth).expect(200);
    assert.deepEqual(rest.body, inZone);
  });

  test('get_node_updates: every online node, or one; an offline node makes the result partial', async () => {
    let seq = lastSeq();
    const all = await ok('get_node_updates');
    assert.deepEqual(requests(seq), [
      'GET /cluster/resources',
      'GET /nodes/pve1/apt/update',
      'GET /nodes/pve2/apt/update',
      'GET /nodes/pve3/apt/update',
    ]);
    assert.deepEqual(
      all.nodes.map((n: any) => [n.node, n.count]),
      [
        ['pve1', 1],
        ['pve2', 3],
        ['pve3', 4],
      ],
    );
    assert.equal(all.total, 8);
    assert.deepEqual(all.nodes[0].packages[0], {
      package: 'openssl',
      current_version: '3.5.1-1',
      new_version: '3.5.1-1+deb13u1',
      origin: 'Debian',
      priority: 'optional',
      section: 'utils',
      title: 'Secure Sockets Layer toolkit - cryptographic utility',
    });
    const one = await ok('get_node_updates', { node: 'pve2' });
    assert.deepEqual(
      one.nodes.map((n: any) => n.node),
      ['pve2'],
    );
    const rest = await request(h.url).get('/updates?node=pve2').set(h.auth).expect(200);
    assert.deepEqual(rest.body, one);
    assert.match(
      resultText(await call('get_node_updates', { node: 'pve2' })),
      /pve-manager 9\.1\.1 → 9\.1\.2 \(Proxmox\)/,
    );

    h.sim.cluster.setNodeOnline('pve3', false);
    try {
      seq = lastSeq();
      const partial = await ok('get_node_updates');
      assert.ok(!requests(seq).includes('GET /nodes/pve3/apt/update'), 'an offline node is not asked');
      assert.equal(partial.partial, true);
      assert.deepEqual(partial.unavailable_nodes, ['pve3']);
      assert.equal(partial.total, 4);
      assert.match(
        resultText(await call('get_node_updates')),
        /Partial result: node\(s\) pve3 did not answer/,
      );
      await fails('get_node_updates', { node: 'pve3' }, 'UPSTREAM_UNAVAILABLE');
    } finally {
      h.sim.cluster.setNodeOnline('pve3', true);
    }
    await fails('get_node_updates', { node: 'pve9' }, 'NOT_FOUND', /pve9/);
    await fails('get_node_updates', { node: '-bad' }, 'VALIDATION', /node/);
    await request(h.url).get('/updates?node=-bad').set(h.auth).expect(400);
  });
});
