import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatorApiSuite, type SimClient, type Json } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

const GiB = 1024 ** 3;
const SSH_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGs7Ik7KqA7yVRXrQ5xD2n8jq4v0f4tEo6cT0Sx3uGx1 admin@laptop';
const TEMPLATE = 'nas:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

/**
 * Containers in the simulator, after pve-container API2/LXC.pm: create (vzcreate), destroy (vzdestroy), resize,
 * config PUT with digest, shutdown/reboot with a timeout. Seeded (3 nodes, 12 guests): CT 101 pve2 running
 * (snapshot `initial`), CT 103 pve1 stopped, CT 105 pve3 running, CT 107 pve2 running, CT 109 pve1 stopped;
 * VM 100 on pve1.
 */
describe('simulator: container lifecycle', () => {
  let sim: PveSimulator;
  let api: SimClient;
  const config = (node: string, vmid: number): Promise<Json> => api.data(`/nodes/${node}/lxc/${vmid}/config`);
  const create = (form: Record<string, string>) =>
    api.post('/nodes/pve1/lxc', { ostemplate: TEMPLATE, ...form });

  simulatorApiSuite({}, (started) => {
    ({ sim, api } = started);
    sim.cluster.addStorage({
      storage: 'thick',
      type: 'lvm',
      content: ['images', 'rootdir'],
      shared: false,
      options: { vgname: 'thick' },
      total: 10 * GiB,
    });
  });

  test('create: a vzcreate task allocates the rootfs, adds a MAC, keeps secrets out of the config', async () => {
    sim.tasks.script({ match: { type: 'vzcreate', id: '200' }, durationMs: 200 });
    const res = await create({
      vmid: '200',
      hostname: 'web',
      memory: '1024',
      cores: '2',
      rootfs: 'local-lvm:8',
      net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
      features: 'nesting=1',
      password: 'hunter22',
      'ssh-public-keys': SSH_KEY,
    });
    assert.equal(res.status, 200, res.reason);
    assert.match(res.json.data, /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:vzcreate:200:/);
    // the container exists at once, locked until the worker is done
    const during = await config('pve1', 200);
    assert.equal(during.lock, 'create');
    const status = await api.task(res);
    assert.equal(status.exitstatus, 'OK');
    const conf = await config('pve1', 200);
    assert.equal(conf.rootfs, 'local-lvm:vm-200-disk-0,size=8G');
    assert.match(conf.net0, /^name=eth0,bridge=vmbr0,hwaddr=BC:24:11:[0-9A-F:]{8},ip=dhcp,type=veth$/);
    assert.equal(conf.hostname, 'web');
    assert.equal(conf.memory, 1024);
    assert.equal(conf.swap, 512);
    assert.equal(conf.cores, 2);
    assert.equal(conf.unprivileged, 1, 'unprivileged is the create default');
    assert.equal(conf.ostype, 'debian');
    assert.equal(conf.features, 'nesting=1');
    assert.equal(conf.lock, undefined);
    assert.equal(conf.password, undefined);
    assert.equal(conf['ssh-public-keys'], undefined);
    const row = ((await api.data('/cluster/resources?type=vm')) as Json[]).find((r) => r.vmid === 200);
    assert.equal(row.type, 'lxc');
    assert.equal(row.status, 'stopped');
    assert.equal(row.maxdisk, 8 * GiB);
    const volumes = (await api.data('/nodes/pve1/storage/local-lvm/content')) as Json[];
    assert.ok(volumes.some((v) => v.volid === 'local-lvm:vm-200-disk-0' && v.content === 'rootdir'));
  });

  test('create with start=1 ends running; privileged when unprivileged=0; rootfs as a bare number uses storage', async () => {
    const res = await create({
      vmid: '201',
      start: '1',
      unprivileged: '0',
      rootfs: '4',
      storage: 'local-lvm',
    });
    assert.equal((await api.task(res)).exitstatus, 'OK');
    const conf = await config('pve1', 201);
    assert.equal(conf.unprivileged, undefined);
    assert.equal(conf.hostname, 'CT201');
    assert.equal(conf.rootfs, 'local-lvm:vm-201-disk-0,size=4G');
    assert.equal(sim.cluster.guest(201)?.status, 'running');
  });

  test('create refusals, synchronous like PVE: ids of VMs and containers, storage content, template type, keys', async () => {
    const vm = await create({ vmid: '100', rootfs: 'local-lvm:8' });
    assert.equal(vm.status, 500);
    assert.equal(vm.reason, "VM 100 already exists on node 'pve1'");
    const ct = await create({ vmid: '101', rootfs: 'local-lvm:8' });
    assert.equal(ct.reason, "CT 101 already exists on node 'pve2'");
    const dir = await create({ vmid: '202', rootfs: 'local:8' });
    assert.equal(dir.status, 400);
    assert.equal(dir.json.errors.storage, "storage 'local' does not support container directories");
    // without rootfs the default storage is `local`, as in PVE
    const noRootfs = await create({ vmid: '202' });
    assert.equal(noRootfs.status, 400);
    const iso = await create({
      vmid: '202',
      rootfs: 'local-lvm:8',
      ostemplate: 'nas:iso/debian-12.7.0-amd64-netinst.iso',
    });
    assert.equal(iso.status, 500);
    assert.match(iso.reason, /content type needs to be 'vztmpl'/);
    const keys = await create({ vmid: '202', rootfs: 'local-lvm:8', 'ssh-public-keys': 'not a key' });
    assert.equal(keys.reason, 'SSH public key validation error');
    const bind = await create({ vmid: '202', rootfs: 'local-lvm:8', mp0: '/srv/data,mp=/data' });
    assert.equal(bind.reason, 'Only root can pass arbitrary filesystem paths.');
    const storage = await create({ vmid: '202', rootfs: 'nope:8' });
    assert.equal(storage.reason, "storage 'nope' does not exist");
    assert.equal(sim.cluster.guest(202), undefined, 'nothing was created');
  });

  test('a template that is not there fails in the task (after the lock) and the container disappears again', async () => {
    const res = await create({
      vmid: '203',
      rootfs: 'local-lvm:8',
      ostemplate: 'nas:vztmpl/missing.tar.zst',
    });
    assert.equal(res.status, 200);
    const status = await api.task(res);
    assert.equal(status.exitstatus, "unable to create CT 203 - can't find file 'nas:vztmpl/missing.tar.zst'");
    assert.equal(sim.cluster.guest(203), undefined);
  });

  test('thick LVM refuses a rootfs that does not fit (in the task)', async () => {
    const res = await create({ vmid: '204', rootfs: 'thick:50' });
    const status = await api.task(res);
    assert.match(
      status.exitstatus,
      /^unable to create CT 204 - lvcreate 'thick\/vm-204-disk-0' error: .*insufficient free space/,
    );
  });

  test('destroy: running refused, protection honoured, force stops first (WARNINGS), purge logged', async () => {
    const running = await api.del('/nodes/pve2/lxc/107');
    assert.equal(running.status, 500);
    assert.equal(running.reason, 'unable to destroy CT 107 - container is running');
    sim.cluster.guest(105)!.config.protection = 1;
    const prot = await api.del('/nodes/pve3/lxc/105', { force: '1' });
    assert.equal(prot.reason, "can't remove CT 105 - protection mode enabled");
    delete sim.cluster.guest(105)!.config.protection;
    sim.cluster.setLock(109, 'backup');
    assert.equal((await api.del('/nodes/pve1/lxc/109')).reason, 'CT is locked (backup)');
    sim.cluster.setLock(109, undefined);

    const forced = await api.del('/nodes/pve2/lxc/107', { force: '1', purge: '1' });
    const status = await api.task(forced);
    assert.equal(status.exitstatus, 'WARNINGS: 1');
    const log = await api.taskLog(forced.json.data);
    assert.ok(log.includes('forced to stop CT 107 before destroying!'));
    assert.ok(log.includes('purging CT 107 from related configurations..'));
    assert.equal(sim.cluster.guest(107), undefined);

    const plain = await api.del('/nodes/pve1/lxc/109', { 'destroy-unreferenced-disks': '1' });
    assert.equal((await api.task(plain)).exitstatus, 'OK');
    assert.equal(
      (await api.get('/nodes/pve1/lxc/109/config')).reason,
      "Configuration file 'nodes/pve1/lxc/109.conf' does not exist",
    );
  });

  test('resize: +2G grows in a resize task; shrinking, no-ops, a stale digest and unknown disks are refused', async () => {
    const before = await config('pve1', 200);
    const grow = await api.put('/nodes/pve1/lxc/200/resize', { disk: 'rootfs', size: '+2G' });
    assert.equal(grow.status, 200, grow.reason);
    assert.match(grow.json.data, /:resize:200:/);
    assert.equal((await api.task(grow)).exitstatus, 'OK');
    assert.equal((await config('pve1', 200)).rootfs, 'local-lvm:vm-200-disk-0,size=10G');
    assert.equal(sim.cluster.guest(200)?.diskBytes, 10 * GiB);

    const shrink = await api.put('/nodes/pve1/lxc/200/resize', { disk: 'rootfs', size: '9G' });
    assert.equal(shrink.status, 500);
    assert.equal(shrink.reason, 'unable to shrink disk size');
    assert.equal(
      (await api.put('/nodes/pve1/lxc/200/resize', { disk: 'rootfs', size: '10G' })).reason,
      'disk is already at specified size',
    );
    const stale = await api.put('/nodes/pve1/lxc/200/resize', {
      disk: 'rootfs',
      size: '+1G',
      digest: before.digest,
    });
    assert.equal(stale.reason, 'detected modified configuration - file changed by other user? Try again.');
    assert.equal((await api.put('/nodes/pve1/lxc/200/resize', { disk: 'mp3', size: '+1G' })).status, 500);
  });

  test('config PUT: cores/memory/swap at once, guarded by the digest; delete; read-only and empty requests refused', async () => {
    const { digest } = await config('pve1', 200);
    const ok = await api.put('/nodes/pve1/lxc/200/config', { cores: '4', memory: '2048', swap: '0', digest });
    assert.equal(ok.status, 200, ok.reason);
    assert.equal(ok.json.data, null);
    const conf = await config('pve1', 200);
    assert.equal(conf.cores, 4);
    assert.equal(conf.memory, 2048);
    assert.equal(conf.swap, 0);
    assert.notEqual(conf.digest, digest);
    const stale = await api.put('/nodes/pve1/lxc/200/config', { cores: '1', digest });
    assert.equal(stale.reason, 'detected modified configuration - file changed by other user? Try again.');
    assert.equal((await api.put('/nodes/pve1/lxc/200/config', {})).reason, 'no options specified');
    assert.equal((await api.put('/nodes/pve1/lxc/200/config', { unprivileged: '0' })).status, 500);
    assert.equal((await api.put('/nodes/pve1/lxc/200/config', { delete: 'features' })).status, 200);
    assert.equal((await config('pve1', 200)).features, undefined);
  });

  test('shutdown with a timeout: a container that ignores it fails the task, forceStop stops it; reboot alike', async () => {
    sim.cluster.setIgnoresShutdown(105, true);
    const timedOut = await api.post('/nodes/pve3/lxc/105/status/shutdown', { timeout: '1' });
    assert.equal((await api.task(timedOut)).exitstatus, 'container did not stop');
    assert.equal(sim.cluster.guest(105)?.status, 'running');
    const reboot = await api.post('/nodes/pve3/lxc/105/status/reboot', { timeout: '1' });
    assert.equal((await api.task(reboot)).exitstatus, 'container did not stop');
    const forced = await api.post('/nodes/pve3/lxc/105/status/shutdown', { timeout: '1', forceStop: '1' });
    assert.equal((await api.task(forced)).exitstatus, 'OK');
    assert.equal(sim.cluster.guest(105)?.status, 'stopped');
    sim.cluster.setIgnoresShutdown(105, false);
  });

  test('GET /nodes/{node}/lxc/{vmid}: the directory index of a container', async () => {
    const index = (await api.data('/nodes/pve1/lxc/103')) as Json[];
    assert.ok(index.some((e) => e.subdir === 'resize') && index.some((e) => e.subdir === 'interfaces'));
    assert.equal((await api.get('/nodes/pve1/lxc/101')).status, 500, 'CT 101 is on pve2');
  });
});
