import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { simulatorApiSuite, type SimClient, type Json } from '../helpers/sim-client.js';
import type { PveSimulator, SimGuest } from '../../src/simulator/index.js';

const UPID_RE = /^UPID:([a-z0-9-]+):([0-9A-F]{8}):([0-9A-F]{8}):([0-9A-F]{8}):([^:]+):([^:]*):([^:]+):$/;

describe('simulator: tasks', () => {
  let sim: PveSimulator;
  let api: SimClient;
  const guest = (type: 'qemu' | 'lxc', status: 'running' | 'stopped'): SimGuest =>
    [...sim.cluster.guests()].find((g) => g.type === type && g.status === status && !g.lock)!;
  const base = (g: SimGuest) => `/nodes/${g.node}/${g.type}/${g.vmid}`;
  const taskStatus = async (node: string, upid: string) =>
    api.data(`/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`);

  // long enough to observe "running", short enough for a fast test
  simulatorApiSuite({ taskSeconds: 1 }, (started) => ({ sim, api } = started));

  test('start a stopped VM: UPID at once, task running, then stopped OK, then the VM runs', async () => {
    const vm = guest('qemu', 'stopped');
    const res = await api.post(`${base(vm)}/status/start`);
    assert.equal(res.status, 200);
    const upid: string = res.json.data;
    const m = UPID_RE.exec(upid);
    assert.ok(m, upid);
    assert.deepEqual([m[1], m[5], m[6], m[7]], [vm.node, 'qmstart', String(vm.vmid), 'root@pam!mcp']);

    const running = await taskStatus(vm.node, upid);
    assert.equal(running.status, 'running');
    assert.equal(running.exitstatus, undefined);
    assert.equal(
      (await api.data(`${base(vm)}/status/current`)).status,
      'stopped',
      'state changes only at the end',
    );

    await sim.tasks.whenDone(upid);
    const done = await taskStatus(vm.node, upid);
    assert.deepEqual(done, {
      upid,
      node: vm.node,
      pid: parseInt(m[2], 16),
      pstart: parseInt(m[3], 16),
      starttime: parseInt(m[4], 16),
      type: 'qmstart',
      id: String(vm.vmid),
      user: 'root@pam',
      tokenid: 'mcp',
      status: 'stopped',
      exitstatus: 'OK',
    });
    assert.equal((await api.data(`${base(vm)}/status/current`)).status, 'running');

    // starting it again is accepted, and fails inside the task (qemu-server checks in the worker)
    const again = await api.post(`${base(vm)}/status/start`);
    assert.equal(again.status, 200);
    await sim.tasks.whenDone(again.json.data);
    const failed = await taskStatus(vm.node, again.json.data);
    assert.equal(failed.exitstatus, `VM ${vm.vmid} already running`);
    const log = await api.get(`/nodes/${vm.node}/tasks/${encodeURIComponent(again.json.data)}/log`);
    assert.deepEqual(log.json, {
      data: [{ n: 1, t: `TASK ERROR: VM ${vm.vmid} already running` }],
      total: 1,
    });
  });

  test('containers refuse synchronously what pve-container checks before forking', async () => {
    const ct = guest('lxc', 'running');
    const start = await api.post(`${base(ct)}/status/start`);
    assert.equal(start.status, 500);
    assert.equal(start.reason, `CT ${ct.vmid} already running`);
    const stopped = guest('lxc', 'stopped');
    const shutdown = await api.post(`${base(stopped)}/status/shutdown`);
    assert.equal(shutdown.reason, `CT ${stopped.vmid} not running`);
    const vm = guest('qemu', 'stopped');
    assert.equal((await api.post(`${base(vm)}/status/reboot`)).reason, `VM ${vm.vmid} not running`);
  });

  test('shutdown of a running container ends stopped; DELETE on a running task interrupts it', async () => {
    const ct = guest('lxc', 'running');
    const upid: string = (await api.post(`${base(ct)}/status/shutdown`)).json.data;
    assert.match(upid, /:vzshutdown:/);
    const stop = await api.call(`/nodes/${ct.node}/tasks/${encodeURIComponent(upid)}`, { method: 'DELETE' });
    assert.equal(stop.status, 200);
    assert.equal(stop.text, '{"data":null}');
    const status = await taskStatus(ct.node, upid);
    assert.equal(status.status, 'stopped');
    assert.equal(status.exitstatus, 'received interrupt');
    assert.equal(
      sim.cluster.guest(ct.vmid)!.status,
      'running',
      'an interrupted task does not apply its change',
    );
    const again = await api.call(`/nodes/${ct.node}/tasks/${encodeURIComponent(upid)}`, { method: 'DELETE' });
    assert.equal(again.text, '{"data":null}', 'stopping a finished task still answers null');
  });

  test('task log pages with start/limit, counts n from 1 and reports total; progress lines appear', async () => {
    const task = sim.tasks.start({
      node: 'pve1',
      type: 'download',
      id: 'big.iso',
      user: 'root@pam!mcp',
      log: ['starting file import from: https://example.com/big.iso'],
      progress: (pct) => `downloaded ${pct}% of 4.0 GiB`,
      run: () => undefined,
      durationMs: 0,
    });
    await sim.tasks.whenDone(task.upid);
    const path = `/nodes/pve1/tasks/${encodeURIComponent(task.upid)}/log`;
    const all = await api.get(`${path}?limit=0`);
    assert.equal(all.json.total, 6);
    assert.deepEqual(
      all.json.data.map((l: Json) => l.t),
      [
        'starting file import from: https://example.com/big.iso',
        'downloaded 25% of 4.0 GiB',
        'downloaded 50% of 4.0 GiB',
        'downloaded 75% of 4.0 GiB',
        'downloaded 100% of 4.0 GiB',
        'TASK OK',
      ],
    );
    const page = await api.get(`${path}?start=2&limit=2`);
    assert.deepEqual(page.json, {
      data: [
        { n: 3, t: 'downloaded 50% of 4.0 GiB' },
        { n: 4, t: 'downloaded 75% of 4.0 GiB' },
      ],
      total: 6,
    });
  });

  test('a running task logs its progress while it runs', async () => {
    const task = sim.tasks.start({
      node: 'pve1',
      type: 'vzdump',
      id: '100',
      user: 'root@pam!mcp',
      progress: (pct) => `INFO: ${pct}% (backup)`,
      durationMs: 1000,
    });
    const early = await api.get(`/nodes/pve1/tasks/${encodeURIComponent(task.upid)}/log`);
    assert.deepEqual(early.json, { data: [{ n: 1, t: 'no content' }], total: 1 });
    await sleep(600);
    const mid = await api.get(`/nodes/pve1/tasks/${encodeURIComponent(task.upid)}/log`);
    assert.ok(mid.json.total >= 2 && mid.json.total < 5, `partial log: ${mid.text}`);
    await sim.tasks.whenDone(task.upid);
  });

  test('task list: archive by default, source=active, vmid/typefilter, paging with total', async () => {
    const vm = guest('qemu', 'running');
    const upid: string = (await api.post(`${base(vm)}/status/suspend`)).json.data;
    assert.match(upid, /:qmpause:/);
    const active: Json[] = await api.data(`/nodes/${vm.node}/tasks?source=active`);
    assert.ok(active.some((t) => t.upid === upid && t.status === undefined && t.endtime === undefined));
    const archive: Json[] = await api.data(`/nodes/${vm.node}/tasks`);
    assert.ok(!archive.some((t) => t.upid === upid), 'archive lists finished tasks only');
    await sim.tasks.whenDone(upid);
    assert.equal((await api.data(`${base(vm)}/status/current`)).qmpstatus, 'paused');

    const mine = await api.get(`/nodes/${vm.node}/tasks?vmid=${vm.vmid}&typefilter=qmpause`);
    assert.equal(mine.json.total, 1);
    const item = mine.json.data[0];
    assert.equal(item.upid, upid);
    assert.equal(item.status, 'OK');
    assert.equal(item.user, 'root@pam');
    assert.equal(item.tokenid, 'mcp');
    assert.ok(item.endtime >= item.starttime);

    const everything = await api.get(`/nodes/${vm.node}/tasks?source=all&limit=1`);
    assert.equal(everything.json.data.length, 1);
    assert.ok(everything.json.total >= 1);
    assert.equal((await api.post(`${base(vm)}/status/shutdown`)).reason, 'VM is paused - cannot shutdown');
  });

  test('a malformed or unknown UPID is a 400 on the upid parameter', async () => {
    const bad = await api.get('/nodes/pve1/tasks/not-a-upid/status');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.errors, { upid: 'unable to parse worker upid' });
    const unknown = await api.get(
      `/nodes/pve1/tasks/${encodeURIComponent('UPID:pve1:00001234:00005678:5A3B7C8D:qmstart:100:root@pam:')}/status`,
    );
    assert.deepEqual(unknown.json.errors, { upid: 'no such task' });
  });

  test('without quorum, power actions fail: cluster not ready', async () => {
    sim.cluster.setNodeOnline('pve2', false);
    sim.cluster.setNodeOnline('pve3', false);
    try {
      const vm = sim.cluster.guestsOn('pve1').find((g) => g.type === 'qemu')!;
      const res = await api.post(`${base(vm)}/status/stop`);
      assert.equal(res.status, 500);
      assert.equal(res.reason, 'cluster not ready - no quorum?');
      assert.equal((await api.data('/cluster/status'))[0].quorate, 0);
    } finally {
      sim.cluster.setNodeOnline('pve2', true);
      sim.cluster.setNodeOnline('pve3', true);
    }
  });
});
