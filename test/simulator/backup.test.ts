import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatorApiSuite, type SimClient, type Json } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

/**
 * vzdump and the two restores against the schema-checked simulator. Seeded (3 nodes, 12 guests): VM 100 pve1 running,
 * CT 101 pve2 running, VM 104 pve2 stopped, CT 103 pve1 stopped, CT 105 pve3 running, VM 110 pve2 protected.
 */
describe('simulator: vzdump backups and restores', () => {
  let sim: PveSimulator;
  let api: SimClient;
  const backups = async (node: string, storage: string, vmid?: number): Promise<Json[]> =>
    api.data(`/nodes/${node}/storage/${storage}/content?content=backup${vmid ? `&vmid=${vmid}` : ''}`);
  const newest = async (node: string, storage: string, vmid: number): Promise<Json> =>
    (await backups(node, storage, vmid)).sort((a, b) => b.ctime - a.ctime || (b.volid < a.volid ? -1 : 1))[0];
  const vzdump = (node: string, form: Record<string, string>) => api.post(`/nodes/${node}/vzdump`, form);

  simulatorApiSuite({}, (started) => ({ sim, api } = started));

  test('vzdump: a task that holds the backup lock and writes vzdump-qemu-<vmid>-<time>.vma.zst with notes and protection', async () => {
    sim.tasks.script({ match: { type: 'vzdump', id: '100' }, durationMs: 300 });
    const res = await vzdump('pve1', {
      vmid: '100',
      storage: 'nas',
      mode: 'snapshot',
      compress: 'zstd',
      'notes-template': '{{guestname}} on {{node}} ({{vmid}})\\nsecond line',
      protected: '1',
      remove: '0',
    });
    assert.equal(res.status, 200, res.reason);
    const upid: string = res.json.data;
    assert.match(upid, /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:vzdump:100:/);
    assert.equal(sim.cluster.guest(100)?.lock, 'backup', 'the guest is locked while the backup runs');
    assert.equal((await api.data('/nodes/pve1/qemu/100/config')).lock, 'backup');

    const status = await api.task(res);
    assert.equal(status.exitstatus, 'OK');
    assert.equal(sim.cluster.guest(100)?.lock, undefined, 'the lock is released');
    const log = await api.taskLog(upid);
    const archiveLine = log.find((l) => l.startsWith('INFO: creating vzdump archive'));
    assert.match(
      archiveLine ?? '',
      /^INFO: creating vzdump archive '\/mnt\/pve\/nas\/dump\/vzdump-qemu-100-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.vma\.zst'$/,
    );
    assert.deepEqual(
      log.filter((l) => /^INFO:\s+\d+% \(/.test(l)).map((l) => /(\d+)%/.exec(l)![1]),
      ['25', '50', '75', '100'],
    );
    assert.ok(log.includes('INFO: Backup job finished successfully'));
    assert.equal(log.at(-1), 'TASK OK');

    const made = await newest('pve1', 'nas', 100);
    assert.equal(
      `/mnt/pve/nas/dump/${made.volid.slice('nas:backup/'.length)}`,
      /'(.*)'/.exec(archiveLine!)![1],
    );
    assert.equal(made.content, 'backup');
    assert.equal(made.format, 'vma.zst');
    assert.equal(made.subtype, 'qemu');
    assert.equal(made.vmid, 100);
    assert.equal(made.protected, 1);
    assert.equal(made.notes, 'web-01 on pve1 (100)', 'the list shows the first line of the notes');
    assert.equal(made.ctime, status.starttime);
    const info = await api.data(`/nodes/pve1/storage/nas/content/${encodeURIComponent(made.volid)}`);
    assert.equal(info.notes, 'web-01 on pve1 (100)\nsecond line');
    // nas is shared: the same archive from every node
    assert.ok((await backups('pve3', 'nas', 100)).some((b) => b.volid === made.volid));
  });

  test('vzdump: compress picks the extension; containers are tar archives without percentages', async () => {
    for (const [compress, ext] of [
      ['0', 'vma'],
      ['gzip', 'vma.gz'],
      ['lzo', 'vma.lzo'],
    ]) {
      const status = await api.task(await vzdump('pve2', { vmid: '104', storage: 'local', compress }));
      assert.equal(status.exitstatus, 'OK', compress);
      assert.equal((await newest('pve2', 'local', 104)).format, ext, compress);
    }
    const ct = await vzdump('pve2', { vmid: '101', storage: 'nas', compress: 'zstd', mode: 'stop' });
    assert.equal((await api.task(ct)).exitstatus, 'OK');
    const made = await newest('pve2', 'nas', 101);
    assert.match(made.volid, /^nas:backup\/vzdump-lxc-101-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.tar\.zst$/);
    assert.equal(made.subtype, 'lxc');
    const log = await api.taskLog(ct.json.data);
    assert.ok(log.some((l) => /^INFO: creating vzdump archive '.*\.tar\.zst'$/.test(l)));
    assert.ok(!log.some((l) => /\d+% \(/.test(l)));
    assert.ok(log.includes('INFO: stopping virtual guest'));
    assert.equal(sim.cluster.guest(101)?.status, 'running', 'stop mode starts the guest again');
    // `local` is per node: pve2's archives are not on pve1's local
    assert.ok(!(await backups('pve1', 'local', 104)).length);
  });

  test('vzdump: guests on other nodes are skipped silently ("OK", no task); unknown ids and locks fail the job', async () => {
    const elsewhere = await vzdump('pve1', { vmid: '104', storage: 'nas' });
    assert.equal(elsewhere.status, 200);
    assert.equal(elsewhere.json.data, 'OK');

    const unknown = await api.task(await vzdump('pve1', { vmid: '999', storage: 'nas' }));
    assert.equal(unknown.exitstatus, 'job errors');
    const unknownLog = await api.taskLog(unknown.upid);
    assert.ok(
      unknownLog.includes(
        "ERROR: Backup of VM 999 failed - unable to find configuration file for VM 999 on node 'pve1'",
      ),
    );

    sim.cluster.setLock(104, 'snapshot');
    const before = (await backups('pve2', 'nas', 104)).length;
    const locked = await api.task(await vzdump('pve2', { vmid: '104', storage: 'nas' }));
    sim.cluster.setLock(104, undefined);
    assert.equal(locked.exitstatus, 'job errors');
    assert.ok(
      (await api.taskLog(locked.upid)).includes('ERROR: Backup of VM 104 failed - VM is locked (snapshot)'),
    );
    assert.equal((await backups('pve2', 'nas', 104)).length, before, 'nothing was written');
  });

  test('vzdump: storage that cannot take backups fails the task; root-only options are 400', async () => {
    const lvm = await api.task(await vzdump('pve1', { vmid: '100', storage: 'local-lvm' }));
    assert.equal(
      lvm.exitstatus,
      "could not get storage information for 'local-lvm': can't use storage type 'lvmthin' for backup",
    );
    assert.equal(sim.cluster.guest(100)?.lock, undefined);

    const bw = await vzdump('pve1', { vmid: '100', storage: 'nas', bwlimit: '1000' });
    assert.equal(bw.status, 400);
    assert.deepEqual(bw.json.errors, { bwlimit: 'Only root may set this option.' });
    const bad = await vzdump('pve1', { vmid: '100', compress: 'bzip2' });
    assert.equal(bad.status, 400, 'compress is an enum in the schema');
    assert.ok(sim.schemaViolations().length > 0);
    sim.clearRequests();
  });

  // ------------------------------------------------------------------------------------------- restore

  test('qmrestore: delete a VM, restore it from its backup: same config, new disks, new vmgenid', async () => {
    assert.equal(
      (await api.task(await vzdump('pve2', { vmid: '104', storage: 'nas', compress: 'zstd' }))).exitstatus,
      'OK',
    );
    const archive = (await newest('pve2', 'nas', 104)).volid as string;
    const before = await api.data('/nodes/pve2/qemu/104/config');
    assert.equal((await api.task(await api.del('/nodes/pve2/qemu/104'))).exitstatus, 'OK');
    assert.equal(sim.cluster.guest(104), undefined);

    const res = await api.post('/nodes/pve2/qemu', { vmid: '104', archive });
    assert.match(res.json.data, /:qmrestore:104:/);
    const status = await api.task(res);
    assert.equal(status.exitstatus, 'OK');
    const after = await api.data('/nodes/pve2/qemu/104/config');
    for (const key of ['name', 'memory', 'cores', 'ostype', 'net0', 'smbios1', 'boot', 'scsihw']) {
      assert.equal(after[key], before[key], key);
    }
    assert.notEqual(after.vmgenid, before.vmgenid, 'a restored VM gets a new generation id');
    assert.equal(
      after.scsi0,
      before.scsi0,
      'the disk is recreated under the same name on its original storage',
    );
    assert.equal(after.lock, undefined);
    const log = await api.taskLog(res.json.data);
    assert.ok(log[0].startsWith('restore vma archive: '));
    assert.ok(log.includes("new volume ID is 'local-lvm:vm-104-disk-0'"), log.join('\n'));
    assert.ok(log.some((l) => /^progress 100% \(read \d+ bytes/.test(l)));
    const disks = await api.data('/nodes/pve2/storage/local-lvm/content?vmid=104');
    assert.deepEqual(
      disks.map((d: Json) => d.volid),
      ['local-lvm:vm-104-disk-0'],
    );
  });

  test('qmrestore to a new id: unique gives new MACs, storage moves every disk; the source VM is untouched', async () => {
    const archive = (await newest('pve2', 'nas', 104)).volid as string;
    const res = await api.post('/nodes/pve2/qemu', {
      vmid: '150',
      archive,
      unique: '1',
      storage: 'nas',
      start: '1',
    });
    assert.equal((await api.task(res)).exitstatus, 'OK');
    const source = await api.data('/nodes/pve2/qemu/104/config');
    const copy = await api.data('/nodes/pve2/qemu/150/config');
    assert.equal(copy.name, source.name);
    assert.notEqual(copy.net0, source.net0, 'new MAC');
    assert.equal(copy.net0.replace(/=[0-9A-F:]{17}/, ''), source.net0.replace(/=[0-9A-F:]{17}/, ''));
    assert.notEqual(copy.smbios1, source.smbios1);
    assert.match(copy.scsi0, /^nas:150\/vm-150-disk-0\.raw,/);
    assert.equal(sim.cluster.guest(150)?.status, 'running', 'start=1 starts it');
  });

  test('qmrestore: an existing id needs force, a running VM is not overwritten, drives conflict with archive', async () => {
    const archive = (await newest('pve2', 'nas', 104)).volid as string;
    const taken = await api.post('/nodes/pve2/qemu', { vmid: '110', archive });
    assert.equal(taken.status, 500);
    assert.equal(taken.reason, "unable to restore VM 110 - VM 110 already exists on node 'pve2'");
    const ct = await api.post('/nodes/pve2/qemu', { vmid: '101', archive, force: '1' });
    assert.equal(ct.reason, "unable to restore VM 101 - CT 101 already exists on node 'pve2'");

    const running = await api.task(await api.post('/nodes/pve2/qemu', { vmid: '150', archive, force: '1' }));
    assert.equal(running.exitstatus, 'unable to restore VM 150 - vm is running');
    assert.equal(sim.cluster.guest(150)?.lock, undefined, 'the create lock is removed again');
    assert.equal(sim.cluster.guest(150)?.status, 'running');

    const protectedVm = await api.task(
      await api.post('/nodes/pve2/qemu', { vmid: '110', archive, force: '1' }),
    );
    assert.equal(protectedVm.exitstatus, 'unable to restore VM 110 - protection mode enabled');

    sim.cluster.setRunning(sim.cluster.guest(150)!, false);
    const oldDisk = String((await api.data('/nodes/pve2/qemu/150/config')).scsi0);
    const forced = await api.task(await api.post('/nodes/pve2/qemu', { vmid: '150', archive, force: '1' }));
    assert.equal(forced.exitstatus, 'OK');
    const replaced = await api.data('/nodes/pve2/qemu/150/config');
    assert.match(replaced.scsi0, /^local-lvm:vm-150-disk-0,/, 'back on the original storage');
    assert.ok(oldDisk.startsWith('nas:'));
    assert.deepEqual(
      await api.data('/nodes/pve2/storage/nas/content?vmid=150&content=images'),
      [],
      'old disk gone',
    );

    const drive = await api.post('/nodes/pve2/qemu', { vmid: '151', archive, scsi0: 'local-lvm:8' });
    assert.equal(drive.status, 400);
    assert.deepEqual(drive.json.errors, { scsi0: "option conflicts with option 'archive'" });
    const noForceWithoutArchive = await api.post('/nodes/pve2/qemu', { vmid: '151', force: '1' });
    assert.equal(noForceWithoutArchive.status, 400, 'force requires archive (schema)');
    sim.clearRequests();
  });

  test('qmrestore: the archive must be a backup this node can read', async () => {
    const iso = await api.post('/nodes/pve1/qemu', {
      vmid: '152',
      archive: 'nas:iso/debian-12.7.0-amd64-netinst.iso',
    });
    assert.equal(iso.status, 500);
    assert.equal(
      iso.reason,
      "unable to use volume nas:iso/debian-12.7.0-amd64-netinst.iso - content type needs to be 'backup'",
    );
    const missing = await api.post('/nodes/pve1/qemu', {
      vmid: '152',
      archive: 'nas:backup/vzdump-qemu-100-2020_01_01-00_00_00.vma.zst',
    });
    assert.equal(missing.reason, "can't find file 'nas:backup/vzdump-qemu-100-2020_01_01-00_00_00.vma.zst'");
    // a backup on pve2's local storage is not on pve1's
    const local = (await backups('pve2', 'local', 101))[0].volid as string;
    assert.equal(
      (await api.post('/nodes/pve1/qemu', { vmid: '152', archive: local })).reason,
      `can't find file '${local}'`,
    );
    assert.equal(sim.cluster.guest(152), undefined);
  });

  test('vzrestore: ostemplate=<backup> with restore=1 recreates a container; storage must hold container directories', async () => {
    assert.equal(
      (await api.task(await vzdump('pve1', { vmid: '103', storage: 'nas', compress: 'zstd' }))).exitstatus,
      'OK',
    );
    const archive = (await newest('pve1', 'nas', 103)).volid as string;
    const before = await api.data('/nodes/pve1/lxc/103/config');

    const defaultLocal = await api.post('/nodes/pve1/lxc', {
      vmid: '160',
      ostemplate: archive,
      restore: '1',
    });
    assert.equal(
      defaultLocal.status,
      400,
      "PVE's default storage is local, which holds no container directories",
    );
    assert.deepEqual(defaultLocal.json.errors, {
      storage: "storage 'local' does not support container directories",
    });

    const res = await api.post('/nodes/pve1/lxc', {
      vmid: '160',
      ostemplate: archive,
      restore: '1',
      storage: 'local-lvm',
      unique: '1',
    });
    assert.match(res.json.data, /:vzrestore:160:/);
    assert.equal((await api.task(res)).exitstatus, 'OK');
    const copy = await api.data('/nodes/pve1/lxc/160/config');
    for (const key of ['hostname', 'memory', 'swap', 'cores', 'ostype', 'unprivileged', 'features']) {
      assert.equal(copy[key], before[key], key);
    }
    assert.equal(copy.rootfs, String(before.rootfs).replace('vm-103-disk-0', 'vm-160-disk-0'));
    assert.notEqual(
      /hwaddr=([^,]+)/.exec(copy.net0)?.[1],
      /hwaddr=([^,]+)/.exec(before.net0)?.[1],
      'unique: new MAC',
    );
    const log = await api.taskLog(res.json.data);
    assert.equal(log[0], `recovering backed-up configuration from '${archive}'`);
    assert.ok(log.includes('merging backed-up and given configuration..'));
  });

  test('vzrestore: existing ids need force; a running container is never overwritten; force replaces a stopped one', async () => {
    const archive = (await newest('pve1', 'nas', 103)).volid as string;
    const taken = await api.post('/nodes/pve1/lxc', {
      vmid: '100',
      ostemplate: archive,
      restore: '1',
      storage: 'local-lvm',
    });
    assert.equal(taken.reason, "VM 100 already exists on node 'pve1'");
    const ct105 = (await backups('pve3', 'nas', 101))[0].volid as string;
    const running = await api.post('/nodes/pve3/lxc', {
      vmid: '105',
      ostemplate: ct105,
      restore: '1',
      force: '1',
      storage: 'local-lvm',
    });
    assert.equal(running.status, 500);
    assert.equal(running.reason, "can't overwrite running container");

    const forced = await api.post('/nodes/pve1/lxc', {
      vmid: '160',
      ostemplate: archive,
      restore: '1',
      force: '1',
      storage: 'local-lvm',
      hostname: 'restored-ct',
    });
    assert.equal((await api.task(forced)).exitstatus, 'OK');
    const config = await api.data('/nodes/pve1/lxc/160/config');
    assert.equal(config.hostname, 'restored-ct', 'given options win over the backed-up ones');
    assert.match(config.rootfs, /^local-lvm:vm-160-disk-0,/);
  });

  test('a restore of the wrong guest type fails in the task and cleans up', async () => {
    const ctArchive = (await newest('pve1', 'nas', 103)).volid as string;
    const asVm = await api.task(await api.post('/nodes/pve1/qemu', { vmid: '170', archive: ctArchive }));
    assert.match(asVm.exitstatus, /^unable to restore VM 170 - .* is a container backup$/);
    const vmArchive = (await newest('pve2', 'nas', 104)).volid as string;
    const asCt = await api.task(
      await api.post('/nodes/pve2/lxc', {
        vmid: '171',
        ostemplate: vmArchive,
        restore: '1',
        storage: 'local-lvm',
      }),
    );
    assert.match(asCt.exitstatus, /is not a container backup$/);
    assert.equal(sim.cluster.guest(171), undefined);
  });
});
