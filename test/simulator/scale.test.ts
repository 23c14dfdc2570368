import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, type Json } from '../helpers/sim-client.js';

describe('simulator: scale', () => {
  test('32 nodes and 5000 guests start fast and /cluster/resources lists them all', async () => {
    const started = Date.now();
    const { sim, api, close } = await startSim({ nodes: 32, guests: 5000 });
    try {
      const startMs = Date.now() - started;
      assert.ok(startMs < 3_000, `started in ${startMs} ms`);
      const t0 = Date.now();
      const items: Json[] = await api.data('/cluster/resources');
      const ms = Date.now() - t0;
      const guests = items.filter((i) => i.type === 'qemu' || i.type === 'lxc');
      assert.equal(guests.length, 5000);
      assert.equal(items.filter((i) => i.type === 'node').length, 32);
      assert.ok(ms < 2_000, `/cluster/resources took ${ms} ms`);
      assert.equal(new Set(guests.map((g) => g.vmid)).size, 5000);
      const last = sim.cluster.guest(5099)!;
      const config = await api.data(`/nodes/${last.node}/${last.type}/5099/config`);
      assert.ok(config.digest);
      assert.equal(await api.data('/cluster/nextid'), '5100');
      const lxcIps = [...sim.cluster.guests()].filter((g) => g.type === 'lxc').map((g) => g.ipv4);
      assert.equal(new Set(lxcIps).size, lxcIps.length, 'container addresses are unique');
    } finally {
      await close();
    }
  });
});
