import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatorApiSuite, type SimClient, type Json } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

/**
 * Seeded: VM 100 (pve1, running) has before-upgrade → after-upgrade (with RAM), current parent after-upgrade;
 * CT 101 (pve2, running) has `initial`; VM 104 (pve2) is stopped; VM 108 (pve3) is a template.
 */
describe('simulator: snapshots (qemu and lxc)', () => {
  let sim: PveSimulator;
  let api: SimClient;
  const vm = '/nodes/pve1/qemu/100';
  const ct = '/nodes/pve2/lxc/101';
  const names = async (base: string) => ((await api.data(`${base}/snapshot`)) as Json[]).map((s) => s.name);

  simulatorApiSuite({}, (started) => ({ sim, api } = started));

  test('list: snapshots with parent links plus the `current` pseudo-entry, as PVE returns them', async () => {
    const list: Json[] = await api.data(`${vm}/snapshot`);
    const digest = (await api.data(`${vm}/config`)).digest;
    assert.deepEqual(list, [
      {
        name: 'before-upgrade',
        snaptime: list[0].snaptime,
        vmstate: 0,
        description: 'Before the kernel upgrade',
      },
      {
        name: 'after-upgrade',
        snaptime: list[1].snaptime,
        vmstate: 1,
        description: 'Kernel 6.8 installed',
        parent: 'before-upgrade',
      },
      { name: 'current', digest, running: 1, description: 'You are here!', parent: 'after-upgrade' },
    ]);
    assert.ok(list[0].snaptime < list[1].snaptime);
    assert.equal((await api.data(`${vm}/config`)).parent, 'after-upgrade');
    const ctList: Json[] = await api.data(`${ct}/snapshot`);
    assert.deepEqual(
      ctList.map((s) => [s.name, s.parent, 'vmstate' in s]),
      [
        ['initial', undefined, false],
        ['current', 'initial', false],
      ],
    );
  });

  test('create: a qmsnapshot task; RAM saved for a running VM; the new snapshot becomes current’s parent', async () => {
    const res = await api.post(`${vm}/snapshot`, {
      snapname: 'pre-deploy',
      description: 'before deploy',
      vmstate: '1',
    });
    assert.match(res.json.data, /:qmsnapshot:100:root@pam!mcp:$/);
    assert.equal((await api.task(res)).exitstatus, 'OK');
    const log = await api.taskLog(res.json.data);
    assert.ok(log.includes("saving VM state and RAM using storage 'local-lvm'"), log.join('\n'));
    assert.ok(log.includes("snapshotting 'drive-scsi0' (local-lvm:vm-100-disk-0)"), log.join('\n'));
    const list: Json[] = await api.data(`${vm}/snapshot`);
    const snap = list.find((s) => s.name === 'pre-deploy');
    assert.equal(snap.parent, 'after-upgrade');
    assert.equal(snap.vmstate, 1);
    assert.equal(list.find((s) => s.name === 'current').parent, 'pre-deploy');
    const conf = await api.data(`${vm}/snapshot/pre-deploy/config`);
    assert.equal(conf.description, 'before deploy');
    assert.equal(conf.vmstate, 'local-lvm:vm-100-state-pre-deploy');
    assert.equal(conf.runningmachine, 'pc-i440fx-9.2+pve1');
    assert.equal(typeof conf.snaptime, 'number');
    assert.equal(conf.digest, undefined);
    const viaConfig = await api.data(`${vm}/config?snapshot=pre-deploy`);
    assert.equal(
      viaConfig.digest,
      (await api.data(`${vm}/config`)).digest,
      'config?snapshot= adds the digest',
    );

    const dup = await api.task(await api.post(`${vm}/snapshot`, { snapname: 'pre-deploy' }));
    assert.equal(dup.exitstatus, "snapshot name 'pre-deploy' already used");
  });

  test('reserved names fail at once; other refusals (template, storage) come from the task', async () => {
    const current = await api.post(`${vm}/snapshot`, { snapname: 'current' });
    assert.equal(current.status, 500);
    assert.equal(current.reason, "unable to use snapshot name 'current' (reserved name)");
    assert.equal(
      (await api.post(`${vm}/snapshot`, { snapname: 'Pending' })).reason,
      "unable to use snapshot name 'pending' (reserved name)",
    );
    assert.equal(
      (await api.post(`${ct}/snapshot`, { snapname: 'vzdump' })).reason,
      "unable to use snapshot name 'vzdump' (reserved name)",
    );
    const template = await api.task(await api.post('/nodes/pve3/qemu/108/snapshot', { snapname: 'x1' }));
    assert.equal(template.exitstatus, "you can't take a snapshot if it's a template");
    const created = await api.task(await api.post('/nodes/pve1/qemu', { vmid: '180', virtio0: 'nas:4' }));
    assert.equal(created.exitstatus, 'OK');
    const raw = await api.task(await api.post('/nodes/pve1/qemu/180/snapshot', { snapname: 'x1' }));
    assert.equal(raw.exitstatus, 'snapshot feature is not available', 'raw images on NFS cannot snapshot');
    const missing = await api.post('/nodes/pve1/qemu/999/snapshot', { snapname: 'x1' });
    assert.equal(missing.reason, "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist");
  });

  test('storage decides, as pve-storage does: qcow2 on NFS snapshots; raw on thick LVM or on a dir fails in the task', async () => {
    sim.cluster.addStorage({
      storage: 'thick',
      type: 'lvm',
      content: ['images', 'rootdir'],
      shared: false,
      options: { vgname: 'vg0' },
      total: 100 * 1024 ** 3,
    });
    sim.cluster.addStorage({
      storage: 'plaindir',
      type: 'dir',
      content: ['images', 'rootdir'],
      shared: false,
      options: { path: '/srv/plaindir' },
      total: 100 * 1024 ** 3,
    });
    const cases: Array<[string, Json, string]> = [
      ['191', { vmid: '191', virtio0: 'nas:4,format=qcow2' }, 'OK'],
      ['192', { vmid: '192', virtio0: 'thick:4' }, 'snapshot feature is not available'],
      ['193', { vmid: '193', virtio0: 'plaindir:4' }, 'snapshot feature is not available'],
      ['194', { vmid: '194', virtio0: 'plaindir:4,format=qcow2' }, 'OK'],
    ];
    for (const [vmid, params, expected] of cases) {
      assert.equal((await api.task(await api.post('/nodes/pve1/qemu', params))).exitstatus, 'OK', vmid);
      const snap = await api.task(await api.post(`/nodes/pve1/qemu/${vmid}/snapshot`, { snapname: 's1' }));
      assert.equal(snap.exitstatus, expected, `VM ${vmid} ${JSON.stringify(params)}`);
    }
    // a container volume on a dir storage cannot snapshot (no qcow2 for containers)
    const ctMade = await api.task(
      await api.post('/nodes/pve1/lxc', {
        vmid: '195',
        ostemplate: 'nas:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
        rootfs: 'plaindir:4',
      }),
    );
    assert.equal(ctMade.exitstatus, 'OK');
    const ctSnap = await api.task(await api.post('/nodes/pve1/lxc/195/snapshot', { snapname: 's1' }));
    assert.equal(ctSnap.exitstatus, 'snapshot feature is not available');
  });

  test('the snapshot lock is held while the task runs and blocks other operations', async () => {
    sim.tasks.script({ match: { type: 'qmsnapshot', id: '106' }, durationMs: 60_000 });
    const res = await api.post('/nodes/pve1/qemu/106/snapshot', { snapname: 'slow' });
    const item = ((await api.data('/cluster/resources?type=vm')) as Json[]).find((r) => r.vmid === 106);
    assert.equal(item.lock, 'snapshot');
    const list: Json[] = await api.data('/nodes/pve1/qemu/106/snapshot');
    assert.equal(list.find((s) => s.name === 'slow').snapstate, 'prepare');
    const config = await api.put('/nodes/pve1/qemu/106/config', { description: 'x' });
    assert.equal(config.reason, 'VM is locked (snapshot)');
    const stop = await api.task(await api.post('/nodes/pve1/qemu/106/status/stop'));
    assert.equal(stop.exitstatus, 'VM is locked (snapshot)');
    const other = await api.task(await api.post('/nodes/pve1/qemu/106/snapshot', { snapname: 'other' }));
    assert.equal(other.exitstatus, 'VM is locked (snapshot)');
    await api.call(`/nodes/pve1/tasks/${encodeURIComponent(res.json.data)}`, { method: 'DELETE' });
    assert.equal((await api.task(res)).exitstatus, 'received interrupt');
    assert.deepEqual(await names('/nodes/pve1/qemu/106'), ['current'], 'the half-made snapshot is removed');
    assert.equal(sim.cluster.guest(106)!.lock, undefined);
  });

  test('snapshot config: GET missing is a 500; PUT changes the description (and does nothing without one)', async () => {
    const missing = await api.get(`${vm}/snapshot/nope/config`);
    assert.equal(missing.status, 500);
    assert.equal(missing.reason, "snapshot 'nope' does not exist");
    assert.equal((await api.get(`${vm}/config?snapshot=nope`)).reason, "snapshot 'nope' does not exist");
    assert.equal(
      (await api.put(`${vm}/snapshot/before-upgrade/config`, { description: 'renamed' })).status,
      200,
    );
    assert.equal((await api.data(`${vm}/snapshot/before-upgrade/config`)).description, 'renamed');
    assert.equal((await api.put(`${vm}/snapshot/nope/config`)).text, '{"data":null}');
    assert.equal(
      (await api.put(`${vm}/snapshot/nope/config`, { description: 'x' })).reason,
      "snapshot 'nope' does not exist",
    );
    assert.deepEqual(await api.data(`${vm}/snapshot/before-upgrade`), [
      { cmd: 'rollback' },
      { cmd: 'config' },
    ]);
  });

  test('rollback restores the config, stops a running VM, starts it for RAM snapshots or start=1', async () => {
    const base = '/nodes/pve2/qemu/104';
    const coresAt = (await api.data(`${base}/config`)).cores;
    assert.equal((await api.task(await api.post(`${base}/snapshot`, { snapname: 's1' }))).exitstatus, 'OK');
    await api.put(`${base}/config`, { cores: String(coresAt + 1), scsi1: 'local-lvm:1' });
    assert.equal((await api.task(await api.post(`${base}/snapshot`, { snapname: 's2' }))).exitstatus, 'OK');
    // LVM-thin can roll back past a newer snapshot
    const back = await api.post(`${base}/snapshot/s1/rollback`);
    assert.match(back.json.data, /:qmrollback:104:/);
    assert.equal((await api.task(back)).exitstatus, 'OK');
    const config = await api.data(`${base}/config`);
    assert.equal(config.cores, coresAt);
    assert.equal(config.parent, 's1');
    assert.equal(config.scsi1, undefined);
    assert.equal(config.unused0, 'local-lvm:vm-104-disk-1', 'a disk added later stays as unused');
    assert.deepEqual(await names(base), ['s1', 's2', 'current']);
    assert.equal((await api.data(`${base}/status/current`)).status, 'stopped');
    const started = await api.task(await api.post(`${base}/snapshot/s2/rollback`, { start: '1' }));
    assert.equal(started.exitstatus, 'OK');
    assert.equal((await api.data(`${base}/status/current`)).status, 'running');

    assert.equal((await api.task(await api.post(`${vm}/snapshot/before-upgrade/rollback`))).exitstatus, 'OK');
    assert.equal((await api.data(`${vm}/status/current`)).status, 'stopped', 'the running VM was stopped');
    assert.equal((await api.task(await api.post(`${vm}/snapshot/after-upgrade/rollback`))).exitstatus, 'OK');
    assert.equal((await api.data(`${vm}/status/current`)).status, 'running', 'a RAM snapshot resumes the VM');

    const missing = await api.task(await api.post(`${vm}/snapshot/nope/rollback`));
    assert.equal(missing.exitstatus, "snapshot 'nope' does not exist");
    const template = await api.task(await api.post('/nodes/pve3/qemu/108/snapshot/xx/rollback'));
    assert.equal(template.exitstatus, "you can't rollback if vm is a template");
  });

  test('ZFS can only roll back to the most recent snapshot', async () => {
    sim.cluster.addStorage({
      storage: 'tank',
      type: 'zfspool',
      content: ['images', 'rootdir'],
      shared: false,
      options: { pool: 'tank/vm' },
      total: 500 * 1024 ** 3,
      sparse: true,
    });
    assert.equal(
      (await api.task(await api.post('/nodes/pve1/qemu', { vmid: '181', scsi0: 'tank:8' }))).exitstatus,
      'OK',
    );
    const base = '/nodes/pve1/qemu/181';
    for (const snapname of ['snap-a', 'snap-b'])
      await api.task(await api.post(`${base}/snapshot`, { snapname }));
    const refused = await api.task(await api.post(`${base}/snapshot/snap-a/rollback`));
    assert.equal(
      refused.exitstatus,
      "can't rollback, 'snap-a' is not most recent snapshot on 'tank:vm-181-disk-0'",
    );
    assert.equal((await api.task(await api.post(`${base}/snapshot/snap-b/rollback`))).exitstatus, 'OK');
    assert.equal((await api.task(await api.del(`${base}/snapshot/snap-b`))).exitstatus, 'OK');
    assert.equal((await api.task(await api.post(`${base}/snapshot/snap-a/rollback`))).exitstatus, 'OK');
  });

  test('delete: a qmdelsnapshot task; children move up to the deleted snapshot’s parent', async () => {
    const base = '/nodes/pve2/qemu/104';
    await api.task(await api.post(`${base}/snapshot`, { snapname: 's3' }));
    // s1 → s2 → s3 (current parent s3 after this)
    const mid = await api.del(`${base}/snapshot/s2`);
    assert.match(mid.json.data, /:qmdelsnapshot:104:/);
    assert.equal((await api.task(mid)).exitstatus, 'OK');
    const list: Json[] = await api.data(`${base}/snapshot`);
    assert.deepEqual(
      list.map((s) => [s.name, s.parent]),
      [
        ['s1', undefined],
        ['s3', 's1'],
        ['current', 's3'],
      ],
    );
    const missing = await api.task(await api.del(`${base}/snapshot/s2`, { force: '1' }));
    assert.equal(missing.exitstatus, "snapshot 's2' does not exist");
    sim.cluster.setLock(101, 'backup');
    try {
      const locked = await api.task(await api.del(`${ct}/snapshot/initial`));
      assert.equal(locked.exitstatus, 'CT is locked (backup)');
    } finally {
      sim.cluster.setLock(101, undefined);
    }
  });

  test('containers: vzsnapshot / vzrollback (stops the CT, start=1 starts it) / vzdelsnapshot', async () => {
    const snap = await api.post(`${ct}/snapshot`, { snapname: 'before-update', description: 'apt upgrade' });
    assert.match(snap.json.data, /:vzsnapshot:101:/);
    assert.equal((await api.task(snap)).exitstatus, 'OK');
    const conf = await api.data(`${ct}/snapshot/before-update/config`);
    assert.equal(conf.parent, 'initial');
    assert.match(conf.rootfs, /^local-lvm:vm-101-disk-0,/);
    const back = await api.post(`${ct}/snapshot/initial/rollback`);
    assert.match(back.json.data, /:vzrollback:101:/);
    assert.equal((await api.task(back)).exitstatus, 'OK');
    assert.equal((await api.data(`${ct}/status/current`)).status, 'stopped');
    assert.equal(
      (await api.task(await api.post(`${ct}/snapshot/before-update/rollback`, { start: '1' }))).exitstatus,
      'OK',
    );
    assert.equal((await api.data(`${ct}/status/current`)).status, 'running');
    const del = await api.del(`${ct}/snapshot/before-update`);
    assert.match(del.json.data, /:vzdelsnapshot:101:/);
    assert.equal((await api.task(del)).exitstatus, 'OK');
    assert.deepEqual(await names(ct), ['initial', 'current']);
  });

  test('a snapname outside pve-configid is a 400 from the schema', async () => {
    assert.deepEqual(sim.schemaViolations(), []);
    const res = await api.post(`${vm}/snapshot`, { snapname: '1bad' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.json.errors, { snapname: "invalid format - invalid configuration ID '1bad'\n" });
    sim.clearRequests(); // that refusal was the point
  });
});
