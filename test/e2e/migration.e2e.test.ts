import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SimClient } from '../helpers/sim-client.js';
import { simGuest, simRequests, toolCalls, harnessSuite } from '../helpers/tools.js';
import { startHarness, type Harness } from '../helpers/test-app.js';

const GiB = 1024 ** 3;

/**
 * migrate_vm and migrate_container over MCP and REST against the schema-checked simulator (3 nodes, 12 guests):
 * VM 104 (pve2) stopped, VM 106 (pve1) and 110 (pve2) running; CT 107 (pve2) running, CT 103 (pve1) stopped. Every
 * guest's disk is on local-lvm (local, on every node); `fast` is a ZFS storage on pve3 only.
 */
describe('migration tools against the simulator', () => {
  let h: Harness;
  let mcp: Client;
  const { ok, fails } = toolCalls(() => mcp);
  const { lastSeq, since, mutations } = simRequests(() => h.sim);
  const guest = (vmid: number) => simGuest(h.sim, vmid);
  /** Refused before anything was changed in PVE. */
  const refusedEarly = async (run: () => Promise<unknown>) => {
    const seq = lastSeq();
    await run();
    assert.deepEqual(mutations(seq), [], 'nothing sent but reads');
  };
  const sentParams = (seq: number) => {
    const post = since(seq).find((r) => r.method === 'POST' && r.path.endsWith('/migrate'));
    assert.ok(post, 'a migrate request was sent');
    return post.body ?? {};
  };

  harnessSuite(
    () => startHarness({ nodes: 3, guests: 12, taskSeconds: 0 }),
    (started, client) => {
      h = started;
      mcp = client;
      h.sim.cluster.addStorage({
        storage: 'fast',
        type: 'zfspool',
        content: ['images', 'rootdir'],
        shared: false,
        options: { pool: 'rpool/data' },
        total: 500 * GiB,
        sparse: true,
        nodes: ['pve3'],
      });
    },
  );

  test('both tools are listed as mutate (not destructive)', async () => {
    const { tools } = await mcp.listTools();
    for (const name of ['migrate_vm', 'migrate_container']) {
      const tool = tools.find((t) => t.name === name);
      assert.ok(tool, name);
      assert.equal(tool.annotations?.destructiveHint, false, name);
    }
  });

  test('migrate_vm: a stopped VM moves offline, its local disk along; the inventory shows it on the target', async () => {
    const seq = lastSeq();
    const job = await ok('migrate_vm', { node: 'pve2', vmid: 104, target_node: 'pve1', wait: true });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.match(String(job.upid), /:pve2:.*:qmigrate:104:/);
    const params = sentParams(seq);
    assert.equal(params.target, 'pve1');
    assert.equal(params.online, undefined, 'a stopped VM migrates offline');
    assert.equal(guest(104).node, 'pve1');
    assert.match(String(guest(104).config.scsi0), /^local-lvm:vm-104-disk-0,/);
    const { vms } = (await ok('get_vms')) as { vms: Array<{ vmid: number; node: string }> };
    assert.equal(vms.find((v) => v.vmid === 104)?.node, 'pve1');
  });

  test('migrate_vm over REST: a running VM moves live with its local disk to target_storage', async () => {
    const seq = lastSeq();
    const rest = await request(h.url)
      .post('/nodes/pve1/vms/106/migrate')
      .set(h.auth)
      .send({ target_node: 'pve3', target_storage: 'fast', wait: true })
      .expect(202);
    assert.equal(rest.body.status, 'completed', JSON.stringify(rest.body));
    const params = sentParams(seq);
    assert.equal(String(params.online), '1');
    assert.equal(String(params['with-local-disks']), '1');
    assert.equal(params.targetstorage, 'fast');
    assert.equal(guest(106).node, 'pve3');
    assert.equal(guest(106).status, 'running');
    assert.match(String(guest(106).config.scsi0), /^fast:vm-106-disk-0,/);
  });

  test('migrate_vm refuses the same node, an unknown or offline target and a locked VM before any change', async () => {
    await refusedEarly(() =>
      fails(
        'migrate_vm',
        { node: 'pve2', vmid: 110, target_node: 'pve2' },
        'VALIDATION',
        /already on node pve2/,
      ),
    );
    await refusedEarly(() =>
      fails('migrate_vm', { node: 'pve2', vmid: 110, target_node: 'pve9' }, 'NOT_FOUND', /pve9/),
    );
    h.sim.cluster.setNodeOnline('pve1', false);
    try {
      await refusedEarly(() =>
        fails('migrate_vm', { node: 'pve2', vmid: 110, target_node: 'pve1' }, 'CONFLICT', /pve1 is offline/),
      );
    } finally {
      h.sim.cluster.setNodeOnline('pve1', true);
    }
    h.sim.cluster.setLock(110, 'backup');
    try {
      await refusedEarly(() =>
        fails(
          'migrate_vm',
          { node: 'pve2', vmid: 110, target_node: 'pve1' },
          'CONFLICT',
          /locked \(backup\)/,
        ),
      );
    } finally {
      h.sim.cluster.setLock(110, undefined);
    }
  });

  test('migrate_vm refuses an HA-managed VM, host devices, a local ISO, a missing storage and too little memory', async () => {
    const vm = guest(110);
    const saved = { ...vm.config };
    const args = { node: 'pve2', vmid: 110, target_node: 'pve1' };
    try {
      vm.hastate = 'started';
      await refusedEarly(() =>
        fails(
          'migrate_vm',
          args,
          'CONFLICT',
          /managed by HA[^]*migrate_ha_resource \(vmid \d+, target_node \S+\)[^]*remove_ha_resource/,
        ),
      );
      vm.hastate = undefined;

      vm.config.hostpci0 = '0000:01:00.0';
      await refusedEarly(() => fails('migrate_vm', args, 'CONFLICT', /host devices[^]*hostpci0/));
      delete vm.config.hostpci0;

      vm.config.ide2 = 'local:iso/tools.iso,media=cdrom,size=10M';
      await refusedEarly(() => fails('migrate_vm', args, 'CONFLICT', /local ISO[^]*local:iso\/tools\.iso/));
      vm.config.ide2 = saved.ide2;

      vm.config.scsi1 = 'fast:vm-110-disk-1,size=4G';
      await refusedEarly(() =>
        fails('migrate_vm', args, 'CONFLICT', /pve1 lacks storage fast[^]*target_storage/),
      );
      delete vm.config.scsi1;

      vm.config.memory = 400_000;
      await refusedEarly(() =>
        fails('migrate_vm', args, 'CONFLICT', /GiB of memory free; VM 110 .* needs 390\.6 GiB/),
      );
    } finally {
      vm.config = saved;
      vm.hastate = undefined;
    }
  });

  test('migrate_vm: the target going offline while the task runs fails the job; the VM stays', async () => {
    h.sim.tasks.script({ match: { type: 'qmigrate', id: '110' }, durationMs: 1500 });
    const job = await ok('migrate_vm', { node: 'pve2', vmid: 110, target_node: 'pve1' });
    assert.equal(job.status, 'running');
    h.sim.cluster.setNodeOnline('pve1', false);
    try {
      const done = await ok('wait_job', { job_id: job.job_id, timeout_seconds: 30 });
      assert.equal(done.status, 'failed', JSON.stringify(done));
      assert.match(String(done.exitstatus), /migration aborted/);
    } finally {
      h.sim.cluster.setNodeOnline('pve1', true);
    }
    assert.equal(guest(110).node, 'pve2');
    assert.equal(guest(110).lock, undefined, 'the migrate lock is released');
  });

  test('migrate_vm: the target storage disabled while the task runs fails the job; the disk stays', async () => {
    h.sim.tasks.script({ match: { type: 'qmigrate', id: '110' }, durationMs: 1000 });
    const job = await ok('migrate_vm', {
      node: 'pve2',
      vmid: 110,
      target_node: 'pve3',
      target_storage: 'fast',
    });
    const fast = h.sim.cluster.storage('fast')!;
    fast.disabled = true;
    try {
      const done = await ok('wait_job', { job_id: job.job_id, timeout_seconds: 30 });
      assert.equal(done.status, 'failed', JSON.stringify(done));
      assert.match(String(done.exitstatus), /storage 'fast' is not available on node 'pve3'/);
    } finally {
      fast.disabled = false;
    }
    assert.equal(guest(110).node, 'pve2');
    assert.match(String(guest(110).config.scsi0), /^local-lvm:/);
  });

  test('migrate_container: a running container moves in restart mode with the shutdown timeout', async () => {
    const seq = lastSeq();
    const job = await ok('migrate_container', {
      node: 'pve2',
      vmid: 107,
      target_node: 'pve1',
      shutdown_timeout_seconds: 60,
      wait: true,
    });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.match(String(job.upid), /:vzmigrate:107:/);
    const params = sentParams(seq);
    assert.equal(String(params.restart), '1');
    assert.equal(String(params.timeout), '60');
    assert.equal(guest(107).node, 'pve1');
    assert.equal(guest(107).status, 'running');
    const { containers } = (await ok('get_containers')) as {
      containers: Array<{ vmid: number; node: string }>;
    };
    assert.equal(containers.find((c) => c.vmid === 107)?.node, 'pve1');
  });

  test('migrate_container: a stopped one over REST; refusals before any change', async () => {
    const seq = lastSeq();
    const rest = await request(h.url)
      .post('/nodes/pve1/containers/103/migrate')
      .set(h.auth)
      .send({ target_node: 'pve3', target_storage: 'fast', wait: true })
      .expect(202);
    assert.equal(rest.body.status, 'completed', JSON.stringify(rest.body));
    assert.equal(sentParams(seq).restart, undefined);
    assert.equal(guest(103).node, 'pve3');
    assert.match(String(guest(103).config.rootfs), /^fast:vm-103-disk-0,/);

    await refusedEarly(() =>
      fails(
        'migrate_container',
        { node: 'pve1', vmid: 107, target_node: 'pve2', restart: false },
        'CONFLICT',
        /running and restart=false/,
      ),
    );
    const ct = guest(107);
    ct.config.mp0 = '/srv/data,mp=/data';
    try {
      await refusedEarly(() =>
        fails(
          'migrate_container',
          { node: 'pve1', vmid: 107, target_node: 'pve2' },
          'CONFLICT',
          /bind mount/,
        ),
      );
    } finally {
      delete ct.config.mp0;
    }
    await refusedEarly(() =>
      fails(
        'migrate_container',
        { node: 'pve3', vmid: 103, target_node: 'pve1' },
        'CONFLICT',
        /lacks storage fast/,
      ),
    );
    await refusedEarly(() =>
      fails(
        'migrate_container',
        { node: 'pve1', vmid: 109, target_node: 'pve1' },
        'VALIDATION',
        /already on/,
      ),
    );
  });

  test('the simulator refuses what PVE refuses: a running VM without online, a running CT without restart, a lock', async () => {
    const client = new SimClient(h.sim);
    const vm = await client.post('/nodes/pve3/qemu/106/migrate', { target: 'pve1' });
    assert.equal(vm.status, 500);
    assert.match(vm.reason + vm.text, /without --online/);
    const ct = await client.post('/nodes/pve1/lxc/107/migrate', { target: 'pve2' });
    assert.match(ct.reason + ct.text, /use --online or --restart/);
    h.sim.cluster.setLock(110, 'snapshot');
    try {
      const locked = await client.post('/nodes/pve2/qemu/110/migrate', { target: 'pve1' });
      assert.match(locked.reason + locked.text, /VM is locked \(snapshot\)/);
    } finally {
      h.sim.cluster.setLock(110, undefined);
    }
    const precondition = await client.get('/nodes/pve2/qemu/110/migrate');
    assert.deepEqual(precondition.json.data.allowed_nodes, ['pve1', 'pve3']);
    assert.deepEqual(precondition.json.data.local_disks[0], {
      volid: 'local-lvm:vm-110-disk-0',
      size: 32 * GiB,
      cdrom: false,
      is_unused: false,
    });
    await client.agent.close();
  });
});
