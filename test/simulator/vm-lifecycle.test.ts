import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatorApiSuite, type SimClient, type Json } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

const GiB = 1024 ** 3;
const SSH_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGs7Ik7KqA7yVRXrQ5xD2n8jq4v0f4tEo6cT0Sx3uGx1 admin@laptop';

/**
 * Seeded (3 nodes, 12 guests): VM 100 pve1 running with snapshots, VM 102 pve3 running, VM 104 pve2 stopped,
 * VM 106 pve1 running, VM 108 pve3 template, VM 110 pve2 running + protection; CT 101 on pve2.
 */
describe('simulator: VM create, destroy, clone, template', () => {
  let sim: PveSimulator;
  let api: SimClient;
  const resource = async (vmid: number): Promise<Json> =>
    ((await api.data('/cluster/resources?type=vm')) as Json[]).find((r) => r.vmid === vmid);

  simulatorApiSuite({}, (started) => {
    ({ sim, api } = started);
    sim.cluster.addStorage({
      storage: 'old-nfs',
      type: 'nfs',
      content: ['images'],
      shared: true,
      options: { server: '10.10.0.6', export: '/old' },
      total: 1024 * GiB,
      disabled: true,
    });
    sim.cluster.addStorage({
      storage: 'fast',
      type: 'lvmthin',
      content: ['images'],
      shared: false,
      options: { vgname: 'fast', thinpool: 'data' },
      total: 200 * GiB,
      nodes: ['pve2'],
    });
    sim.cluster.addStorage({
      storage: 'tank',
      type: 'zfspool',
      content: ['images', 'rootdir'],
      shared: false,
      options: { pool: 'tank/vmdata' },
      total: 100 * GiB,
    });
  });

  test('create: a qmcreate task allocates disks, adds MACs, cloud-init and defaults like qemu-server', async () => {
    const res = await api.post('/nodes/pve1/qemu', {
      vmid: '150',
      name: 'web-150',
      memory: '2048',
      cores: '2',
      sockets: '1',
      cpu: 'host',
      ostype: 'l26',
      scsihw: 'virtio-scsi-single',
      scsi0: 'local-lvm:32,iothread=1',
      ide2: 'nas:iso/debian-12.7.0-amd64-netinst.iso,media=cdrom',
      ide0: 'local-lvm:cloudinit',
      net0: 'virtio,bridge=vmbr0',
      ciuser: 'admin',
      cipassword: 'Secret123',
      sshkeys: encodeURIComponent(SSH_KEY),
      ipconfig0: 'ip=10.0.0.50/24,gw=10.0.0.1',
      tags: 'web;prod;web',
      pool: 'prod',
      agent: '1',
    });
    assert.match(res.json.data, /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmcreate:150:root@pam!mcp:$/);
    const status = await api.task(res);
    assert.equal(status.exitstatus, 'OK');
    const log = await api.taskLog(res.json.data);
    assert.ok(
      log.includes("scsi0: successfully created disk 'local-lvm:vm-150-disk-0,iothread=1,size=32G'"),
      log.join('\n'),
    );

    const config = await api.data('/nodes/pve1/qemu/150/config');
    assert.equal(config.scsi0, 'local-lvm:vm-150-disk-0,iothread=1,size=32G');
    assert.equal(config.ide2, 'nas:iso/debian-12.7.0-amd64-netinst.iso,media=cdrom,size=631M');
    assert.equal(config.ide0, 'local-lvm:vm-150-cloudinit,media=cdrom');
    assert.match(config.net0, /^virtio=BC:24:11(:[0-9A-F]{2}){3},bridge=vmbr0$/);
    assert.equal(config.boot, 'order=scsi0;ide2;net0');
    assert.equal(config.cipassword, '**********', 'the password is never shown');
    assert.equal(config.sshkeys, encodeURIComponent(SSH_KEY));
    assert.equal(config.tags, 'web;prod');
    assert.equal(config.cores, 2, 'integer options are numbers');
    assert.equal(config.memory, '2048', 'memory is a property string');
    assert.match(config.smbios1, /^uuid=[0-9a-f-]{36}$/);
    assert.match(config.vmgenid, /^[0-9a-f-]{36}$/);
    assert.match(config.meta, /^creation-qemu=[\d.]+,ctime=\d+$/);
    assert.match(config.digest, /^[0-9a-f]{40}$/);
    assert.equal(config.lock, undefined);

    const item = await resource(150);
    assert.equal(item.status, 'stopped');
    assert.equal(item.pool, 'prod');
    assert.equal(item.maxdisk, 32 * GiB);
    const disks: Json[] = await api.data('/nodes/pve1/storage/local-lvm/content?vmid=150');
    assert.deepEqual(disks.map((d) => d.volid).sort(), [
      'local-lvm:vm-150-cloudinit',
      'local-lvm:vm-150-disk-0',
    ]);
    assert.notEqual(await api.data('/cluster/nextid'), '150');
  });

  test('create with start=1 ends with the VM running; a second disk on the storage takes the next name', async () => {
    const res = await api.post('/nodes/pve2/qemu', {
      vmid: '151',
      scsi0: 'local-lvm:8',
      scsi1: 'local-lvm:4',
      virtio0: 'nas:10',
      net0: 'e1000,bridge=vmbr1,tag=20',
      start: '1',
    });
    assert.equal((await api.task(res)).exitstatus, 'OK');
    assert.ok((await api.taskLog(res.json.data)).includes('Execute autostart'));
    const config = await api.data('/nodes/pve2/qemu/151/config');
    assert.equal(config.scsi0, 'local-lvm:vm-151-disk-0,size=8G');
    assert.equal(config.scsi1, 'local-lvm:vm-151-disk-1,size=4G');
    assert.equal(config.virtio0, 'nas:151/vm-151-disk-0.raw,size=10G');
    assert.match(config.net0, /^e1000=BC:24:11(:[0-9A-F]{2}){3},bridge=vmbr1,tag=20$/);
    assert.equal((await resource(151)).name, 'VM 151', 'a VM without a name is listed as "VM <id>"');
    assert.equal((await api.data('/nodes/pve2/qemu/151/status/current')).status, 'running');
  });

  test('create refuses a taken vmid (VM or CT, any node) synchronously, with check_vmid_unused’s text', async () => {
    const vm = await api.post('/nodes/pve2/qemu', { vmid: '100', scsi0: 'local-lvm:8' });
    assert.equal(vm.status, 500);
    assert.equal(vm.reason, "unable to create VM 100 - VM 100 already exists on node 'pve1'");
    const ct = await api.post('/nodes/pve1/qemu', { vmid: '101' });
    assert.equal(ct.json.message, "unable to create VM 101 - CT 101 already exists on node 'pve2'\n");
  });

  test('create checks storages, ISOs, pools and SSH keys before forking, as PVE does', async () => {
    const noStorage = await api.post('/nodes/pve1/qemu', { vmid: '160', scsi0: 'nope:8' });
    assert.equal(noStorage.status, 500);
    assert.equal(noStorage.reason, "storage 'nope' does not exist");
    const noImages = await api.post('/nodes/pve1/qemu', { vmid: '160', scsi0: 'local:8' });
    assert.equal(noImages.status, 400);
    assert.deepEqual(noImages.json.errors, { storage: "storage 'local' does not support vm images" });
    const iso = await api.post('/nodes/pve1/qemu', {
      vmid: '160',
      ide2: 'nas:iso/debian-12.7.0-amd64-netinst.iso',
    });
    assert.deepEqual(iso.json.errors, { ide2: "explicit 'media=cdrom' is required for iso images" });
    const pool = await api.post('/nodes/pve1/qemu', { vmid: '160', pool: 'nope' });
    assert.equal(pool.status, 403);
    assert.equal(pool.reason, "Permission check failed (pool 'nope' does not exist)");
    const badKey = await api.post('/nodes/pve1/qemu', {
      vmid: '160',
      sshkeys: encodeURIComponent('not a key'),
    });
    assert.equal(badKey.reason, 'SSH public key validation error');
    assert.deepEqual(sim.schemaViolations(), []);
    const notEncoded = await api.post('/nodes/pve1/qemu', { vmid: '160', sshkeys: SSH_KEY });
    assert.equal(notEncoded.status, 400, 'sshkeys must be URL-encoded');
    assert.match(notEncoded.json.errors.sshkeys, /^invalid format - invalid urlencoded string: /);
    sim.clearRequests(); // that refusal was the point: do not count it as a client's violation
    assert.equal(sim.cluster.guest(160), undefined, 'nothing was created');
    const restore = await api.post('/nodes/pve1/qemu', { vmid: '160', archive: 'nas:backup/x.vma.zst' });
    // restores are simulated (test/simulator/backup.test.ts); an archive that is not there fails at once
    assert.equal(restore.reason, "can't find file 'nas:backup/x.vma.zst'");
  });

  test('create fails in the task (and removes the half-made VM) when allocation fails', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ vmid: '161', scsi0: 'old-nfs:8' }, "unable to create VM 161 - storage 'old-nfs' is disabled"],
      [
        { vmid: '162', scsi0: 'fast:8' },
        "unable to create VM 162 - storage 'fast' is not available on node 'pve1'",
      ],
      [
        { vmid: '163', scsi0: 'tank:200' },
        "unable to create VM 163 - zfs error: cannot create 'tank/vmdata/vm-163-disk-0': out of space",
      ],
      [
        { vmid: '164', ide2: 'nas:iso/missing.iso,media=cdrom' },
        'unable to create VM 164 - volume nas:iso/missing.iso does not exist',
      ],
    ];
    for (const [params, error] of cases) {
      const status = await api.task(await api.post('/nodes/pve1/qemu', params));
      assert.equal(status.exitstatus, error);
      assert.equal(sim.cluster.guest(Number(params.vmid)), undefined, `${params.vmid} is gone again`);
    }
    // thin pools overcommit: 2 TiB on an 800 GiB thin pool is fine
    const thin = await api.task(await api.post('/nodes/pve1/qemu', { vmid: '165', scsi0: 'local-lvm:2048' }));
    assert.equal(thin.exitstatus, 'OK');
  });

  test('a VM being created exists at once, locked "create"; interrupting the task removes it', async () => {
    sim.tasks.script({ match: { type: 'qmcreate', id: '166' }, durationMs: 60_000 });
    const res = await api.post('/nodes/pve1/qemu', { vmid: '166', scsi0: 'local-lvm:8' });
    const item = await resource(166);
    assert.equal(item.lock, 'create');
    assert.equal((await api.get('/cluster/nextid?vmid=166')).status, 400, 'the id is taken');
    await api.call(`/nodes/pve1/tasks/${encodeURIComponent(res.json.data)}`, { method: 'DELETE' });
    assert.equal((await api.task(res)).exitstatus, 'received interrupt');
    assert.equal(await resource(166), undefined);
  });

  test('destroy: running and protected VMs are refused at once; a lock fails the task; skiplock is root-only', async () => {
    const running = await api.del('/nodes/pve3/qemu/102');
    assert.equal(running.status, 500);
    assert.equal(running.reason, 'VM 102 is running - destroy failed');
    const protectedVm = await api.del('/nodes/pve2/qemu/110');
    assert.equal(protectedVm.reason, "can't remove VM 110 - protection mode enabled");
    const skiplock = await api.del('/nodes/pve2/qemu/104', { skiplock: '1' });
    assert.equal(skiplock.status, 400);
    assert.deepEqual(skiplock.json.errors, { skiplock: 'Only root may use this option.' });

    sim.cluster.setLock(104, 'backup');
    const locked = await api.task(await api.del('/nodes/pve2/qemu/104'));
    assert.equal(locked.exitstatus, 'VM is locked (backup)');
    sim.cluster.setLock(104, undefined);

    const res = await api.del('/nodes/pve2/qemu/104', { purge: '1', 'destroy-unreferenced-disks': '1' });
    assert.match(res.json.data, /:qmdestroy:104:/);
    assert.equal((await api.task(res)).exitstatus, 'OK');
    assert.equal(await resource(104), undefined);
    assert.equal(
      (await api.get('/nodes/pve2/qemu/104/config')).reason,
      "Configuration file 'nodes/pve2/qemu-server/104.conf' does not exist",
    );
    const disks: Json[] = await api.data('/nodes/pve2/storage/local-lvm/content');
    assert.ok(!disks.some((d) => d.vmid === 104), 'its disks are gone');
  });

  test('full clone of a running VM: new disks, MACs and uuid, named Copy-of-VM-… by default', async () => {
    const source = await api.data('/nodes/pve1/qemu/100/config');
    const res = await api.post('/nodes/pve1/qemu/100/clone', { newid: '200', full: '1' });
    assert.match(res.json.data, /:qmclone:100:/);
    assert.equal((await api.task(res)).exitstatus, 'OK');
    const log = await api.taskLog(res.json.data);
    assert.ok(
      log.some((l) => /^transferred [\d.]+ GiB of [\d.]+ GiB \(100\.00%\)$/.test(l)),
      log.join('\n'),
    );
    const config = await api.data('/nodes/pve1/qemu/200/config');
    assert.equal(config.name, 'Copy-of-VM-web-01');
    assert.match(config.scsi0, /^local-lvm:vm-200-disk-0,iothread=1,size=\d+G$/);
    assert.notEqual(config.net0, source.net0);
    assert.notEqual(config.smbios1, source.smbios1);
    assert.equal(config.parent, undefined, 'no snapshot state is copied');
    assert.equal(config.memory, source.memory);
    const snaps: Json[] = await api.data('/nodes/pve1/qemu/200/snapshot');
    assert.deepEqual(
      snaps.map((s) => s.name),
      ['current'],
    );
    assert.equal((await resource(200)).status, 'stopped');
  });

  test('linked clone from the template by default; full=0 of a plain VM is refused like PVE', async () => {
    const res = await api.post('/nodes/pve3/qemu/108/clone', {
      newid: '201',
      name: 'from-template',
      pool: 'lab',
    });
    assert.equal((await api.task(res)).exitstatus, 'OK');
    const config = await api.data('/nodes/pve3/qemu/201/config');
    assert.match(config.scsi0, /^local-lvm:base-108-disk-0\/vm-201-disk-0,iothread=1,size=\d+G$/);
    assert.equal(config.template, undefined);
    assert.equal((await resource(201)).pool, 'lab');

    const linked = await api.post('/nodes/pve1/qemu/100/clone', { newid: '202', full: '0' });
    assert.equal(linked.status, 500);
    assert.equal(
      linked.reason,
      "Linked clone feature is not supported for 'local-lvm:vm-100-disk-0' (scsi0)",
    );
    const storage = await api.post('/nodes/pve3/qemu/108/clone', { newid: '202', storage: 'nas' });
    assert.equal(storage.reason, "parameter 'storage' not allowed for linked clones");
    const noImages = await api.post('/nodes/pve1/qemu/100/clone', { newid: '202', storage: 'local' });
    assert.deepEqual(noImages.json.errors, { storage: "storage 'local' does not support vm images" });
    const remote = await api.post('/nodes/pve1/qemu/100/clone', { newid: '202', target: 'pve2' });
    assert.equal(remote.reason, "can't clone VM to node 'pve2' (VM uses local storage)");
    const badSnap = await api.post('/nodes/pve1/qemu/100/clone', { newid: '202', snapname: 'nope' });
    assert.equal(badSnap.reason, "snapshot 'nope' does not exist");
    const fromSnap = await api.post('/nodes/pve1/qemu/100/clone', {
      newid: '202',
      snapname: 'before-upgrade',
    });
    assert.equal((await api.task(fromSnap)).exitstatus, 'OK');
  });

  test('clone to a full clone on shared storage may target another node; the new VM moves there', async () => {
    const res = await api.post('/nodes/pve1/qemu/100/clone', {
      newid: '203',
      full: '1',
      storage: 'nas',
      format: 'qcow2',
      name: 'moved',
    });
    assert.equal((await api.task(res)).exitstatus, 'OK');
    assert.match((await api.data('/nodes/pve1/qemu/203/config')).scsi0, /^nas:203\/vm-203-disk-0\.qcow2,/);
    // the source itself still uses local storage, so a target node stays refused
    const target = await api.post('/nodes/pve1/qemu/203/clone', { newid: '204', target: 'pve2' });
    assert.equal((await api.task(target)).exitstatus, 'OK');
    assert.equal((await resource(204)).node, 'pve2');
  });

  test('clone to a taken id: same node at once, elsewhere in the task (pmxcfs refuses the file)', async () => {
    const same = await api.post('/nodes/pve1/qemu/100/clone', { newid: '106' });
    assert.equal(same.reason, 'unable to create VM 106: config file already exists');
    const elsewhere = await api.task(await api.post('/nodes/pve1/qemu/100/clone', { newid: '101' }));
    assert.equal(
      elsewhere.exitstatus,
      "close (rename) '/etc/pve/nodes/pve1/qemu-server/101.conf' failed: File exists",
    );
    sim.cluster.setLock(106, 'backup');
    const locked = await api.post('/nodes/pve1/qemu/106/clone', { newid: '205' });
    assert.equal(locked.reason, 'VM is locked (backup)');
    sim.cluster.setLock(106, undefined);
  });

  test('while a clone runs the new VM exists locked "clone" and the source is not locked', async () => {
    sim.tasks.script({ match: { type: 'qmclone', id: '106' }, durationMs: 60_000 });
    const res = await api.post('/nodes/pve1/qemu/106/clone', { newid: '206' });
    assert.equal((await resource(206)).lock, 'clone');
    assert.equal((await resource(106)).lock, undefined);
    await api.call(`/nodes/pve1/tasks/${encodeURIComponent(res.json.data)}`, { method: 'DELETE' });
    await api.task(res);
    assert.equal(await resource(206), undefined, 'an interrupted clone is cleaned up');
  });

  test('template: refusals, then base volumes; a template cannot start', async () => {
    assert.equal(
      (await api.post('/nodes/pve1/qemu/100/template')).reason,
      'unable to create template, because VM contains snapshots',
    );
    assert.equal(
      (await api.post('/nodes/pve3/qemu/108/template')).reason,
      "you can't convert a template to a template",
    );
    assert.equal(
      (await api.post('/nodes/pve3/qemu/102/template')).reason,
      "you can't convert a VM to template if VM is running",
    );
    const res = await api.post('/nodes/pve1/qemu/150/template');
    assert.match(res.json.data, /:qmtemplate:150:/);
    assert.equal((await api.task(res)).exitstatus, 'OK');
    const config = await api.data('/nodes/pve1/qemu/150/config');
    assert.equal(config.template, 1);
    assert.equal(config.scsi0, 'local-lvm:base-150-disk-0,iothread=1,size=32G');
    assert.equal((await resource(150)).template, 1);
    const start = await api.task(await api.post('/nodes/pve1/qemu/150/status/start'));
    assert.equal(start.exitstatus, "you can't start a vm if it's a template");
  });

  test('feature: clone from a template, snapshot on LVM-thin; nodes limited by local storage', async () => {
    assert.deepEqual(await api.data('/nodes/pve3/qemu/108/feature?feature=clone'), {
      hasFeature: 1,
      nodes: ['pve3'],
    });
    assert.equal((await api.data('/nodes/pve1/qemu/100/feature?feature=clone')).hasFeature, 0);
    assert.equal((await api.data('/nodes/pve1/qemu/100/feature?feature=snapshot')).hasFeature, 1);
    assert.equal(
      (await api.data('/nodes/pve2/qemu/151/feature?feature=snapshot')).hasFeature,
      0,
      'raw on NFS',
    );
  });
});
