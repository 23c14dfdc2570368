import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatorApiSuite, type SimClient, type Json } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

/** Seeded: VM 104 (pve2) stopped, VM 102 (pve3) running, VM 110 (pve2) running with protection. */
describe('simulator: VM config (GET/PUT/POST, digest, pending, hot-plug)', () => {
  let sim: PveSimulator;
  let api: SimClient;
  const stopped = '/nodes/pve2/qemu/104';
  const running = '/nodes/pve3/qemu/102';

  simulatorApiSuite({}, (started) => ({ sim, api } = started));

  test('PUT is synchronous (null) and changes the digest; POST returns a qmconfig task that applies it', async () => {
    const before = await api.data(`${stopped}/config`);
    const put = await api.put(`${stopped}/config`, {
      cores: '4',
      description: 'db server',
      digest: before.digest,
    });
    assert.equal(put.status, 200, put.reason);
    assert.equal(put.text, '{"data":null}');
    const after = await api.data(`${stopped}/config`);
    assert.equal(after.cores, 4);
    assert.equal(after.description, 'db server');
    assert.notEqual(after.digest, before.digest);

    const post = await api.post(`${stopped}/config`, { sockets: '2', onboot: '1' });
    assert.match(
      post.json.data,
      /^UPID:pve2:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmconfig:104:root@pam!mcp:$/,
    );
    assert.equal((await api.task(post)).exitstatus, 'OK');
    assert.deepEqual(await api.taskLog(post.json.data), ['update VM 104: -onboot 1 -sockets 2', 'TASK OK']);
    const config = await api.data(`${stopped}/config`);
    assert.equal(config.sockets, 2);
    assert.equal(config.onboot, 1);
  });

  test('a stale digest is refused at once, for PUT and POST', async () => {
    const stale = (await api.data(`${stopped}/config`)).digest;
    await api.put(`${stopped}/config`, { description: 'changed meanwhile' });
    for (const res of [
      await api.put(`${stopped}/config`, { cores: '1', digest: stale }),
      await api.post(`${stopped}/config`, { cores: '1', digest: stale }),
    ]) {
      assert.equal(res.status, 500);
      assert.equal(res.reason, 'checksum mismatch (file change by other user?)');
    }
    assert.equal((await api.data(`${stopped}/config`)).cores, 4, 'nothing changed');
  });

  test('delete removes options; unknown or conflicting options and empty updates are refused', async () => {
    assert.equal((await api.put(`${stopped}/config`, { delete: 'description,onboot' })).status, 200);
    const config = await api.data(`${stopped}/config`);
    assert.equal(config.description, undefined);
    assert.equal(config.onboot, undefined);
    const unknown = await api.put(`${stopped}/config`, { delete: 'frobnicate' });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.json.errors, { delete: "unknown option 'frobnicate'" });
    const both = await api.put(`${stopped}/config`, { delete: 'cores', cores: '2' });
    assert.deepEqual(both.json.errors, {
      delete: "you can't use '-cores' and -delete cores' at the same time",
    });
    const nothing = await api.put(`${stopped}/config`, {});
    assert.equal(nothing.status, 500);
    assert.equal(nothing.reason, 'no options specified');
    const notSet = await api.post(`${stopped}/config`, { delete: 'hookscript' });
    const status = await api.task(notSet);
    assert.equal(status.exitstatus, 'WARNINGS: 1');
    assert.ok(
      (await api.taskLog(notSet.json.data)).includes(
        "cannot delete 'hookscript' - not set in current configuration!",
      ),
    );
  });

  test('a running VM takes fast-plug options at once and keeps the rest pending until it reboots', async () => {
    const old = await api.data(`${running}/config`);
    const res = await api.post(`${running}/config`, { memory: '16384', cores: '8', name: 'db-renamed' });
    assert.equal((await api.task(res)).exitstatus, 'OK');
    const withPending = await api.data(`${running}/config`);
    assert.equal(withPending.name, 'db-renamed');
    assert.equal(withPending.memory, '16384', 'GET config shows pending values by default');
    const current = await api.data(`${running}/config?current=1`);
    assert.equal(current.name, 'db-renamed');
    assert.equal(current.memory, old.memory);
    assert.equal(current.cores, old.cores);
    const pending: Json[] = await api.data(`${running}/pending`);
    assert.deepEqual(
      pending.find((p) => p.key === 'memory'),
      { key: 'memory', value: old.memory, pending: '16384' },
    );
    assert.deepEqual(
      pending.find((p) => p.key === 'cores'),
      { key: 'cores', value: old.cores, pending: 8 },
    );
    assert.equal((await api.data(`${running}/status/current`)).maxmem, Number(old.memory) * 1024 * 1024);

    // revert one pending change, reboot to apply the other
    assert.equal((await api.put(`${running}/config`, { revert: 'cores' })).status, 200);
    assert.equal((await api.task(await api.post(`${running}/status/reboot`))).exitstatus, 'OK');
    const applied = await api.data(`${running}/config?current=1`);
    assert.equal(applied.memory, '16384');
    assert.equal(applied.cores, old.cores);
    assert.ok(!(await api.data(`${running}/pending`)).some((p: Json) => p.pending !== undefined || p.delete));
    assert.equal((await api.data(`${running}/status/current`)).maxmem, 16384 * 1024 * 1024);
  });

  test('disks: a new one is allocated in the task (hot-plugged on SCSI); a removed one becomes unusedN', async () => {
    const add = await api.post(`${running}/config`, { scsi1: 'local-lvm:4,discard=on' });
    assert.equal((await api.task(add)).exitstatus, 'OK');
    assert.ok(
      (await api.taskLog(add.json.data)).includes(
        "scsi1: successfully created disk 'local-lvm:vm-102-disk-1,discard=on,size=4G'",
      ),
    );
    assert.equal(
      (await api.data(`${running}/config?current=1`)).scsi1,
      'local-lvm:vm-102-disk-1,discard=on,size=4G',
    );

    assert.equal((await api.put(`${stopped}/config`, { scsi1: 'local-lvm:2' })).status, 200);
    assert.equal((await api.put(`${stopped}/config`, { delete: 'scsi1' })).status, 200);
    const config = await api.data(`${stopped}/config`);
    assert.equal(config.scsi1, undefined);
    assert.equal(config.unused0, 'local-lvm:vm-104-disk-1');
    assert.equal((await api.put(`${stopped}/config`, { delete: 'unused0' })).status, 200);
    assert.equal((await api.data(`${stopped}/config`)).unused0, undefined);
    const disks: Json[] = await api.data('/nodes/pve2/storage/local-lvm/content?vmid=104');
    assert.deepEqual(
      disks.map((d) => d.volid),
      ['local-lvm:vm-104-disk-0'],
    );
  });

  test('protection blocks removing disks; a lock blocks any change; skiplock is root-only', async () => {
    const protectedVm = await api.put('/nodes/pve2/qemu/110/config', { delete: 'scsi0' });
    assert.equal(protectedVm.status, 500);
    assert.equal(protectedVm.reason, "can't remove drive 'scsi0' - protection mode enabled");
    sim.cluster.setLock(104, 'backup');
    try {
      const locked = await api.post(`${stopped}/config`, { cores: '2' });
      assert.equal(locked.status, 500);
      assert.equal(locked.reason, 'VM is locked (backup)');
      const skip = await api.put(`${stopped}/config`, { cores: '2', skiplock: '1' });
      assert.equal(skip.status, 400);
      assert.deepEqual(skip.json.errors, { skiplock: 'Only root may use this option.' });
    } finally {
      sim.cluster.setLock(104, undefined);
    }
  });

  test('cdrom alias, cloud-init password masking, SSH key check, boot order and balloon checks', async () => {
    assert.equal(
      (await api.put(`${stopped}/config`, { cdrom: 'nas:iso/ubuntu-24.04.1-live-server-amd64.iso' })).status,
      200,
    );
    assert.match(
      (await api.data(`${stopped}/config`)).ide2,
      /^nas:iso\/ubuntu-24\.04\.1-live-server-amd64\.iso,media=cdrom,size=\d+[KMG]$/,
    );
    assert.equal((await api.put(`${stopped}/config`, { ostype: 'l26' })).status, 200);
    assert.equal((await api.put(`${stopped}/config`, { cipassword: 'hunter22', ciuser: 'ops' })).status, 200);
    const config = await api.data(`${stopped}/config`);
    assert.equal(config.cipassword, '**********');
    assert.match(sim.cluster.guest(104)!.config.cipassword as string, /^\$5\$/, 'stored crypt()ed for Linux');
    const key = await api.put(`${stopped}/config`, { sshkeys: encodeURIComponent('ssh-rsa nonsense!') });
    assert.equal(key.reason, 'SSH public key validation error');
    const boot = await api.put(`${stopped}/config`, { boot: 'order=scsi9' });
    assert.equal(boot.reason, "invalid bootorder: device 'scsi9' does not exist'");
    const balloon = await api.put(`${stopped}/config`, { memory: '1024', balloon: '2048' });
    assert.equal(balloon.reason, 'balloon value too large (must be smaller than assigned memory)');
  });

  test('background_delay: POST answers null once the task finished within the delay', async () => {
    const res = await api.post(`${stopped}/config`, { cores: '3', background_delay: '5' });
    assert.equal(res.status, 200);
    assert.equal(res.text, '{"data":null}');
    assert.equal((await api.data(`${stopped}/config`)).cores, 3);
  });
});
