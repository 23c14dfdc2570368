import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatorApiSuite, type SimClient, type Json } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

/**
 * The endpoints the 0.6 guest tools need: GET /pools (manager API2/Pool.pm), POST /nodes/{node}/lxc/{vmid}/clone
 * (pve-container API2/LXC.pm clone_vm, a `vzclone` task) and the guests' firewall logs (pve-firewall
 * API2/Firewall/VM.pm log). Seeded (3 nodes, 12 guests): CT 101 pve2 running, CT 103 pve1 stopped, VM 100 pve1;
 * pools prod and lab.
 */
describe('simulator: pools, container clone, guest firewall logs', () => {
  let sim: PveSimulator;
  let api: SimClient;
  const config = (node: string, vmid: number): Promise<Json> => api.data(`/nodes/${node}/lxc/${vmid}/config`);

  simulatorApiSuite({}, (started) => ({ sim, api } = started));

  test('GET /pools lists the pools; with poolid, its guest members; an unknown pool is refused', async () => {
    assert.deepEqual(await api.data('/pools'), [{ poolid: 'lab' }, { poolid: 'prod' }]);
    sim.cluster.guest(103)!.pool = 'lab';
    const [lab] = await api.data('/pools?poolid=lab');
    assert.equal(lab.poolid, 'lab');
    assert.deepEqual(
      lab.members.map((m: Json) => [m.id, m.node, m.type, m.vmid]),
      [['lxc/103', 'pve1', 'lxc', 103]],
    );
    const none = await api.get('/pools?poolid=nope');
    assert.equal(none.status, 500);
    assert.match(none.reason, /pool 'nope' does not exist/);
    sim.cluster.guest(103)!.pool = undefined;
  });

  test('lxc clone: a stopped container is copied in full (new MAC, same addresses), into a pool', async () => {
    const before = await config('pve1', 103);
    const res = await api.post('/nodes/pve1/lxc/103/clone', { newid: '903', hostname: 'copy', pool: 'prod' });
    assert.match(res.json.data, /^UPID:pve1:[0-9A-F]+:[0-9A-F]+:[0-9A-F]+:vzclone:103:/);
    assert.equal((await api.task(res)).exitstatus, 'OK');
    const clone = await config('pve1', 903);
    assert.equal(clone.hostname, 'copy');
    assert.match(clone.rootfs, /^local-lvm:vm-903-disk-0,size=/);
    const mac = (net: string) => /hwaddr=([^,]+)/.exec(net)?.[1];
    assert.notEqual(mac(clone.net0), mac(before.net0));
    assert.equal(clone.net0.replace(/hwaddr=[^,]+/, ''), before.net0.replace(/hwaddr=[^,]+/, ''));
    assert.equal(sim.cluster.guest(903)?.pool, 'prod');
  });

  test('lxc clone refusals: a taken id, a missing pool, storage on a linked clone, a running container without snapshot', async () => {
    const taken = await api.post('/nodes/pve1/lxc/103/clone', { newid: '100' });
    assert.equal(taken.status, 500);
    assert.match(taken.reason, /VM 100 already exists on node 'pve1'/);
    const pool = await api.post('/nodes/pve1/lxc/103/clone', { newid: '904', pool: 'nope' });
    assert.equal(pool.status, 403);
    const linked = await api.post('/nodes/pve1/lxc/103/clone', {
      newid: '904',
      full: '0',
      storage: 'local-lvm',
    });
    assert.match(linked.reason, /parameter 'storage' not allowed for linked clones/);
    const notTemplate = await api.post('/nodes/pve1/lxc/103/clone', { newid: '904', full: '0' });
    assert.match(notTemplate.reason, /Linked clone feature/);
    const running = await api.post('/nodes/pve2/lxc/101/clone', { newid: '904' });
    assert.match(running.reason, /Cannot do full clones on a running container without snapshots/);
    const fromSnap = await api.post('/nodes/pve2/lxc/101/clone', { newid: '904', snapname: 'initial' });
    assert.equal((await api.task(fromSnap)).exitstatus, 'OK');
    assert.equal((await config('pve2', 904)).hostname, (await config('pve2', 101)).hostname);
    assert.equal(sim.cluster.guest(904)?.status, 'stopped');
  });

  test('guest firewall logs: only the lines of that vmid, paged like the node log; a guest not on the node is refused', async () => {
    const node = sim.cluster.guest(100)!.node;
    sim.logs.appendFirewallLog(node, {
      vmid: 100,
      level: 6,
      chain: 'tap100i0-IN',
      msg: 'ACCEPT: IN=fwbr100i0 SRC=10.0.0.9 DST=10.0.0.100 PROTO=TCP DPT=22',
    });
    const all = sim.logs.firewallLog(node).filter((e) => e.vmid === 100);
    const lines: Json[] = await api.data(`/nodes/${node}/qemu/100/firewall/log?limit=0`);
    assert.equal(lines.length, all.length);
    assert.ok(lines.every((l) => l.t.startsWith('100 ')));
    const page = await api.get(`/nodes/${node}/qemu/100/firewall/log?start=0&limit=1`);
    assert.equal(page.json.total, all.length);
    assert.equal(page.json.data.length, 1);
    const ct = sim.cluster.guest(103)!;
    const ctLog: Json[] = await api.data(`/nodes/${ct.node}/lxc/103/firewall/log`);
    assert.ok(ctLog.every((l) => l.t.startsWith('103 ') || l.t === 'no content'));
    const wrongType = await api.get(`/nodes/${node}/lxc/100/firewall/log`);
    assert.equal(wrongType.status, 500);
    assert.match(wrongType.reason, /does not exist/);
  });
});
