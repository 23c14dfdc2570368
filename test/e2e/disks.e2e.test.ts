import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { PveSimulator } from '../../src/simulator/index.js';
import { simGuest, simRequests, toolCalls, harnessSuite } from '../helpers/tools.js';
import { startHarness, type Harness } from '../helpers/test-app.js';
import { startApprovalHarness } from '../helpers/approvals.js';

const GiB = 1024 ** 3;

/** A ZFS storage for VM disks and container volumes, and one disabled in storage.cfg. */
function addStorages(sim: PveSimulator): void {
  sim.cluster.addStorage({
    storage: 'fast',
    type: 'zfspool',
    content: ['images', 'rootdir'],
    shared: false,
    options: { pool: 'rpool/data' },
    total: 500 * GiB,
    sparse: true,
  });
  sim.cluster.addStorage({
    storage: 'offline',
    type: 'lvmthin',
    content: ['images', 'rootdir'],
    shared: false,
    options: { thinpool: 'spare', vgname: 'spare' },
    total: 100 * GiB,
    disabled: true,
  });
}

/**
 * resize_vm_disk, move_vm_disk, resize_container_disk, move_container_volume, convert_vm_to_template and
 * convert_container_to_template over MCP and REST against the schema-checked simulator. Seeded (1 node, 12
 * guests): VM 100, 102 running, VM 104 stopped; CT 101 running, CT 103 and 109 stopped; storages local (no images),
 * local-lvm, nas (images, no rootdir), plus `fast` (ZFS) and `offline` (disabled).
 */
