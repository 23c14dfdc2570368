import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PveSimulator } from '../../src/simulator/index.js';
import { guestRrd, nodeRrd } from '../../src/simulator/rrd-series.js';
import { refusedWith500, simulatorApiSuite, type Json, type SimClient } from '../helpers/sim-client.js';

// The simulator's RRD history: PVE 9's field names, 70 rows per timeframe at PVE's steps, MAX at or above AVERAGE,
// zeros for a stopped guest, and PVE's refusals.
describe('simulator rrddata (nodes, guests, storages)', () => {
  let sim: PveSimulator;
  let api: SimClient;
  simulatorApiSuite({ nodes: 3, guests: 12 }, (s) => ({ sim, api } = s));

  test('70 rows per timeframe at 60 s, 30 min, 3 h, 12 h and a week, ending at the last full step', async () => {
    for (const [timeframe, step] of [
      ['hour', 60],
      ['day', 1800],
      ['week', 10800],
      ['month', 43200],
      ['year', 604800],
    ] as const) {
      const rows: Json[] = await api.data(`/nodes/pve1/rrddata?timeframe=${timeframe}`);
      assert.equal(rows.length, 70, timeframe);
      assert.equal(rows[1].time - rows[0].time, step, timeframe);
      assert.equal(rows[69].time % step, 0);
      assert.ok(rows[69].time <= Date.now() / 1000 && rows[69].time > Date.now() / 1000 - step);
    }
  });

  test("a node's rows carry pve-node-9.0's data sources, pressure included", async () => {
    const [row]: Json[] = await api.data('/nodes/pve2/rrddata?timeframe=hour');
    for (const key of [
      'time',
      'cpu',
      'maxcpu',
      'iowait',
      'loadavg',
      'memtotal',
      'memused',
      'memavailable',
      'swaptotal',
      'swapused',
      'roottotal',
      'rootused',
      'netin',
      'netout',
      'arcsize',
      'pressurecpusome',
      'pressureiosome',
      'pressureiofull',
      'pressurememorysome',
      'pressurememoryfull',
    ]) {
      assert.equal(typeof row[key], 'number', key);
    }
    assert.equal(row.memtotal, sim.cluster.node('pve2')!.memTotal);
  });

  test('deterministic per entity and time; cf=MAX is at or above AVERAGE', () => {
    const node = sim.cluster.node('pve1')!;
    const now = Date.UTC(2026, 0, 1, 12);
    assert.deepEqual(nodeRrd(node, 4e9, 'day', 'AVERAGE', now), nodeRrd(node, 4e9, 'day', 'AVERAGE', now));
    const avg = nodeRrd(node, 4e9, 'day', 'AVERAGE', now);
    const max = nodeRrd(node, 4e9, 'day', 'MAX', now);
    avg.forEach((row, i) => assert.ok(max[i].cpu >= row.cpu, `row ${i}`));
    const guest = [...sim.cluster.guests()].find((g) => g.status === 'running')!;
    assert.deepEqual(guestRrd(guest, 'hour', 'AVERAGE', now), guestRrd(guest, 'hour', 'AVERAGE', now));
    assert.notDeepEqual(
      guestRrd(guest, 'hour', 'AVERAGE', now).map((r) => r.cpu),
      guestRrd(guest, 'hour', 'AVERAGE', now + 3600_000).map((r) => r.cpu),
    );
  });

  test('guests: pve-vm-9.0 rows; a stopped guest has zeros', async () => {
    const running = [...sim.cluster.guests()].find((g) => g.status === 'running' && g.type === 'lxc')!;
    const [row]: Json[] = await api.data(
      `/nodes/${running.node}/lxc/${running.vmid}/rrddata?timeframe=day&cf=MAX`,
    );
    for (const key of ['cpu', 'maxcpu', 'mem', 'maxmem', 'memhost', 'disk', 'maxdisk', 'netin', 'netout']) {
      assert.equal(typeof row[key], 'number', key);
    }
    for (const key of ['diskread', 'diskwrite', 'pressurecpufull', 'pressureiosome', 'pressurememoryfull']) {
      assert.equal(typeof row[key], 'number', key);
    }
    const stopped = [...sim.cluster.guests()].find((g) => g.status === 'stopped')!;
    const rows: Json[] = await api.data(
      `/nodes/${stopped.node}/${stopped.type}/${stopped.vmid}/rrddata?timeframe=hour`,
    );
    assert.ok(rows.every((r) => r.cpu === 0 && r.mem === 0 && r.netin === 0 && r.diskwrite === 0));
  });

  test('storages: total and used per node; a storage the node does not have has no RRD file', async () => {
    const rows: Json[] = await api.data('/nodes/pve1/storage/local-lvm/rrddata?timeframe=week');
    assert.equal(rows.length, 70);
    assert.ok(rows.every((r) => r.used <= r.total && r.total > 0));
    await refusedWith500(
      api.get('/nodes/pve1/storage/nope/rrddata?timeframe=hour'),
      /RRD error: opening '\/var\/lib\/rrdcached\/db\/pve-storage-9.0\/pve1\/nope': No such file or directory/,
    );
    await refusedWith500(
      api.get('/nodes/pve1/qemu/999/rrddata?timeframe=hour'),
      /RRD error: opening '\/var\/lib\/rrdcached\/db\/pve-vm-9.0\/999'/,
    );
  });

  test("an offline node's history is still served: rrddata reads the cluster-wide RRD cache, not the node", async () => {
    sim.cluster.setNodeOnline('pve3', false);
    try {
      const rows: Json[] = await api.data('/nodes/pve3/rrddata?timeframe=hour');
      assert.equal(rows.length, 70);
    } finally {
      sim.cluster.setNodeOnline('pve3', true);
    }
  });
});
