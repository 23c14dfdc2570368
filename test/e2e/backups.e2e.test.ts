import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { simRequests, toolCalls } from '../helpers/tools.js';
import { OPERATOR_KEY, startHarness, testConfig, withOperator, type Harness } from '../helpers/test-app.js';
import { SimClient } from '../helpers/sim-client.js';

/**
 * list_backups, create_backup, restore_backup and delete_backup over MCP (SDK client that has listed the tools, so
 * every result is checked against its outputSchema) and REST, against the schema-checked simulator (tasks end on the
 * next tick). Seeded (3 nodes, 12 guests): VM 100 pve1 running, CT 101 pve2 running, VM 102 pve3, CT 103 pve1
 * stopped, VM 104 pve2 stopped, VM 110 pve2 protected. `nas` (shared) holds two backups each of 100-103 (VM 100's
 * older one protected); each node's `local` holds one backup of its first guest.
 */
describe('backup tools against the simulator', () => {
  let h: Harness;
  let mcp: Client;
  let pve: SimClient;
  const { ok, fails } = toolCalls(() => mcp);
  const { lastSeq, since, mutations } = simRequests(() => h.sim);
  const newestBackup = async (vmid: number, storage = 'nas') =>
    (await ok('list_backups', { vmid, storage })).backups[0] as { volid: string; vmid: number };

  before(async () => {
    h = await startHarness({ nodes: 3, guests: 12, taskSeconds: 0 });
    mcp = await h.mcp();
    await mcp.listTools(); // from here on the SDK checks every result against the tool's outputSchema
    pve = new SimClient(h.sim);
  });
  after(async () => {
    await pve.close();
    await h.close(); // fails on any request real PVE would refuse
  });

  test('tools/list: the four tools, risks, enums and the approval_token of the destroy tools', async () => {
    const { tools } = await mcp.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.equal(byName.get('list_backups')?.annotations?.readOnlyHint, true);
    assert.equal(byName.get('restore_backup')?.annotations?.destructiveHint, true);
    assert.equal(byName.get('delete_backup')?.annotations?.destructiveHint, true);
    assert.notEqual(byName.get('create_backup')?.annotations?.destructiveHint, true);
    const create = byName.get('create_backup')!.inputSchema as any;
    assert.deepEqual(create.properties.mode.enum, ['snapshot', 'suspend', 'stop']);
    assert.deepEqual(create.properties.compress.enum, ['zstd', 'gzip', 'lzo', '0']);
    assert.deepEqual(create.required, ['node', 'storage', 'vmid']);
    const restore = byName.get('restore_backup')!.inputSchema as any;
    assert.deepEqual(restore.required, ['archive', 'node', 'vmid']);
    assert.equal(restore.properties.approval_token?.type, 'string');
    assert.equal((byName.get('delete_backup')!.inputSchema as any).properties.approval_token?.type, 'string');
    assert.equal(create.properties.approval_token, undefined);
  });

  // ------------------------------------------------------------------------------------------------ list

  test('list_backups: newest first, shared storage read once, local storage per node', async () => {
    const seq = lastSeq();
    const all = await ok('list_backups');
    const reads = since(seq).filter((r) => /\/content$/.test(r.path));
    assert.deepEqual(
      reads.map((r) => r.path).sort(),
      [
        '/nodes/pve1/storage/local/content',
        '/nodes/pve1/storage/nas/content',
        '/nodes/pve2/storage/local/content',
        '/nodes/pve3/storage/local/content',
      ],
      'one call per storage: nas once, local on each node',
    );
    assert.ok(reads.every((r) => r.query.content === 'backup'));
    assert.equal(all.total, 11);
    assert.equal(all.partial, false);
    const times = all.backups.map((b: any) => b.created_at);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
    const protectedOne = all.backups.find((b: any) => b.protected);
    assert.match(protectedOne.volid, /^nas:backup\/vzdump-qemu-100-/);
    const local2 = all.backups.find((b: any) => b.storage === 'local' && b.node === 'pve2');
    assert.deepEqual(
      { vmid: local2.vmid, guest_type: local2.guest_type, shared: local2.shared, format: local2.format },
      { vmid: 101, guest_type: 'lxc', shared: false, format: 'tar.zst' },
    );
    assert.equal(all.backups.find((b: any) => b.storage === 'nas').shared, true);
  });

  test('list_backups: vmid, node and storage filters (vmid goes to Proxmox); REST GET /backups is the same', async () => {
    const seq = lastSeq();
    const vm100 = await ok('list_backups', { vmid: 100 });
    assert.ok(
      since(seq)
        .filter((r) => /\/content$/.test(r.path))
        .every((r) => r.query.vmid === '100'),
    );
    assert.deepEqual(
      vm100.backups.map((b: any) => [b.vmid, b.storage, b.protected]),
      [
        [100, 'nas', false],
        [100, 'nas', true],
        [100, 'local', false],
      ],
    );
    const onPve2 = await ok('list_backups', { node: 'pve2', storage: 'local' });
    assert.deepEqual(
      onPve2.backups.map((b: any) => b.node),
      ['pve2'],
    );
    const rest = await request(h.url).get('/backups?vmid=100').set(h.auth).expect(200);
    assert.deepEqual(rest.body, vm100);
    const limited = await ok('list_backups', { limit: 2 });
    assert.equal(limited.backups.length, 2);
    assert.equal(limited.truncated, true);
    await fails('list_backups', { storage: 'nope' }, 'NOT_FOUND', /storage 'nope' does not exist/);
    await fails('list_backups', { vmid: 99 }, 'VALIDATION');
  });

  // ------------------------------------------------------------------------------------------------ create

  test('create_backup: vzdump with the given mode, compression, notes and protection; never prunes', async () => {
    const seq = lastSeq();
    const job = await ok('create_backup', {
      node: 'pve1',
      vmid: 100,
      storage: 'nas',
      notes: '{{guestname}} before upgrade',
      protected: true,
      wait: true,
    });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.tool_name, 'create_backup');
    assert.match(job.task_id, /:vzdump:100:/);
    assert.deepEqual(job.metadata, {
      vmid: 100,
      guest_type: 'qemu',
      name: 'web-01',
      storage: 'nas',
      mode: 'snapshot',
      compress: 'zstd',
      protected: true,
    });
    const [post] = mutations(seq);
    assert.equal(post.path, '/nodes/pve1/vzdump');
    assert.deepEqual(post.body, {
      vmid: '100',
      storage: 'nas',
      mode: 'snapshot',
      compress: 'zstd',
      remove: '0',
      'notes-template': '{{guestname}} before upgrade',
      protected: '1',
    });
    const newest = (await ok('list_backups', { vmid: 100, storage: 'nas' })).backups[0];
    assert.equal(newest.notes, 'web-01 before upgrade');
    assert.equal(newest.protected, true);
    assert.equal(newest.format, 'vma.zst');
  });

  test('create_backup over REST: POST /nodes/{node}/guests/{vmid}/backups, a container in stop mode with gzip', async () => {
    const seq = lastSeq();
    const res = await request(h.url)
      .post('/nodes/pve2/guests/101/backups')
      .set(h.auth)
      .send({ storage: 'local', mode: 'stop', compress: 'gzip', wait: true })
      .expect(202);
    assert.equal(res.body.status, 'completed');
    assert.deepEqual(mutations(seq)[0].body, {
      vmid: '101',
      storage: 'local',
      mode: 'stop',
      compress: 'gzip',
      remove: '0',
    });
    const backup = (await ok('list_backups', { vmid: 101, node: 'pve2', storage: 'local' })).backups[0];
    assert.match(backup.volid, /^local:backup\/vzdump-lxc-101-.*\.tar\.gz$/);
    assert.equal(backup.guest_type, 'lxc');
  });

  test('create_backup refuses before sending: wrong node, unknown guest, bad enums, storage without backups, a lock', async () => {
    const seq = lastSeq();
    await fails(
      'create_backup',
      { node: 'pve1', vmid: 104, storage: 'nas' },
      'VALIDATION',
      /VM 104 is on node pve2, not pve1/,
    );
    await fails(
      'create_backup',
      { node: 'pve1', vmid: 999, storage: 'nas' },
      'NOT_FOUND',
      /No VM or container 999/,
    );
    await fails(
      'create_backup',
      { node: 'pve1', vmid: 100, storage: 'nas', mode: 'fast' },
      'VALIDATION',
      /mode/,
    );
    await fails(
      'create_backup',
      { node: 'pve1', vmid: 100, storage: 'nas', compress: 'bzip2' },
      'VALIDATION',
      /compress/,
    );
    await fails(
      'create_backup',
      { node: 'pve1', vmid: 100, storage: 'local-lvm' },
      'VALIDATION',
      /storage 'local-lvm' cannot hold backups on node pve1/,
    );
    await fails(
      'create_backup',
      { node: 'pve1', vmid: 100, storage: 'nas', notes: 'two\nlines' },
      'VALIDATION',
      /notes/,
    );
    await fails('create_backup', { node: 'pve1', vmid: 100, storage: 'nas', remove: 1 }, 'VALIDATION');
    h.sim.cluster.setLock(103, 'snapshot');
    try {
      await fails(
        'create_backup',
        { node: 'pve1', vmid: 103, storage: 'nas' },
        'CONFLICT',
        /CT 103 is locked \(snapshot\)/,
      );
    } finally {
      h.sim.cluster.setLock(103, undefined);
    }
    assert.deepEqual(mutations(seq), [], 'nothing was sent to Proxmox');
  });

  // ------------------------------------------------------------------------------------------------ round trips

  test('VM round trip: create_backup → delete_vm → restore_backup gives the VM back with its configuration', async () => {
    const backup = await ok('create_backup', { node: 'pve2', vmid: 104, storage: 'nas', wait: true });
    assert.equal(backup.status, 'completed');
    const archive = (await newestBackup(104)).volid;
    const before = (await ok('get_vm_config', { node: 'pve2', vmid: 104 })).config;
    const deleted = await ok('delete_vm', { node: 'pve2', vmid: 104, wait: true });
    assert.equal(deleted.status, 'completed');
    assert.equal(h.sim.cluster.guest(104), undefined);

    const seq = lastSeq();
    const job = await ok('restore_backup', { node: 'pve2', archive, vmid: 104, unique: false, wait: true });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.match(job.task_id, /:qmrestore:104:/);
    const [post] = mutations(seq);
    assert.equal(post.path, '/nodes/pve2/qemu');
    assert.deepEqual(post.body, { vmid: '104', archive, unique: '0' }, 'form-encoded, as PVE receives it');
    const after = (await ok('get_vm_config', { node: 'pve2', vmid: 104 })).config;
    for (const key of ['name', 'memory', 'cores', 'ostype', 'net0', 'scsi0', 'boot']) {
      assert.deepEqual(after[key], before[key], key);
    }
  });

  test('container round trip: create_backup → delete the CT → restore_backup with ostemplate + restore=1', async () => {
    const backup = await ok('create_backup', { node: 'pve1', vmid: 103, storage: 'nas', wait: true });
    assert.equal(backup.status, 'completed');
    const archive = (await newestBackup(103)).volid;
    assert.match(archive, /vzdump-lxc-103-/);
    const before = (await ok('get_container_config', { node: 'pve1', vmid: 103 })).config;
    // the container is removed out of band (through the PVE API itself)
    assert.equal((await pve.task(await pve.del('/nodes/pve1/lxc/103'))).exitstatus, 'OK');
    assert.equal(h.sim.cluster.guest(103), undefined);

    const seq = lastSeq();
    const job = await ok('restore_backup', { node: 'pve1', archive, vmid: 103, wait: true });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.match(job.task_id, /:vzrestore:103:/);
    const [post] = mutations(seq);
    assert.equal(post.path, '/nodes/pve1/lxc');
    // the reference sent `archive` here, which PVE refuses: the container endpoint takes ostemplate + restore=1
    assert.deepEqual(post.body, {
      vmid: '103',
      ostemplate: archive,
      restore: '1',
      storage: 'local-lvm',
      unique: '1',
    });
    assert.equal(
      job.metadata.storage,
      'local-lvm',
      'the node storage for containers with the most free space',
    );
    const after = (await ok('get_container_config', { node: 'pve1', vmid: 103 })).config;
    for (const key of ['hostname', 'memory', 'swap', 'cores', 'ostype', 'rootfs']) {
      assert.deepEqual(after[key], before[key], key);
    }
    assert.notEqual(
      /hwaddr=([^,]+)/.exec(String(after.net0))?.[1],
      /hwaddr=([^,]+)/.exec(String(before.net0))?.[1],
    );
  });

  test('restore_backup to a new id over REST; storage for VM disks must hold images', async () => {
    const archive = (await newestBackup(104)).volid;
    await fails(
      'restore_backup',
      { node: 'pve2', archive, vmid: 150, storage: 'local' },
      'VALIDATION',
      /storage 'local' cannot hold VM disks on node pve2/,
    );
    const res = await request(h.url)
      .post('/nodes/pve2/backups/restore')
      .set(h.auth)
      .send({ archive, vmid: 150, storage: 'nas', wait: true })
      .expect(202);
    assert.equal(res.body.status, 'completed');
    const copy = (await ok('get_vm_config', { node: 'pve2', vmid: 150 })).config;
    assert.match(String(copy.scsi0), /^nas:150\/vm-150-disk-0\.raw,/);
  });

  test('restore_backup refuses an existing id unless force; force only over a stopped guest of the same type here', async () => {
    const vmArchive = (await newestBackup(104)).volid;
    const seq = lastSeq();
    await fails(
      'restore_backup',
      { node: 'pve2', archive: vmArchive, vmid: 104 },
      'CONFLICT',
      /VM 104 on node pve2 already exists; nothing was restored/,
    );
    await fails(
      'restore_backup',
      { node: 'pve2', archive: vmArchive, vmid: 110, force: true },
      'CONFLICT',
      /VM 110 on node pve2 is running/,
    );
    const vm110 = h.sim.cluster.guest(110)!;
    h.sim.cluster.setRunning(vm110, false);
    try {
      await fails(
        'restore_backup',
        { node: 'pve2', archive: vmArchive, vmid: 110, force: true },
        'CONFLICT',
        /VM 110 on node pve2 is protected \(protection=1\)/,
      );
    } finally {
      h.sim.cluster.setRunning(vm110, true);
    }
    await fails(
      'restore_backup',
      { node: 'pve2', archive: vmArchive, vmid: 101, force: true },
      'CONFLICT',
      /is not a VM/,
    );
    await fails(
      'restore_backup',
      { node: 'pve1', archive: vmArchive, vmid: 104, force: true },
      'CONFLICT',
      /on another node/,
    );
    await fails('restore_backup', { node: 'pve2', archive: vmArchive, vmid: 100 }, 'CONFLICT');
    const ctRunning = (await newestBackup(101)).volid;
    await fails(
      'restore_backup',
      { node: 'pve2', archive: ctRunning, vmid: 101, force: true },
      'CONFLICT',
      /is running/,
    );
    await fails(
      'restore_backup',
      { node: 'pve1', archive: 'nas:backup/vzdump-qemu-100-2020_01_01-00_00_00.vma.zst', vmid: 160 },
      'NOT_FOUND',
      /Backup nas:backup\/vzdump-qemu-100-2020_01_01-00_00_00\.vma\.zst not found on node pve1/,
    );
    const localOfPve2 = (await ok('list_backups', { node: 'pve2', storage: 'local', vmid: 101 })).backups[0]
      .volid;
    await fails(
      'restore_backup',
      { node: 'pve1', archive: localOfPve2, vmid: 160 },
      'NOT_FOUND',
      /not found on node pve1/,
    );
    for (const archive of [
      'nas:iso/debian-12.7.0-amd64-netinst.iso',
      'nas:backup/../iso/x.iso',
      'local-lvm:vm-100-disk-0',
      '../x',
    ]) {
      await fails(
        'restore_backup',
        { node: 'pve1', archive, vmid: 160 },
        'VALIDATION',
        /archive must be a backup volume ID/,
      );
    }
    assert.deepEqual(mutations(seq), [], 'nothing was sent to Proxmox');

    const forced = await ok('restore_backup', {
      node: 'pve2',
      archive: vmArchive,
      vmid: 150,
      force: true,
      wait: true,
    });
    assert.equal(forced.status, 'completed');
    assert.equal(forced.metadata.overwrote_existing, true);
    const post = mutations(seq).find((r) => r.method === 'POST');
    assert.equal(post?.body?.force, '1');
    assert.match(
      String((await ok('get_vm_config', { node: 'pve2', vmid: 150 })).config.scsi0),
      /^local-lvm:vm-150-disk-0,/,
    );
  });

  // ------------------------------------------------------------------------------------------------ delete

  test('delete_backup: a protected backup is an error result and is not deleted; others go', async () => {
    const vm100 = (await ok('list_backups', { vmid: 100, storage: 'nas' })).backups;
    const protectedOne = vm100.find((b: any) => b.protected);
    const seq = lastSeq();
    const refused = await fails(
      'delete_backup',
      { node: 'pve1', storage: 'nas', volid: protectedOne.volid },
      'CONFLICT',
      /is protected and cannot be deleted/,
    );
    assert.doesNotMatch(refused, /Deleted/);
    assert.deepEqual(mutations(seq), []);

    const plain = vm100.find((b: any) => !b.protected);
    const job = await ok('delete_backup', { node: 'pve3', storage: 'nas', volid: plain.volid, wait: true });
    assert.equal(job.status, 'completed');
    assert.match(job.task_id, /:imgdel:100@nas:/);
    const [del] = mutations(seq);
    assert.equal(del.method, 'DELETE');
    assert.equal(del.path, `/nodes/pve3/storage/nas/content/${plain.volid}`);
    const left = (await ok('list_backups', { vmid: 100, storage: 'nas' })).backups.map((b: any) => b.volid);
    assert.ok(!left.includes(plain.volid));
    assert.ok(left.includes(protectedOne.volid));
  });

  test('delete_backup: exact backup volume IDs only; REST DELETE /nodes/{node}/storage/{storage}/backups', async () => {
    const seq = lastSeq();
    await fails(
      'delete_backup',
      { node: 'pve1', storage: 'local-lvm', volid: 'local-lvm:vm-100-disk-0' },
      'VALIDATION',
      /volid must be a backup volume ID/,
    );
    await fails(
      'delete_backup',
      { node: 'pve1', storage: 'nas', volid: 'nas:iso/debian-12.7.0-amd64-netinst.iso' },
      'VALIDATION',
    );
    await fails(
      'delete_backup',
      { node: 'pve1', storage: 'nas', volid: 'nas:backup/vzdump-qemu-101' },
      'NOT_FOUND',
      /No backup/,
    );
    const some = (await ok('list_backups', { vmid: 102, storage: 'nas' })).backups[0].volid;
    await fails(
      'delete_backup',
      { node: 'pve1', storage: 'local', volid: some },
      'VALIDATION',
      /is not on storage 'local'/,
    );
    assert.deepEqual(mutations(seq), []);

    const res = await request(h.url)
      .delete(`/nodes/pve1/storage/nas/backups?volid=${encodeURIComponent(some)}&wait=true`)
      .set(h.auth)
      .expect(202);
    assert.equal(res.body.status, 'completed');
    assert.equal(res.body.tool_name, 'delete_backup');
    const restGone = await request(h.url).get('/backups?vmid=102&storage=nas').set(h.auth).expect(200);
    assert.ok(!restGone.body.backups.some((b: any) => b.volid === some));
  });
});

