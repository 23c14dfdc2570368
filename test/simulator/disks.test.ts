import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatorApiSuite, type SimClient, type Json } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

const GiB = 1024 ** 3;

/**
 * Disk routes of the simulator after qemu-server and pve-container (PVE 9): VM disk resize (checks in the worker)
 * and move, container volume move and template. Seeded (1 node, 12 guests): VM 100 running, VM 104 stopped, CT 101
 * running, CT 103 and CT 109 stopped, CT 105 running; a ZFS storage `fast` is added.
 */
describe('simulator: disks and templates', () => {
  let sim: PveSimulator;
  let api: SimClient;
  const config = (type: string, vmid: number): Promise<Json> =>
    api.data(`/nodes/pve1/${type}/${vmid}/config`);

  simulatorApiSuite({ nodes: 1, guests: 12 }, (started) => {
    ({ sim, api } = started);
    sim.cluster.addStorage({
      storage: 'fast',
      type: 'zfspool',
      content: ['images', 'rootdir'],
      shared: false,
      options: { pool: 'rpool/data' },
      total: 500 * GiB,
      sparse: true,
    });
  });

  test('qemu resize: a resize task grows size=; shrinking fails the task as PVE does', async () => {
    const before = String((await config('qemu', 104)).scsi0);
    const current = Number(/size=(\d+)G/.exec(before)![1]);
    const grow = await api.put('/nodes/pve1/qemu/104/resize', { disk: 'scsi0', size: '+8G' });
    assert.match(grow.json.data, /:resize:104:/);
    assert.equal((await api.task(grow)).exitstatus, 'OK');
    assert.match(String((await config('qemu', 104)).scsi0), new RegExp(`size=${current + 8}G`));

    const shrink = await api.put('/nodes/pve1/qemu/104/resize', { disk: 'scsi0', size: '1G' });
    assert.equal((await api.task(shrink)).exitstatus, 'shrinking disks is not supported');
    const cdrom = await api.put('/nodes/pve1/qemu/104/resize', { disk: 'ide2', size: '+1G' });
    assert.equal((await api.task(cdrom)).exitstatus, "you can't resize a cdrom");
  });

  test('qemu move_disk: the copy takes the key, the source stays as unused0 (also when snapshots use it) or is deleted', async () => {
    const old = String((await config('qemu', 100)).scsi0).split(',')[0];
    // VM 100's snapshots use its disk: delete=1 warns and keeps the source
    const move = await api.post('/nodes/pve1/qemu/100/move_disk', {
      disk: 'scsi0',
      storage: 'fast',
      delete: '1',
    });
    assert.match(move.json.data, /:qmmove:100:/);
    assert.equal((await api.task(move)).exitstatus, 'WARNINGS: 1');
    assert.ok(
      (await api.taskLog(move.json.data)).some((l) => /still has snapshots, can't delete it/.test(l)),
    );
    const conf = await config('qemu', 100);
    assert.match(String(conf.scsi0), /^fast:vm-100-disk-0,/);
    assert.equal(conf.unused0, old);

    const same = await api.post('/nodes/pve1/qemu/100/move_disk', { disk: 'scsi0', storage: 'fast' });
    assert.equal(same.reason, "you can't move to the same storage with same format");
    const back = await api.post('/nodes/pve1/qemu/100/move_disk', {
      disk: 'scsi0',
      storage: 'nas',
      delete: '1',
    });
    assert.equal((await api.task(back)).exitstatus, 'OK');
    const after = await config('qemu', 100);
    assert.match(String(after.scsi0), /^nas:100\/vm-100-disk-0\.raw,/);
    assert.equal(after.unused1, undefined);
  });

  test('lxc move_volume refuses a running container; a stopped one moves and is unlocked again', async () => {
    const running = await api.post('/nodes/pve1/lxc/101/move_volume', { volume: 'rootfs', storage: 'fast' });
    assert.equal(running.status, 500);
    assert.equal(running.reason, 'cannot move volumes of a running container');
    const move = await api.post('/nodes/pve1/lxc/103/move_volume', { volume: 'rootfs', storage: 'fast' });
    assert.equal((await api.task(move)).exitstatus, 'OK');
    const conf = await config('lxc', 103);
    assert.match(String(conf.rootfs), /^fast:subvol-103-disk-0,size=\d+G$/);
    assert.equal(conf.unused0, 'local-lvm:vm-103-disk-0');
    assert.equal(conf.lock, undefined);
  });

  test('lxc template: at once (null), base volumes, template: 1; running, snapshotted and templates refused', async () => {
    const res = await api.post('/nodes/pve1/lxc/109/template', {});
    assert.equal(res.status, 200, res.reason);
    assert.equal(res.json.data, null);
    const conf = await config('lxc', 109);
    assert.equal(conf.template, 1);
    assert.match(String(conf.rootfs), /^local-lvm:base-109-disk-0,/);
    assert.equal(
      (await api.post('/nodes/pve1/lxc/109/template', {})).reason,
      "you can't convert a template to a template",
    );
    assert.equal(
      (await api.post('/nodes/pve1/lxc/105/template', {})).reason,
      "you can't convert a CT to template if the CT is running",
    );
    // CT 101 has the snapshot `initial`
    sim.cluster.setRunning(sim.cluster.guest(101)!, false);
    const snapshotted = await api.post('/nodes/pve1/lxc/101/move_volume', {
      volume: 'rootfs',
      storage: 'fast',
      delete: '1',
    });
    assert.equal(snapshotted.reason, "you can't move a volume with snapshots and delete the source");
    assert.equal(
      (await api.post('/nodes/pve1/lxc/101/template', {})).reason,
      'unable to create template, because CT contains snapshots',
    );
  });
});
