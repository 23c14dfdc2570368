import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { E2E_TAG, openScenarioTarget, storySteps, type Job, type ScenarioTarget } from './harness.js';

// Story: an operator backs up a VM, restores the backup into a new VM ID beside the original (new MAC
// addresses), checks the copy, deletes the backup and both VMs. Restoring and deleting a backup are destructive
// steps: each needs the operator's approval.
describe('scenario: back up a VM, restore it into a new ID, clean up', () => {
  let t: ScenarioTarget;
  let vmid: number;
  let restoredId: number;
  let volid: string;
  const step = storySteps();

  before(async () => (t = await openScenarioTarget()));
  after(() => t?.close());

  step('a test VM and a storage that takes backups', async () => {
    assert.ok(t.backupStorage, `no storage on ${t.node} takes backups (set PROXMOX_MCP_E2E_BACKUP_STORAGE)`);
    vmid = await t.ops.createTestVm(t, 'backup');
  });

  step('create_backup (stop mode, zstd) writes one archive, listed with its notes', async () => {
    const job = await t.ops.tool<Job>('create_backup', {
      node: t.node,
      vmid,
      storage: t.backupStorage,
      mode: 'stop',
      compress: 'zstd',
      notes: `${E2E_TAG} scenario backup of {{vmid}}`,
      wait: true,
      wait_timeout_seconds: 600,
    });
    await t.ops.finish(job);
    const list = await t.ops.tool('list_backups', { vmid, storage: t.backupStorage });
    assert.equal(list.backups.length, 1, JSON.stringify(list.backups));
    const [backup] = list.backups;
    assert.equal(backup.vmid, vmid);
    assert.equal(backup.guest_type, 'qemu');
    assert.equal(backup.protected, false);
    assert.equal(backup.notes, `${E2E_TAG} scenario backup of ${vmid}`);
    volid = backup.volid;
    assert.ok(volid.startsWith(`${t.backupStorage}:backup/`), volid);
  });

  step('restore_backup (approved) into the next free ID: a copy with new MAC addresses', async () => {
    restoredId = (await t.ops.tool<{ vmid: number }>('get_next_vmid')).vmid;
    t.created(restoredId);
    const job = await t.ops.approvedTool<Job>('restore_backup', {
      node: t.node,
      archive: volid,
      vmid: restoredId,
      ...(t.storage ? { storage: t.storage } : {}),
      unique: true,
      wait: true,
      wait_timeout_seconds: 600,
    });
    await t.ops.finish(job);
    const original = (await t.ops.tool('get_vm_config', { node: t.node, vmid })).config;
    const copy = (await t.ops.tool('get_vm_config', { node: t.node, vmid: restoredId })).config;
    assert.equal(copy.name, original.name);
    assert.match(String(copy.tags), new RegExp(`(^|;)${E2E_TAG}($|;)`), 'the copy carries the tag too');
    const mac = (net: unknown) => /=([0-9A-F]{2}(:[0-9A-F]{2}){5})/i.exec(String(net))?.[1];
    assert.ok(mac(copy.net0) && mac(original.net0), `${copy.net0} / ${original.net0}`);
    assert.notEqual(mac(copy.net0), mac(original.net0), 'unique: the copy got a new MAC address');
    assert.equal((await t.ops.vm(t.node, restoredId))?.status, 'stopped');
  });

  step('delete_backup (approved) removes exactly that archive', async () => {
    const job = await t.ops.approvedTool<Job>('delete_backup', {
      node: t.node,
      storage: t.backupStorage,
      volid,
      wait: true,
    });
    await t.ops.finish(job);
    const list = await t.ops.tool('list_backups', { vmid, storage: t.backupStorage });
    assert.deepEqual(list.backups, []);
  });

  step('both VMs are deleted (approved)', async () => {
    for (const id of [restoredId, vmid]) {
      await t.ops.finish(await t.ops.approvedTool<Job>('delete_vm', { node: t.node, vmid: id, force: true }));
      assert.equal(await t.ops.vm(t.node, id), undefined, `VM ${id} is gone`);
    }
  });
});
