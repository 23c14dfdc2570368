import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { resultText, simGuest, simRequests, toolCalls } from '../helpers/tools.js';
import { startHarness, type Harness } from '../helpers/test-app.js';

/**
 * Snapshot tools over MCP and REST against the schema-checked simulator. Seeded: VM 100 (running, local-lvm) has
 * before-upgrade → after-upgrade (with RAM), the current state derives from after-upgrade; CT 101 has `initial`.
 */
describe('snapshot tools against the simulator', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const guest = (vmid: number) => simGuest(h.sim, vmid);
  const nodeOf = (vmid: number) => guest(vmid).node;
  const { lastSeq, mutations } = simRequests(() => h.sim);

  before(async () => {
    h = await startHarness({ nodes: 3, guests: 12, taskSeconds: 0 });
    mcp = await h.mcp();
    await mcp.listTools(); // results of the read tool are checked against its outputSchema
  });
  after(async () => {
    assert.deepEqual(h.sim.schemaViolations(), [], 'every request the tools sent must pass the PVE schema');
    await h.close();
  });

  test('list_snapshots: oldest first, parent/children, RAM state, what the current state derives from', async () => {
    const list = await ok('list_snapshots', { node: nodeOf(100), vmid: 100 });
    assert.equal(list.vm_type, 'qemu');
    assert.deepEqual(
      list.snapshots.map((s: any) => [s.name, s.parent ?? null, s.children, s.vmstate]),
      [
        ['before-upgrade', null, ['after-upgrade'], false],
        ['after-upgrade', 'before-upgrade', [], true],
      ],
    );
    assert.equal(list.current_parent, 'after-upgrade');
    assert.match(list.snapshots[0].created_at, /^\d{4}-\d\d-\d\dT/);
    assert.match(
      resultText(await call('list_snapshots', { node: nodeOf(100), vmid: 100 })),
      /RAM State: Included/,
    );

    const ct = await request(h.url)
      .get(`/nodes/${nodeOf(101)}/guests/101/snapshots?vm_type=lxc`)
      .set(h.auth)
      .expect(200);
    assert.deepEqual(
      ct.body.snapshots.map((s: any) => s.name),
      ['initial'],
    );
    assert.equal(ct.body.vm_type, 'lxc');
  });

  test('vm_type is a validated enum; the wrong type for an id is NOT_FOUND with a hint', async () => {
    const before = h.sim.totalRequests;
    await fails('list_snapshots', { node: 'pve1', vmid: 100, vm_type: 'openvz' }, 'VALIDATION', /vm_type/);
    await request(h.url).get('/nodes/pve1/guests/100/snapshots?vm_type=QEMU').set(h.auth).expect(400);
    assert.equal(h.sim.totalRequests, before, 'refused before any request');
    const wrong = await fails(
      'list_snapshots',
      { node: nodeOf(101), vmid: 101 },
      'NOT_FOUND',
      /VM 101 not found on node .* \(vm_type qemu\)/,
    );
    assert.match(wrong, /vm_type: "lxc"/);
  });

  test('create_snapshot with RAM on a running VM, waited for; vmstate on a container is refused', async () => {
    const node = nodeOf(102);
    const job = await ok('create_snapshot', {
      node,
      vmid: 102,
      snapname: 'pre-patch',
      description: 'before patching',
      vmstate: true,
      wait: true,
    });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.tool_name, 'create_snapshot');
    assert.match(job.task_id, /:qmsnapshot:102:/);
    const list = await ok('list_snapshots', { node, vmid: 102 });
    const snap = list.snapshots.find((s: any) => s.name === 'pre-patch');
    assert.equal(snap.vmstate, true);
    assert.equal(snap.description, 'before patching');

    const seq = lastSeq();
    await fails(
      'create_snapshot',
      { node: nodeOf(101), vmid: 101, snapname: 'x1', vmstate: true, vm_type: 'lxc' },
      'VALIDATION',
      /vmstate is for VMs/,
    );
    await fails('create_snapshot', { node, vmid: 102, snapname: 'current' }, 'VALIDATION', /reserved/);
    await fails('create_snapshot', { node, vmid: 102, snapname: '1st' }, 'VALIDATION', /snapname must be/);
    await fails('create_snapshot', { node, vmid: 102, snapname: 'a'.repeat(41) }, 'VALIDATION', /snapname/);
    assert.deepEqual(mutations(seq), []);

    const ct = await request(h.url)
      .post(`/nodes/${nodeOf(101)}/guests/101/snapshots`)
      .set(h.auth)
      .send({ snapname: 'ct-snap', vm_type: 'lxc', wait: true })
      .expect(202);
    assert.equal(ct.body.status, 'completed', JSON.stringify(ct.body));
    assert.match(ct.body.task_id, /:vzsnapshot:101:/);
    assert.ok(guest(101).snapshots.has('ct-snap'));
  });

  test('rollback_snapshot to a snapshot with a child works where the storage allows it, and keeps the child', async () => {
    // VM 100's disk is on local-lvm (LVM-thin): PVE rolls back to any snapshot; the reference refused (bug #13)
    const node = nodeOf(100);
    const job = await ok('rollback_snapshot', { node, vmid: 100, snapname: 'before-upgrade', wait: true });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.match(job.task_id, /:qmrollback:100:/);
    const list = await ok('list_snapshots', { node, vmid: 100 });
    assert.deepEqual(
      list.snapshots.map((s: any) => s.name),
      ['before-upgrade', 'after-upgrade'],
      'the newer snapshot is still there',
    );
    assert.equal(list.current_parent, 'before-upgrade');
    assert.equal(guest(100).status, 'stopped', 'a snapshot without RAM leaves the VM stopped');

    const started = await request(h.url)
      .post(`/nodes/${node}/guests/100/snapshots/after-upgrade/rollback`)
      .set(h.auth)
      .send({ wait: true })
      .expect(202);
    assert.equal(started.body.status, 'completed');
    assert.equal(guest(100).status, 'running', 'a snapshot with RAM resumes running');
  });

  test('on ZFS, rolling back past a newer snapshot fails in the job with PVE’s own reason', async () => {
    const vmid = 104;
    const vm = guest(vmid);
    h.sim.cluster.addStorage({
      storage: 'tank',
      type: 'zfspool',
      content: ['images', 'rootdir'],
      shared: false,
      options: { pool: 'tank' },
      total: 500 * 1024 ** 3,
      sparse: true,
    });
    vm.config.scsi0 = `tank:vm-${vmid}-disk-0,size=16G`;
    for (const snapname of ['zfs-one', 'zfs-two']) {
      const made = await ok('create_snapshot', { node: vm.node, vmid, snapname, wait: true });
      assert.equal(made.status, 'completed', JSON.stringify(made));
    }
    // a waited-for job that failed is a failed call: isError with the job as structuredContent over MCP …
    const failed = await call('rollback_snapshot', { node: vm.node, vmid, snapname: 'zfs-one', wait: true });
    assert.equal(failed.isError, true);
    assert.match(
      resultText(failed),
      /^JOB_FAILED: Roll back VM 104 on \S+ to 'zfs-one': the Proxmox task failed: can't rollback, 'zfs-one' is not most recent snapshot/,
    );
    const job = failed.structuredContent;
    assert.equal(job.status, 'failed');
    assert.equal(job.tool_name, 'rollback_snapshot');
    assert.match(job.exitstatus, /can't rollback, 'zfs-one' is not most recent snapshot/);
    // … and a 502 with the job in the body over REST
    const rest = await request(h.url)
      .post(`/nodes/${vm.node}/guests/${vmid}/snapshots/zfs-one/rollback`)
      .set(h.auth)
      .send({ wait: true });
    assert.equal(rest.status, 502, JSON.stringify(rest.body));
    assert.equal(rest.body.code, 'JOB_FAILED');
    assert.equal(rest.body.details.job.status, 'failed');
    assert.match(rest.body.details.job.last_error, /not most recent snapshot/);
    const latest = await ok('rollback_snapshot', { node: vm.node, vmid, snapname: 'zfs-two', wait: true });
    assert.equal(latest.status, 'completed');
  });

  test('rollback and delete of a snapshot that does not exist are NOT_FOUND, naming the ones that do', async () => {
    const node = nodeOf(100);
    const seq = lastSeq();
    const msg = await fails(
      'rollback_snapshot',
      { node, vmid: 100, snapname: 'nope' },
      'NOT_FOUND',
      /no snapshot 'nope'/,
    );
    assert.match(msg, /before-upgrade, after-upgrade/);
    const rest = await request(h.url)
      .delete(`/nodes/${node}/guests/100/snapshots/nope`)
      .set(h.auth)
      .expect(404);
    assert.equal(rest.body.code, 'NOT_FOUND');
    assert.deepEqual(mutations(seq), []);
  });

  test('delete_snapshot over REST (container) and MCP (VM): children move up to the parent', async () => {
    const ct = await request(h.url)
      .delete(`/nodes/${nodeOf(101)}/guests/101/snapshots/ct-snap?vm_type=lxc&wait=true`)
      .set(h.auth)
      .expect(202);
    assert.equal(ct.body.status, 'completed', JSON.stringify(ct.body));
    assert.match(ct.body.task_id, /:vzdelsnapshot:101:/);
    assert.ok(!guest(101).snapshots.has('ct-snap'));

    const node = nodeOf(100);
    const job = await ok('delete_snapshot', { node, vmid: 100, snapname: 'before-upgrade', wait: true });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    const list = await ok('list_snapshots', { node, vmid: 100 });
    assert.deepEqual(
      list.snapshots.map((s: any) => [s.name, s.parent ?? null]),
      [['after-upgrade', null]],
    );
  });

  test('create_snapshot reads the disks first: raw on NFS or thick LVM is refused naming disk, storage, format and what works', async () => {
    const vmid = 102;
    const vm = guest(vmid);
    const node = vm.node;
    const saved = vm.config.scsi0;
    h.sim.cluster.addStorage({
      storage: 'thick',
      type: 'lvm',
      content: ['images', 'rootdir'],
      shared: false,
      options: { vgname: 'vg0' },
      total: 200 * 1024 ** 3,
    });
    try {
      vm.config.scsi0 = `nas:${vmid}/vm-${vmid}-disk-0.raw,iothread=1,size=16G`;
      const seq = lastSeq();
      const msg = await fails(
        'create_snapshot',
        { node, vmid, snapname: 'pre', wait: true },
        'CONFLICT',
        /VM 102 on node \S+ cannot take a snapshot: scsi0 \(nas:102\/vm-102-disk-0\.raw\) is raw on storage nas \(nfs\)/,
      );
      assert.match(msg, /thin LVM, ZFS, Ceph RBD and Btrfs storages, or qcow2 images on file storages/);
      assert.match(msg, /qm disk move 102 scsi0 <storage>, or --format qcow2 to keep it on nas/);
      assert.deepEqual(mutations(seq), [], 'nothing sent: no job, no task');

      vm.config.scsi0 = `thick:vm-${vmid}-disk-0,size=16G`;
      const rest = await request(h.url)
        .post(`/nodes/${node}/guests/${vmid}/snapshots`)
        .set(h.auth)
        .send({ snapname: 'pre' })
        .expect(409);
      assert.equal(rest.body.code, 'CONFLICT');
      assert.match(rest.body.message, /scsi0 \(thick:vm-102-disk-0\) is raw on storage thick \(lvm\)/);
      assert.deepEqual(rest.body.details.disks, [
        {
          disk: 'scsi0',
          volid: 'thick:vm-102-disk-0',
          storage: 'thick',
          storage_type: 'lvm',
          format: 'raw',
        },
      ]);
      assert.deepEqual(mutations(seq), []);

      // qcow2 on the same NFS storage can snapshot: the check lets it through and PVE takes it
      vm.config.scsi0 = `nas:${vmid}/vm-${vmid}-disk-0.qcow2,iothread=1,size=16G`;
      const made = await ok('create_snapshot', { node, vmid, snapname: 'pre', wait: true });
      assert.equal(made.status, 'completed', JSON.stringify(made));
    } finally {
      vm.config.scsi0 = saved;
    }
  });

  test('a VM made with create_vm defaults can be snapshotted: the disk goes to snapshot-capable storage, and the result says which', async () => {
    const node = nodeOf(100);
    const result = await call('create_vm', { node, name: 'snap-ready', wait: true });
    assert.equal(result.isError, undefined, resultText(result));
    const made = result.structuredContent;
    assert.equal(made.status, 'completed', JSON.stringify(made));
    // nas (NFS) has the most room of the storages that can snapshot, as qcow2 (PVE's API default there is raw)
    assert.equal(made.metadata.storage, 'nas');
    assert.equal(made.metadata.storage_type, 'nfs');
    assert.equal(made.metadata.disk_format, 'qcow2');
    assert.equal(made.metadata.snapshots, true);
    assert.match(made.metadata.storage_reason, /^nas \(nfs, qcow2\): .*can take snapshots/);
    assert.match(resultText(result), /Disk: nas \(nfs, qcow2\)/);
    const vmid = made.metadata.vmid as number;
    assert.match(String(guest(vmid).config.scsi0), new RegExp(`^nas:${vmid}/vm-${vmid}-disk-0\\.qcow2,`));
    const snap = await ok('create_snapshot', { node, vmid, snapname: 'first', wait: true });
    assert.equal(snap.status, 'completed', JSON.stringify(snap));

    // a named storage is used as asked; on thin LVM the disk is raw and can snapshot
    const lvm = await ok('create_vm', { node, name: 'on-lvm', storage: 'local-lvm', wait: true });
    assert.equal(lvm.metadata.disk_format, 'raw');
    assert.equal(lvm.metadata.snapshots, true);
    assert.match(lvm.metadata.storage_reason, /^local-lvm \(lvmthin, raw\): the storage asked for$/);
  });

  test('create_container prefers rootdir storage that can snapshot over a bigger dir storage', async () => {
    const node = nodeOf(100);
    h.sim.cluster.addStorage({
      storage: 'bigdir',
      type: 'dir',
      content: ['rootdir', 'images'],
      shared: false,
      options: { path: '/srv/bigdir' },
      total: 8192 * 1024 ** 3,
    });
    const made = await ok('create_container', {
      node,
      ostemplate: 'nas:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
      wait: true,
    });
    assert.equal(made.status, 'completed', JSON.stringify(made));
    assert.equal(made.metadata.storage, 'local-lvm');
    assert.equal(made.metadata.snapshots, true);
    assert.match(made.metadata.storage_reason, /can take snapshots of container disks/);
    const snap = await ok('create_snapshot', {
      node,
      vmid: made.metadata.vmid,
      vm_type: 'lxc',
      snapname: 'first',
      wait: true,
    });
    assert.equal(snap.status, 'completed', JSON.stringify(snap));
    // a container disk on a dir storage cannot: refused before anything is sent
    const seq = lastSeq();
    const ct = guest(made.metadata.vmid as number);
    const saved = ct.config.rootfs;
    ct.config.rootfs = `bigdir:${ct.vmid}/vm-${ct.vmid}-disk-0.raw,size=8G`;
    try {
      await fails(
        'create_snapshot',
        { node, vmid: ct.vmid, vm_type: 'lxc', snapname: 'second' },
        'CONFLICT',
        /rootfs \(bigdir:\d+\/vm-\d+-disk-0\.raw\) is raw on storage bigdir \(dir\)[^]*pct move-volume/,
      );
      assert.deepEqual(mutations(seq), []);
    } finally {
      ct.config.rootfs = saved;
    }
  });

  test('without wait a snapshot tool returns the running job', async () => {
    const node = nodeOf(102);
    h.sim.tasks.script({ match: { type: 'qmdelsnapshot', id: '102' }, durationMs: 1500 });
    const job = await ok('delete_snapshot', { node, vmid: 102, snapname: 'pre-patch' });
    assert.equal(job.status, 'running');
    const done = await ok('wait_job', { job_id: job.job_id, timeout_seconds: 30 });
    assert.equal(done.status, 'completed');
  });

  test('path injection in node, vmid or snapname is refused before any request', async () => {
    const before = h.sim.totalRequests;
    const attempts: Array<[string, Record<string, unknown>]> = [
      ['list_snapshots', { node: 'pve1/../x', vmid: 100 }],
      ['create_snapshot', { node: 'pve1', vmid: '100/../../', snapname: 'ok-name' }],
      ['rollback_snapshot', { node: 'pve1', vmid: 100, snapname: '../../../cluster' }],
      ['delete_snapshot', { node: 'pve1', vmid: 100, snapname: 'a/b' }],
    ];
    for (const [tool, args] of attempts) await fails(tool, args, 'VALIDATION');
    await request(h.url)
      .post('/nodes/pve1/guests/100/snapshots/..%2F..%2Fx/rollback')
      .set(h.auth)
      .send({})
      .expect(400);
    await request(h.url).delete('/nodes/pve1/guests/100%2F..%2F/snapshots/x1').set(h.auth).expect(400);
    assert.equal(h.sim.totalRequests, before, 'not one request reached the simulator');
  });
});