/** restore_backup is one tool with risk destroy: under enforce every restore needs an approval bound to its arguments. */
describe('restore_backup approvals (high_risk_mode enforce)', () => {
  let h: Harness;
  const config = (sim: Parameters<typeof simulatorTargetConfig>[0]): AppConfig =>
    withOperator(testConfig([simulatorTargetConfig(sim)]), { highRiskMode: 'enforce' });
  const tool = (name: string, args: Record<string, unknown>) =>
    request(h.url).post(`/${name}`).set(h.auth).send(args);

  before(async () => {
    h = await startHarness({ nodes: 1, guests: 4 }, config);
  });
  after(() => h.close());

  test('an approval for a restore without force does not cover force: true', async () => {
    const archive = (await tool('list_backups', { vmid: 100, storage: 'nas' }).expect(200)).body.backups[0]
      .volid;
    const args = { node: 'pve1', archive, vmid: 170, wait: true };
    const refused = await tool('restore_backup', args).expect(403);
    assert.equal(refused.body.details.policy_code, 'OP_POLICY_APPROVAL_REQUIRED');
    const token = (
      await request(h.url)
        .post(`/approvals/${refused.body.details.request_id}`)
        .set({ authorization: `Bearer ${OPERATOR_KEY}` })
        .expect(200)
    ).body.approval_token as string;
    const forced = await tool('restore_backup', { ...args, force: true, approval_token: token }).expect(403);
    assert.equal(forced.body.details.policy_code, 'OP_POLICY_APPROVAL_MISMATCH');
    assert.equal(h.sim.requestCount({ method: 'POST', path: '/nodes/pve1/qemu' }), 0);
    const done = await tool('restore_backup', { ...args, approval_token: token }).expect(200);
    assert.equal(done.body.status, 'completed');
    assert.equal(h.sim.requestCount({ method: 'POST', path: '/nodes/pve1/qemu' }), 1);
  });
});