describe('disk and template tools against the simulator', () => {
  let h: Harness;
  let mcp: Client;
  const { ok, fails } = toolCalls(() => mcp);
  const { lastSeq, mutations } = simRequests(() => h.sim);
  const conf = (vmid: number) => simGuest(h.sim, vmid).config;
  const sizeGiB = (drive: unknown) => Number(/size=(\d+)G/.exec(String(drive))![1]);
  /** Refused before anything was changed in PVE. */
  const refusedEarly = async (run: () => Promise<unknown>) => {
    const seq = lastSeq();
    await run();
    assert.deepEqual(mutations(seq), [], 'nothing sent but reads');
  };

  harnessSuite(
    () => startHarness({ nodes: 1, guests: 12, taskSeconds: 0 }),
    (started, client) => {
      h = started;
      mcp = client;
      addStorages(h.sim);
    },
  );

  test('the tools are listed with their risk: resize/move mutate, conversions destroy', async () => {
    const { tools } = await mcp.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ['resize_vm_disk', 'move_vm_disk', 'resize_container_disk', 'move_container_volume']) {
      assert.equal(byName.get(name)?.annotations?.destructiveHint, false, name);
    }
    for (const name of ['convert_vm_to_template', 'convert_container_to_template']) {
      assert.equal(byName.get(name)?.annotations?.destructiveHint, true, name);
    }
  });

  test('resize_vm_disk: +8G over MCP and an absolute size over REST grow size= in the config', async () => {
    const start = sizeGiB(conf(104).scsi0);
    const job = await ok('resize_vm_disk', {
      node: 'pve1',
      vmid: 104,
      disk: 'scsi0',
      size: '+8G',
      wait: true,
    });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.tool_name, 'resize_vm_disk');
    assert.match(job.upid, /:resize:104:/);
    assert.equal(sizeGiB(conf(104).scsi0), start + 8);

    const rest = await request(h.url)
      .put('/nodes/pve1/vms/104/disks/resize')
      .set(h.auth)
      .send({ disk: 'scsi0', size: `${start + 16}G`, wait: true })
      .expect(202);
    assert.equal(rest.body.status, 'completed', JSON.stringify(rest.body));
    assert.equal(sizeGiB(conf(104).scsi0), start + 16);
  });

  test('resize_vm_disk refuses shrinking, a no-op, a missing disk, a cdrom and a bad size before any change', async () => {
    const current = sizeGiB(conf(104).scsi0);
    await refusedEarly(() =>
      fails(
        'resize_vm_disk',
        { node: 'pve1', vmid: 104, disk: 'scsi0', size: '10G' },
        'VALIDATION',
        new RegExp(
          `Shrinking is not supported: scsi0 of VM 104 .* is ${current}G and size 10G would make it smaller`,
        ),
      ),
    );
    await refusedEarly(() =>
      fails(
        'resize_vm_disk',
        { node: 'pve1', vmid: 104, disk: 'scsi0', size: `${current}G` },
        'VALIDATION',
        /already/,
      ),
    );
    await refusedEarly(() =>
      fails(
        'resize_vm_disk',
        { node: 'pve1', vmid: 104, disk: 'scsi3', size: '+1G' },
        'NOT_FOUND',
        /has no disk scsi3/,
      ),
    );
    await refusedEarly(() =>
      fails(
        'resize_vm_disk',
        { node: 'pve1', vmid: 104, disk: 'ide2', size: '+1G' },
        'NOT_FOUND',
        /not a disk/,
      ),
    );
    await fails(
      'resize_vm_disk',
      { node: 'pve1', vmid: 104, disk: 'scsi0', size: '-2G' },
      'VALIDATION',
      /size/,
    );
    await fails(
      'resize_vm_disk',
      { node: 'pve1', vmid: 999, disk: 'scsi0', size: '+1G' },
      'NOT_FOUND',
      /VM 999/,
    );
    await request(h.url)
      .put('/nodes/pve1/vms/104/disks/resize')
      .set(h.auth)
      .send({ disk: 'scsi0', size: '1G' })
      .expect(400);
  });

  test('resize_container_disk: rootfs by default; shrinking and unknown mount points refused', async () => {
    const start = sizeGiB(conf(103).rootfs);
    const job = await ok('resize_container_disk', { node: 'pve1', vmid: 103, size: '+2G', wait: true });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(sizeGiB(conf(103).rootfs), start + 2);
    await refusedEarly(() =>
      fails(
        'resize_container_disk',
        { node: 'pve1', vmid: 103, size: '1G' },
        'VALIDATION',
        /Shrinking is not supported/,
      ),
    );
    await refusedEarly(() =>
      fails(
        'resize_container_disk',
        { node: 'pve1', vmid: 103, disk: 'mp4', size: '+1G' },
        'NOT_FOUND',
        /no volume mp4/,
      ),
    );
  });

  test('move_vm_disk: a running VM to ZFS keeps the source as unused0; delete=true drops it', async () => {
    const source = String(conf(102).scsi0).split(',')[0];
    const job = await ok('move_vm_disk', {
      node: 'pve1',
      vmid: 102,
      disk: 'scsi0',
      storage: 'fast',
      wait: true,
    });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.match(job.upid, /:qmmove:102:/);
    assert.match(String(conf(102).scsi0), /^fast:vm-102-disk-0,/);
    assert.equal(conf(102).unused0, source);

    const rest = await request(h.url)
      .post('/nodes/pve1/vms/104/disks/move')
      .set(h.auth)
      .send({ disk: 'scsi0', storage: 'nas', delete: true, wait: true })
      .expect(202);
    assert.equal(rest.body.status, 'completed', JSON.stringify(rest.body));
    assert.match(String(conf(104).scsi0), /^nas:104\/vm-104-disk-0\.raw,/);
    assert.equal(conf(104).unused0, undefined);
  });

  test('move_vm_disk refuses a storage without images, a disabled or unknown one, and the same storage', async () => {
    const args = { node: 'pve1', vmid: 100, disk: 'scsi0' };
    await refusedEarly(() =>
      fails(
        'move_vm_disk',
        { ...args, storage: 'local' },
        'VALIDATION',
        /storage 'local' cannot hold VM disks/,
      ),
    );
    await refusedEarly(() =>
      fails(
        'move_vm_disk',
        { ...args, storage: 'offline' },
        'CONFLICT',
        /disabled or not active on node pve1/,
      ),
    );
    await refusedEarly(() =>
      fails('move_vm_disk', { ...args, storage: 'nope' }, 'VALIDATION', /storage 'nope'/),
    );
    await refusedEarly(() =>
      fails(
        'move_vm_disk',
        { ...args, storage: 'local-lvm' },
        'VALIDATION',
        /already on storage 'local-lvm'/,
      ),
    );
    await refusedEarly(() =>
      fails('move_vm_disk', { ...args, disk: 'virtio3', storage: 'fast' }, 'NOT_FOUND'),
    );
  });

  test('move_container_volume: a stopped container moves; a running one and a storage without rootdir are refused', async () => {
    await refusedEarly(() =>
      fails(
        'move_container_volume',
        { node: 'pve1', vmid: 101, volume: 'rootfs', storage: 'fast' },
        'CONFLICT',
        /is running: Proxmox moves a container's volumes only while it is stopped/,
      ),
    );
    await refusedEarly(() =>
      fails(
        'move_container_volume',
        { node: 'pve1', vmid: 103, volume: 'rootfs', storage: 'nas' },
        'VALIDATION',
        /cannot hold container disks/,
      ),
    );
    const job = await ok('move_container_volume', {
      node: 'pve1',
      vmid: 103,
      volume: 'rootfs',
      storage: 'fast',
      wait: true,
    });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.match(String(conf(103).rootfs), /^fast:subvol-103-disk-0,/);
    assert.equal(conf(103).unused0, 'local-lvm:vm-103-disk-0');
  });

  test('convert_vm_to_template: a stopped VM becomes a template with base volumes; running and templates refused', async () => {
    await refusedEarly(() =>
      fails(
        'convert_vm_to_template',
        { node: 'pve1', vmid: 100 },
        'CONFLICT',
        /is running: only a stopped guest/,
      ),
    );
    const job = await ok('convert_vm_to_template', { node: 'pve1', vmid: 104, wait: true });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.match(job.upid, /:qmtemplate:104:/);
    assert.equal(simGuest(h.sim, 104).template, true);
    assert.match(String(conf(104).scsi0), /^nas:104\/base-104-disk-0\.raw,/);
    await refusedEarly(() =>
      fails('convert_vm_to_template', { node: 'pve1', vmid: 104 }, 'CONFLICT', /already a template/),
    );
  });

  test('convert_container_to_template: at once, over MCP and REST; running and templates refused', async () => {
    await refusedEarly(() =>
      fails('convert_container_to_template', { node: 'pve1', vmid: 101 }, 'CONFLICT', /running/),
    );
    const done = await ok('convert_container_to_template', { node: 'pve1', vmid: 109 });
    assert.deepEqual(done, { node: 'pve1', vmid: 109, template: true });
    assert.equal(simGuest(h.sim, 109).template, true);
    assert.match(String(conf(109).rootfs), /^local-lvm:base-109-disk-0,/);
    const again = await request(h.url).post('/nodes/pve1/containers/109/template').set(h.auth).expect(409);
    assert.match(again.body.message, /already a template/);

    const rest = await request(h.url).post('/nodes/pve1/containers/103/template').set(h.auth).expect(200);
    assert.deepEqual(rest.body, { node: 'pve1', vmid: 103, template: true });
  });

  test('a locked guest and a guest with snapshots are refused with CONFLICT before any change', async () => {
    h.sim.cluster.setLock(102, 'backup');
    try {
      await refusedEarly(() =>
        fails(
          'resize_vm_disk',
          { node: 'pve1', vmid: 102, disk: 'scsi0', size: '+1G' },
          'CONFLICT',
          /is locked \(backup\)/,
        ),
      );
    } finally {
      h.sim.cluster.setLock(102, undefined);
    }
    // CT 101 has the snapshot `initial`
    h.sim.cluster.setRunning(simGuest(h.sim, 101), false);
    await refusedEarly(() =>
      fails(
        'convert_container_to_template',
        { node: 'pve1', vmid: 101 },
        'CONFLICT',
        /has snapshots \(initial\)/,
      ),
    );
  });
});

describe('template conversions need an operator approval under the shipped high-risk policy', () => {
  let h: Harness;
  let mcp: Client;
  const { fails } = toolCalls(() => mcp);
  const templates = () => h.sim.requestCount({ method: 'POST', path: /\/template$/ });

  harnessSuite(
    () => startApprovalHarness({ nodes: 1, guests: 12, taskSeconds: 0 }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('a stopped guest: APPROVAL_REQUIRED and nothing sent; a running one: CONFLICT, no approval asked', async () => {
    await fails('convert_vm_to_template', { node: 'pve1', vmid: 104 }, 'APPROVAL_REQUIRED');
    await fails('convert_container_to_template', { node: 'pve1', vmid: 109 }, 'APPROVAL_REQUIRED');
    assert.equal(templates(), 0);
    assert.equal(simGuest(h.sim, 104).template, false);
    await fails('convert_vm_to_template', { node: 'pve1', vmid: 100 }, 'CONFLICT', /stop_vm or shutdown_vm/);
  });
});
