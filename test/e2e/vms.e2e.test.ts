import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { resultText, simGuest, simRequests, toolCalls } from '../helpers/tools.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { pickGuestStorage, pickStorage, type NodeStorage } from '../../src/modules/guests/storage-picker.js';

/**
 * The VM tools over MCP (SDK client) and REST against the schema-checked simulator (tasks end on the next tick
 * unless a test scripts a longer one). Seeded roles (src/simulator/seed.ts): VM 100 runs with snapshots and a
 * working agent, 104/114/118 are stopped, 106 runs but its agent does not answer, 108 is a template, 110 is
 * protected.
 */
describe('VM tools against the simulator', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const guest = (vmid: number) => simGuest(h.sim, vmid);
  const nodeOf = (vmid: number) => guest(vmid).node;
  /** Requests the server sent since `seq` (the simulator's log). */
  const { lastSeq, since, mutations } = simRequests(() => h.sim);

  before(async () => {
    h = await startHarness({ nodes: 3, guests: 24, taskSeconds: 0 }, (sim) =>
      testConfig([simulatorTargetConfig(sim)], {
        // exec tests need commands to pass the policy; the policy itself has its own suite
        commandPolicy: { ...testConfig([]).commandPolicy, mode: 'audit_only', allowShell: true },
      }),
    );
    mcp = await h.mcp();
    await mcp.listTools(); // from here on the SDK checks every result against the tool's outputSchema
  });
  after(async () => {
    assert.deepEqual(h.sim.schemaViolations(), [], 'every request the tools sent must pass the PVE schema');
    await h.close();
  });

  test('tools/list: the VM tools with their risk annotations', async () => {
    const { tools } = await mcp.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of [
      'create_vm',
      'clone_vm',
      'update_vm_config',
      'get_vm_ip_addresses',
      'start_vm',
      'stop_vm',
      'shutdown_vm',
      'reset_vm',
      'reboot_vm',
      'suspend_vm',
      'resume_vm',
      'delete_vm',
      'execute_vm_command',
    ]) {
      assert.ok(byName.has(name), `${name} is listed`);
    }
    assert.equal(byName.get('delete_vm')?.annotations?.destructiveHint, true);
    assert.equal(byName.get('execute_vm_command')?.annotations?.destructiveHint, true);
    assert.equal(byName.get('get_vm_ip_addresses')?.annotations?.readOnlyHint, true);
    const exec = byName.get('execute_vm_command')!.inputSchema as any;
    assert.ok(exec.properties.command.anyOf, 'command: argv array or (with shell) one string');
    assert.deepEqual(exec.required, ['command', 'node', 'vmid']);
    const update = byName.get('update_vm_config')!.inputSchema as any;
    assert.equal(update.properties.wait, undefined, 'update_vm_config is synchronous: no wait option');
    assert.ok(byName.get('create_vm')!.inputSchema.properties!.wait, 'create_vm is a job: it can wait');
  });

  // ------------------------------------------------------------------------------------------------- create

  test('create_vm without vmid or storage: next free id, the snapshot-capable storage with most free space, a bootable config', async () => {
    const expectedId = h.sim.cluster.nextFreeVmid();
    const seq = lastSeq();
    const job = await ok('create_vm', { node: 'pve1', name: 'web-new', wait: true });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.tool_name, 'create_vm');
    assert.equal(job.metadata.vmid, expectedId);
    assert.match(job.task_id, /:qmcreate:/);

    const post = mutations(seq).find((r) => r.method === 'POST' && r.path === '/nodes/pve1/qemu');
    assert.ok(post?.body, 'one POST /nodes/pve1/qemu');
    // nas (NFS, shared, ~2.8 TiB free) beats local-lvm (800 GiB); local holds no images. On NFS the disk is
    // qcow2, so it can take snapshots (PVE's API default there is raw, which cannot)
    assert.equal(post.body.scsi0, 'nas:32,format=qcow2,iothread=1');
    assert.equal(post.body.net0, 'virtio,bridge=vmbr0');
    assert.equal(String(post.body.agent), '1');
    assert.equal(post.body.boot, 'order=scsi0;net0');
    assert.equal(post.body.ide2, undefined, 'no ISO asked for, none attached');
    assert.equal(job.metadata.storage, 'nas');
    assert.equal(job.metadata.disk_format, 'qcow2');
    assert.equal(job.metadata.snapshots, true);

    const vm = guest(expectedId);
    assert.equal(vm.node, 'pve1');
    assert.equal(vm.config.name, 'web-new');
    assert.equal(String(vm.config.memory), '2048');
  });

  test('create_vm over REST with ISO, cloud-init, tags and a password: URL-encoded keys, the password never kept', async () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0 admin@laptop';
    const seq = lastSeq();
    const res = await request(h.url)
      .post('/nodes/pve2/vms')
      .set(h.auth)
      .send({
        vmid: 4242,
        name: 'ci-box',
        cpus: 2,
        memory: 4096,
        disk_size: 20,
        storage: 'local-lvm',
        iso: 'nas:iso/debian-12.7.0-amd64-netinst.iso',
        ciuser: 'admin',
        cipassword: 'Sup3r-Secret!',
        sshkeys: [key],
        ipconfig0: 'ip=10.0.0.5/24,gw=10.0.0.1',
        tags: 'web;prod',
        wait: true,
      })
      .expect(202);
    const job = res.body;
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.metadata.vmid, 4242);
    assert.equal(job.retryable, false);
    assert.match(job.retry_spec.reason, /cipassword/);
    assert.ok(!JSON.stringify(job).includes('Sup3r-Secret!'), 'the job never carries the password');
    const events = await request(h.url).get(`/jobs/${job.job_id}/events`).set(h.auth).expect(200);
    assert.ok(!JSON.stringify(events.body).includes('Sup3r-Secret!'), 'nor does its history');

    const post = mutations(seq).find((r) => r.path === '/nodes/pve2/qemu')!;
    assert.equal(post.body!.scsi0, 'local-lvm:20,iothread=1');
    assert.equal(post.body!.ide2, 'nas:iso/debian-12.7.0-amd64-netinst.iso,media=cdrom');
    assert.equal(post.body!.ide0, 'local-lvm:cloudinit');
    assert.equal(post.body!.boot, 'order=scsi0;ide2;net0');
    assert.equal(post.body!.sshkeys, encodeURIComponent(key));
    assert.equal(post.body!.tags, 'web;prod');
    assert.equal(post.body!.cores, '2', 'form-encoded, as PVE receives it');
    const vm = guest(4242);
    assert.equal(vm.config.ciuser, 'admin');
    assert.equal(vm.config.ipconfig0, 'ip=10.0.0.5/24,gw=10.0.0.1');
  });

  test('create_vm refuses a taken id, a storage without VM images and a missing ISO before creating anything', async () => {
    const seq = lastSeq();
    await fails(
      'create_vm',
      { node: 'pve1', vmid: 100, name: 'dup' },
      'CONFLICT',
      /vmid 100 is already used/,
    );
    await fails(
      'create_vm',
      { node: 'pve1', name: 'x1', storage: 'local' },
      'VALIDATION',
      /cannot hold VM disks/,
    );
    await fails(
      'create_vm',
      { node: 'pve1', name: 'x2', iso: 'nas:iso/no-such.iso' },
      'NOT_FOUND',
      /not on storage 'nas'/,
    );
    await fails('create_vm', { node: 'pve1', name: 'bad_name!' }, 'VALIDATION', /name must be a DNS name/);
    await fails('create_vm', { node: 'pve1', name: 'x3', ipconfig0: 'ip=dhcpx' }, 'VALIDATION', /ipconfig0/);
    await fails('create_vm', { node: 'pve1', name: 'x4', sshkeys: 'not a key' }, 'VALIDATION', /sshkeys/);
    assert.deepEqual(mutations(seq), [], 'nothing was sent that changes the cluster');
  });

  // -------------------------------------------------------------------------------------------------- clone

  test('clone_vm: a linked clone of the template, and the refusals that need no round trip', async () => {
    const node = nodeOf(108);
    const next = h.sim.cluster.nextFreeVmid();
    const job = await ok('clone_vm', { node, source_vmid: 108, full: false, name: 'from-tpl', wait: true });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.metadata.target_vmid, next);
    assert.equal(job.metadata.full, false);
    assert.equal(guest(next).config.name, 'from-tpl');

    const seq = lastSeq();
    await fails(
      'clone_vm',
      { node, source_vmid: 108, full: false, storage: 'local-lvm' },
      'VALIDATION',
      /storage is only allowed for full clones/,
    );
    await fails('clone_vm', { node, source_vmid: 108, target_vmid: 100 }, 'CONFLICT', /target_vmid 100/);
    assert.deepEqual(mutations(seq), []);
    await fails(
      'clone_vm',
      { node: 'pve1', source_vmid: 999999 },
      'NOT_FOUND',
      /VM 999999 not found on node pve1/,
    );
  });

  test('clone_vm over REST: a full clone with an explicit id', async () => {
    const node = nodeOf(104);
    const res = await request(h.url)
      .post(`/nodes/${node}/vms/104/clone`)
      .set(h.auth)
      .send({ target_vmid: 5104, name: 'copy-of-104', wait: true })
      .expect(202);
    assert.equal(res.body.status, 'completed', JSON.stringify(res.body));
    assert.equal(guest(5104).config.name, 'copy-of-104');
  });

  // ---------------------------------------------------------------------------------------------- config

  test('update_vm_config sends the digest; a concurrent edit is refused with CONFLICT and changes nothing', async () => {
    const node = nodeOf(114);
    const before = await ok('get_vm_config', { node, vmid: 114 });
    const updated = await ok('update_vm_config', {
      node,
      vmid: 114,
      memory: 3072,
      cores: 3,
      tags: ['blue', 'green'],
      digest: before.digest,
    });
    assert.deepEqual(updated.updated.sort(), ['cores', 'memory', 'tags']);
    assert.equal(updated.digest_checked, before.digest);
    assert.deepEqual(updated.pending, [], 'a stopped VM takes every change at once');
    assert.equal(String(guest(114).config.memory), '3072');
    assert.equal(guest(114).config.tags, 'blue;green');

    // someone else edits after we read: our stale digest must not overwrite their change
    const stale = (await ok('get_vm_config', { node, vmid: 114 })).digest;
    await request(h.url)
      .put(`/nodes/${node}/vms/114/config`)
      .set(h.auth)
      .send({ name: 'renamed-elsewhere' })
      .expect(200);
    const conflict = await fails(
      'update_vm_config',
      { node, vmid: 114, name: 'mine', digest: stale },
      'CONFLICT',
      /changed since digest/,
    );
    assert.match(conflict, /get_vm_config/);
    assert.equal(guest(114).config.name, 'renamed-elsewhere', 'the other edit survived');

    const rest = await request(h.url)
      .put(`/nodes/${node}/vms/114/config`)
      .set(h.auth)
      .send({ name: 'mine', digest: stale })
      .expect(409);
    assert.equal(rest.body.code, 'CONFLICT');
  });

  test('update_vm_config on a running VM reports what waits for the next start; bad input is refused', async () => {
    const node = nodeOf(112);
    const r = await ok('update_vm_config', { node, vmid: 112, memory: 8192, name: 'bigger' });
    assert.ok(r.pending.includes('memory'), `memory is not hot-pluggable here: ${JSON.stringify(r)}`);
    assert.ok(!r.pending.includes('name'));
    assert.match(resultText(await call('update_vm_config', { node, vmid: 112, cores: 2 })), /updated cores/);
    await fails('update_vm_config', { node, vmid: 112 }, 'VALIDATION', /Nothing to change/);
    await fails(
      'update_vm_config',
      { node, vmid: 112, cores: 2, wait: true },
      'VALIDATION',
      /unknown argument 'wait'/,
    );
    await fails('update_vm_config', { node, vmid: 112, digest: 'abc', cores: 2 }, 'VALIDATION', /digest/);
  });

  // ----------------------------------------------------------------------------------------------- power

  test('start_vm of a running VM is refused with CONFLICT naming its state; nothing is sent', async () => {
    const node = nodeOf(100);
    const seq = lastSeq();
    const msg = await fails('start_vm', { node, vmid: 100 }, 'CONFLICT', /VM 100 .* is already running/);
    assert.match(msg, /reboot_vm/);
    const rest = await request(h.url).post(`/nodes/${node}/vms/100/start`).set(h.auth).send({}).expect(409);
    assert.equal(rest.body.code, 'CONFLICT');
    assert.equal(rest.body.details.status, 'running');
    assert.deepEqual(mutations(seq), [], 'no status/start reached Proxmox');
  });

  test('power cycle with wait: start, suspend, resume, reboot, reset, shutdown, stop all end completed', async () => {
    const vmid = 118;
    const node = nodeOf(vmid);
    const started = await ok('start_vm', { node, vmid, wait: true });
    assert.equal(started.status, 'completed');
    assert.equal(started.exitstatus, 'OK');
    assert.equal(guest(vmid).status, 'running');

    assert.equal((await ok('suspend_vm', { node, vmid, wait: true })).status, 'completed');
    assert.equal(guest(vmid).paused, true);
    await fails('start_vm', { node, vmid }, 'CONFLICT', /paused/);
    assert.equal((await ok('resume_vm', { node, vmid, wait: true })).status, 'completed');
    assert.equal(guest(vmid).paused, false);

    const rebooted = await request(h.url)
      .post(`/nodes/${node}/vms/${vmid}/reboot`)
      .set(h.auth)
      .send({ timeout: 60, wait: true })
      .expect(202);
    assert.equal(rebooted.body.status, 'completed');
    assert.equal((await ok('reset_vm', { node, vmid, wait: true })).status, 'completed');

    const seq = lastSeq();
    const down = await ok('shutdown_vm', { node, vmid, timeout: 30, forceStop: true, wait: true });
    assert.equal(down.status, 'completed');
    const sent = mutations(seq).find((r) => r.path.endsWith('/status/shutdown'))!;
    assert.equal(String(sent.body!.timeout), '30');
    assert.equal(String(sent.body!.forceStop), '1');
    assert.equal(guest(vmid).status, 'stopped');

    const stop = await ok('stop_vm', { node, vmid, wait: true });
    assert.equal(stop.status, 'completed', 'stopping a stopped VM is a no-op task that ends OK, as in PVE');
    await fails('reset_vm', { node, vmid }, 'CONFLICT', /not running/);
  });

  test('shutdown_vm of a guest that ignores ACPI: failed job (an error result) without forceStop, stopped with it', async () => {
    const vmid = 120;
    const node = nodeOf(vmid);
    h.sim.cluster.setIgnoresShutdown(vmid, true);
    const result = await call('shutdown_vm', { node, vmid, timeout: 5, wait: true });
    assert.equal(result.isError, true, 'a waited-for job that failed is a failed call');
    assert.match(
      resultText(result),
      /^JOB_FAILED: Shut down VM 120 on \S+: the Proxmox task failed: .*got timeout/,
    );
    const failed = result.structuredContent;
    assert.equal(failed.status, 'failed');
    assert.match(failed.exitstatus, /got timeout/);
    assert.equal(guest(vmid).status, 'running');
    const forced = await ok('shutdown_vm', { node, vmid, timeout: 5, forceStop: true, wait: true });
    assert.equal(forced.status, 'completed');
    assert.equal(guest(vmid).status, 'stopped');
  });

  test('without wait a power tool returns the running job at once', async () => {
    const vmid = 120;
    const node = nodeOf(vmid);
    h.sim.tasks.script({ match: { type: 'qmstart', id: String(vmid) }, durationMs: 1500 });
    const job = await ok('start_vm', { node, vmid });
    assert.equal(job.status, 'running');
    assert.match(job.task_id, /:qmstart:120:/);
    const done = await ok('wait_job', { job_id: job.job_id, timeout_seconds: 30 });
    assert.equal(done.status, 'completed');
  });

  // ---------------------------------------------------------------------------------------------- delete

  test('delete_vm refuses a running VM without force and a protected VM, before sending anything', async () => {
    const seq = lastSeq();
    const running = await fails('delete_vm', { node: nodeOf(102), vmid: 102 }, 'CONFLICT', /is running/);
    assert.match(running, /force: true/);
    const protectedMsg = await fails(
      'delete_vm',
      { node: nodeOf(110), vmid: 110, force: true },
      'CONFLICT',
      /protected \(protection=1\)/,
    );
    assert.match(protectedMsg, /Protection/);
    const rest = await request(h.url)
      .delete(`/nodes/${nodeOf(110)}/vms/110?force=true`)
      .set(h.auth)
      .expect(409);
    assert.equal(rest.body.code, 'CONFLICT');
    assert.deepEqual(mutations(seq), [], 'neither a stop nor a delete was sent');
    assert.equal(guest(110).status, 'running');
    await fails('delete_vm', { node: 'pve1', vmid: 999999 }, 'NOT_FOUND', /VM 999999 not found/);
  });

  test('forced delete_vm stops the VM, waits for the stop task, then deletes (explicit purge flags)', async () => {
    const vmid = 122;
    const node = nodeOf(vmid);
    // a slow stop: a delete sent before it ended would be refused by PVE ("VM 122 is running - destroy failed")
    h.sim.tasks.script({ match: { type: 'qmstop', id: String(vmid) }, durationMs: 1200 });
    const seq = lastSeq();
    const res = await request(h.url)
      .delete(`/nodes/${node}/vms/${vmid}?force=true&purge=true&wait=true&wait_timeout_seconds=60`)
      .set(h.auth)
      .expect(202);
    assert.equal(res.body.status, 'completed', JSON.stringify(res.body));
    assert.ok(res.body.metadata.stop_job_id, 'the stop ran as its own job');
    assert.equal(h.sim.cluster.guest(vmid), undefined, 'the VM is gone');

    const sent = mutations(seq);
    assert.deepEqual(
      sent.map((r) => `${r.method} ${r.path}`),
      [`POST /nodes/${node}/qemu/${vmid}/status/stop`, `DELETE /nodes/${node}/qemu/${vmid}`],
    );
    const stopDone = since(seq).findLast(
      (r) => r.method === 'GET' && /\/tasks\/.*:qmstop:/.test(r.path) && r.path.endsWith('/status'),
    );
    assert.ok(
      stopDone && stopDone.seq < sent[1].seq,
      'the stop task was read until it ended, then the delete went',
    );
    assert.deepEqual(sent[1].query, { 'destroy-unreferenced-disks': '0', purge: '1' });

    const stopJob = await ok('get_job', { job_id: res.body.metadata.stop_job_id });
    assert.equal(stopJob.status, 'completed');
    assert.equal(stopJob.tool_name, 'stop_vm');
  });

  test('forced delete_vm whose stop fails deletes nothing', async () => {
    const vmid = 116;
    const node = nodeOf(vmid);
    h.sim.tasks.script({
      match: { type: 'qmstop', id: String(vmid) },
      exitstatus: 'VM quit/powerdown failed',
    });
    const seq = lastSeq();
    const msg = await fails('delete_vm', { node, vmid, force: true }, 'CONFLICT', /did not complete/);
    assert.match(msg, /VM quit\/powerdown failed/);
    assert.ok(!mutations(seq).some((r) => r.method === 'DELETE'), 'no DELETE after a failed stop');
    assert.ok(h.sim.cluster.guest(vmid));
  });

  test('delete_vm of a stopped VM over MCP with wait', async () => {
    const created = await ok('create_vm', { node: 'pve3', name: 'short-lived', wait: true });
    const vmid = created.metadata.vmid;
    const job = await ok('delete_vm', { node: 'pve3', vmid, destroy_unreferenced_disks: true, wait: true });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.metadata.destroy_unreferenced_disks, true);
    assert.equal(h.sim.cluster.guest(vmid), undefined);
  });

  // ---------------------------------------------------------------------------------------- guest agent

  test('get_vm_ip_addresses: interfaces without loopback and the primary IPv4, over MCP and REST', async () => {
    const node = nodeOf(100);
    const ips = await ok('get_vm_ip_addresses', { node, vmid: 100 });
    assert.ok(ips.interfaces.length >= 1);
    assert.ok(!ips.interfaces.some((i: any) => i.name === 'lo'));
    assert.match(ips.primary_ipv4, /^\d+\.\d+\.\d+\.\d+$/);
    assert.ok(ips.interfaces[0].ipv4[0].startsWith(`${ips.primary_ipv4}/`));
    assert.match(ips.interfaces[0].mac_address, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    const rest = await request(h.url).get(`/nodes/${node}/vms/100/ip-addresses`).set(h.auth).expect(200);
    assert.deepEqual(rest.body, ips);
  });

  test('agent problems are CONFLICTs that name the fix: not running, not configured, VM stopped', async () => {
    const notRunning = await fails(
      'get_vm_ip_addresses',
      { node: nodeOf(106), vmid: 106 },
      'CONFLICT',
      /guest agent of VM 106 .* is not answering/,
    );
    assert.match(notRunning, /qemu-guest-agent/);
    await fails(
      'execute_vm_command',
      { node: nodeOf(106), vmid: 106, command: ['uname'] },
      'CONFLICT',
      /not answering/,
    );
    await fails('get_vm_ip_addresses', { node: nodeOf(104), vmid: 104 }, 'CONFLICT', /is not running/);

    const vm = guest(112);
    const saved = vm.config.agent;
    delete vm.config.agent;
    try {
      const msg = await fails(
        'execute_vm_command',
        { node: vm.node, vmid: 112, command: ['uname'] },
        'CONFLICT',
        /no QEMU guest agent configured/,
      );
      assert.match(msg, /--agent 1/);
    } finally {
      vm.config.agent = saved;
    }
  });

  test('execute_vm_command runs an argv without a shell and returns exit code, stdout and stderr', async () => {
    const node = nodeOf(100);
    const r = await ok('execute_vm_command', { node, vmid: 100, command: ['echo', 'two  spaces', 'x'] });
    assert.equal(r.exited, true);
    assert.equal(r.timed_out, false);
    assert.equal(r.exit_code, 0);
    assert.equal(
      r.stdout,
      'two  spaces x\n',
      'each element is one argument, passed as is (no word splitting)',
    );
    assert.equal(r.stdout_truncated, false);
    assert.match(
      resultText(await call('execute_vm_command', { node, vmid: 100, command: ['false'] })),
      /exit code 1/,
    );

    const unknown = await fails(
      'execute_vm_command',
      { node, vmid: 100, command: ['frobnicate-xyz'] },
      'NOT_FOUND',
      /could not start command\[0\]/,
    );
    assert.ok(!unknown.includes('frobnicate-xyz'), 'the error does not echo the command');

    const missing = await ok('execute_vm_command', { node, vmid: 100, command: ['cat', '/nope'] });
    assert.equal(missing.exit_code, 1);
    assert.match(missing.stderr, /No such file or directory/);

    const rest = await request(h.url)
      .post(`/nodes/${node}/vms/100/exec`)
      .set(h.auth)
      .send({ command: ['hostname'] })
      .expect(200);
    assert.equal(rest.body.stdout, `${guest(100).config.name}\n`);
  });

  test('shell mode runs one string through /bin/sh -c; a string with shell syntax but without shell is refused', async () => {
    const node = nodeOf(100);
    const seq = lastSeq();
    const r = await ok('execute_vm_command', {
      node,
      vmid: 100,
      command: 'echo one | cat && echo two',
      shell: true,
    });
    assert.equal(r.stdout, 'one\ntwo\n');
    const sent = mutations(seq).find((q) => q.path.endsWith('/agent/exec'))!;
    assert.deepEqual(sent.body!.command, ['/bin/sh', '-c', 'echo one | cat && echo two']);

    const before = lastSeq();
    await fails(
      'execute_vm_command',
      { node, vmid: 100, command: 'echo one | cat' },
      'POLICY_DENIED',
      /\| \(pipe\).*pass shell: true.*argv array/,
    );
    await fails('execute_vm_command', { node, vmid: 100, command: [] }, 'POLICY_DENIED');
    await fails(
      'execute_vm_command',
      { node, vmid: 100, command: ['ls'], timeout_seconds: 301 },
      'VALIDATION',
    );
    assert.deepEqual(since(before), [], 'refused before anything reached Proxmox');
  });

  test('shell mode on a Windows guest uses cmd.exe /c', async () => {
    const created = await ok('create_vm', {
      node: 'pve2',
      name: 'win-box',
      ostype: 'win11',
      start: true,
      wait: true,
    });
    const vmid = created.metadata.vmid;
    assert.equal(guest(vmid).status, 'running');
    const seq = lastSeq();
    const r = await ok('execute_vm_command', {
      node: 'pve2',
      vmid,
      command: 'echo hello',
      shell: true,
      guest_os: 'windows',
    });
    const sent = mutations(seq).find((q) => q.path.endsWith('/agent/exec'))!;
    assert.deepEqual(sent.body!.command, ['cmd.exe', '/c', 'echo hello']);
    assert.equal(r.exit_code, 0);
    assert.match(r.stdout, /hello/);
  });

  test('a command that outlives timeout_seconds comes back timed_out, without an exit code', async () => {
    const r = await call('execute_vm_command', {
      node: nodeOf(100),
      vmid: 100,
      command: ['sleep', '30'],
      timeout_seconds: 1,
    });
    assert.equal(r.isError, undefined, resultText(r));
    assert.equal(r.structuredContent.timed_out, true);
    assert.equal(r.structuredContent.exited, false);
    assert.equal(r.structuredContent.exit_code, undefined);
    assert.ok(r.structuredContent.pid > 0);
    assert.match(resultText(r), /TIMED OUT \(still running in the guest\)/);
  });

  test('output is capped at 64 KiB per stream with a flag, and the agent’s own truncation is reported', async () => {
    const node = nodeOf(100);
    const big = await ok('execute_vm_command', { node, vmid: 100, command: ['seq', '1', '100000'] });
    assert.equal(big.exit_code, 0);
    assert.equal(big.stdout_truncated, true);
    assert.equal(Buffer.byteLength(big.stdout), 64 * 1024);
    assert.ok(big.stdout.startsWith('1\n2\n3\n'));
    assert.equal(big.stderr_truncated, false);
    assert.equal(big.output_limit_bytes, 65536);

    const saved = h.sim.cluster.agentOutputLimit;
    h.sim.cluster.agentOutputLimit = 1000;
    try {
      const cut = await ok('execute_vm_command', { node, vmid: 100, command: ['seq', '1', '1000'] });
      assert.equal(cut.stdout_truncated, true, 'qemu-ga cut it (out-truncated)');
      assert.ok(Buffer.byteLength(cut.stdout) <= 1000);
    } finally {
      h.sim.cluster.agentOutputLimit = saved;
    }
  });

  // ------------------------------------------------------------------------------------- path injection

  test('path injection in node or vmid is refused before any request reaches the simulator', async () => {
    const before = h.sim.totalRequests;
    const attempts: Array<[string, Record<string, unknown>]> = [
      ['start_vm', { node: 'pve1/../x', vmid: 100 }],
      ['start_vm', { node: 'pve1', vmid: '100/../../' }],
      ['delete_vm', { node: 'pve1', vmid: '100/../../access/users', force: true }],
      ['execute_vm_command', { node: '..', vmid: 100, command: ['id'] }],
      ['update_vm_config', { node: 'pve1%2F..', vmid: 100, cores: 1 }],
      ['clone_vm', { node: 'pve1', source_vmid: '100?x=1' }],
      ['create_vm', { node: 'pve1/../../cluster', name: 'x' }],
      ['get_vm_ip_addresses', { node: 'pve1', vmid: '100%2F..' }],
    ];
    for (const [tool, args] of attempts) {
      const msg = await fails(tool, args, 'VALIDATION');
      assert.match(msg, /(node|vmid|source_vmid) must be a Proxmox/, `${tool} ${JSON.stringify(args)}`);
    }
    await request(h.url).post('/nodes/pve1%2F..%2Fx/vms/100/start').set(h.auth).send({}).expect(400);
    await request(h.url).delete('/nodes/pve1/vms/100%2F..%2F..').set(h.auth).expect(400);
    await request(h.url)
      .post('/nodes/pve1/vms/..%2F..%2Fcluster/exec')
      .set(h.auth)
      .send({ command: ['id'] })
      .expect(400);
    assert.equal(h.sim.totalRequests, before, 'not one request reached the simulator');
  });
});

/**
 * The storage choice for create_vm on rows as PVE's GET /nodes/{node}/storage sends them. The simulator reports
 * every storage active, so the disabled/inactive cases are checked on the function itself.
 */
describe('create_vm storage choice (pickStorage)', () => {
  const row = (storage: string, avail: number, extra: Partial<NodeStorage> = {}): NodeStorage => ({
    storage,
    type: 'lvmthin',
    content: 'images,rootdir',
    active: 1,
    enabled: 1,
    avail,
    ...extra,
  });

  test('the usable storage with the most free space wins; inactive, disabled and non-image ones never do', () => {
    const rows = [
      row('big-but-down', 9e12, { active: 0 }),
      row('big-but-disabled', 8e12, { enabled: 0 }),
      row('iso-only', 7e12, { content: 'iso,vztmpl' }),
      row('small', 1e11),
      row('medium', 5e11),
    ];
    assert.equal(pickStorage(rows, 'pve1', 'images').storage, 'medium');
  });

  test('a named storage must hold images and be usable on that node', () => {
    const rows = [row('fast', 1e11), row('down', 9e12, { active: 0 }), row('isos', 1e12, { content: 'iso' })];
    assert.equal(pickStorage(rows, 'pve1', 'images', { wanted: 'fast' }).storage, 'fast');
    assert.throws(() => pickStorage(rows, 'pve1', 'images', { wanted: 'down' }), /not active on node pve1/);
    assert.throws(() => pickStorage(rows, 'pve1', 'images', { wanted: 'isos' }), /cannot hold VM disks/);
    assert.throws(
      () => pickStorage(rows, 'pve1', 'images', { wanted: 'elsewhere' }),
      /cannot hold VM disks on node pve1/,
    );
    assert.throws(
      () => pickStorage([row('down', 1, { active: 0 })], 'pve2', 'images'),
      /No enabled, active storage/,
    );
  });
});

/** Issue 14 A3: the guest disk storage choice prefers what can take snapshots, and says what it picked. */
describe('guest disk storage choice (pickGuestStorage)', () => {
  const row = (
    storage: string,
    type: string,
    avail: number,
    extra: Partial<NodeStorage> = {},
  ): NodeStorage => ({
    storage,
    type,
    content: 'images,rootdir',
    active: 1,
    enabled: 1,
    avail,
    ...extra,
  });

  test('VM disks: snapshot-capable first (qcow2 on file storages), then most free space; thick LVM only as a fallback', () => {
    const rows = [
      row('thick', 'lvm', 9e12),
      row('iscsi-lun', 'iscsi', 8e12),
      row('thin', 'lvmthin', 1e12),
      row('files', 'dir', 2e12),
      row('down-zfs', 'zfspool', 7e12, { active: 0 }),
    ];
    const vm = pickGuestStorage(rows, 'pve1', 'qemu');
    assert.equal(vm.row.storage, 'files');
    assert.equal(vm.format, 'qcow2');
    assert.equal(vm.formatLabel, 'qcow2');
    assert.equal(vm.snapshots, true);
    assert.match(
      vm.reason,
      /^files \(dir, qcow2\): of the storages on pve1 that can take snapshots of VM disks/,
    );
    // native snapshots beat the file storage when they have more room
    const ceph = pickGuestStorage([...rows, row('ceph', 'rbd', 3e12)], 'pve1', 'qemu');
    assert.equal(ceph.row.storage, 'ceph');
    assert.equal(ceph.format, undefined);
    assert.equal(ceph.formatLabel, 'raw');
    // a capable storage without room for the disk is passed over
    const roomy = pickGuestStorage(rows, 'pve1', 'qemu', { minBytes: 1.5e12 });
    assert.equal(roomy.row.storage, 'files');
    const onlyThick = pickGuestStorage(
      [row('thick', 'lvm', 9e12), row('thin', 'lvmthin', 1e9)],
      'pve1',
      'qemu',
      {
        minBytes: 1e10,
      },
    );
    assert.equal(onlyThick.row.storage, 'thick');
    assert.equal(onlyThick.snapshots, false);
    assert.match(
      onlyThick.reason,
      /no storage on pve1 that can take snapshots of VM disks is usable with room/,
    );
    assert.match(onlyThick.reason, /lvm storage cannot take snapshots of VM disks$/);
  });

  test('container disks: no qcow2, so file storages and thick LVM come after thin LVM, ZFS, RBD and Btrfs', () => {
    const rows = [row('files', 'nfs', 9e12), row('thick', 'lvm', 8e12), row('zfs', 'zfspool', 1e12)];
    const ct = pickGuestStorage(rows, 'pve1', 'lxc');
    assert.equal(ct.row.storage, 'zfs');
    assert.equal(ct.formatLabel, 'subvol');
    assert.equal(ct.snapshots, true);
    const fallback = pickGuestStorage([row('files', 'nfs', 9e12)], 'pve1', 'lxc');
    assert.equal(fallback.row.storage, 'files');
    assert.equal(fallback.snapshots, false);
    assert.equal(fallback.format, undefined, 'containers never get a format');
  });

  test('a named storage is used as asked and the reason says whether snapshots work; unknown types are not judged', () => {
    const rows = [row('files', 'cifs', 1e12), row('thick', 'lvm', 1e12), row('plugin', 'someplugin', 1e12)];
    const files = pickGuestStorage(rows, 'pve1', 'qemu', { wanted: 'files' });
    assert.equal(files.format, 'qcow2');
    assert.equal(
      files.reason,
      'files (cifs, qcow2): the storage asked for, as qcow2 so the disk can take snapshots',
    );
    const thick = pickGuestStorage(rows, 'pve1', 'qemu', { wanted: 'thick' });
    assert.equal(thick.snapshots, false);
    assert.match(thick.reason, /: the storage asked for; lvm storage cannot take snapshots of VM disks$/);
    const plugin = pickGuestStorage(rows, 'pve1', 'qemu', { wanted: 'plugin' });
    assert.equal(plugin.snapshots, undefined);
    assert.equal(plugin.reason, 'plugin (someplugin, raw): the storage asked for');
    assert.throws(() => pickGuestStorage(rows, 'pve1', 'qemu', { wanted: 'nope' }), /cannot hold VM disks/);
  });
});

/** Issue 14 A3: a call that waited for a job that failed is a failed call, on every transport. */
describe('wait: true and a job that failed', () => {
  let h: Harness;
  let mcp: Client;
  const { call } = toolCalls(() => mcp);

  before(async () => {
    h = await startHarness({ nodes: 1, guests: 6, taskSeconds: 0 });
    mcp = await h.mcp();
    await mcp.listTools(); // the SDK checks the error's structuredContent against start_vm's outputSchema
  });
  after(() => h.close());

  const failNextStart = (vmid: number) =>
    h.sim.tasks.script({
      match: { type: 'qmstart', id: String(vmid) },
      exitstatus: 'simulated start failure',
    });

  test('MCP: isError with the job as structuredContent; REST and POST /{tool}: 502 JOB_FAILED with details.job', async () => {
    const vmid = 104; // stopped
    failNextStart(vmid);
    const r = await call('start_vm', { node: 'pve1', vmid, wait: true });
    assert.equal(r.isError, true);
    assert.match(
      resultText(r),
      /^JOB_FAILED: Start VM 104 on pve1: the Proxmox task failed: simulated start failure \(job [0-9a-f-]{36}\)/,
    );
    assert.match(resultText(r), /retry_job/);
    assert.equal(r.structuredContent.status, 'failed');
    assert.equal(r.structuredContent.tool_name, 'start_vm');
    assert.equal(r.structuredContent.last_error, 'simulated start failure');

    failNextStart(vmid);
    const rest = await request(h.url).post(`/nodes/pve1/vms/${vmid}/start`).set(h.auth).send({ wait: true });
    assert.equal(rest.status, 502, JSON.stringify(rest.body));
    assert.equal(rest.body.code, 'JOB_FAILED');
    assert.equal(rest.body.details.job.status, 'failed');
    assert.equal(rest.body.details.job_id, rest.body.details.job.job_id);

    failNextStart(vmid);
    const legacy = await request(h.url)
      .post('/start_vm')
      .set(h.auth)
      .send({ node: 'pve1', vmid, wait: true });
    assert.equal(legacy.status, 502, JSON.stringify(legacy.body));
    assert.equal(legacy.body.details.job.last_error, 'simulated start failure');

    // the job is kept, failed, and can be retried
    const job = (await request(h.url).get(`/jobs/${rest.body.details.job_id}`).set(h.auth).expect(200)).body;
    assert.equal(job.status, 'failed');
  });

  test('without wait the job is returned running (202), and a completed wait is a success', async () => {
    const vmid = 104;
    failNextStart(vmid);
    const started = await request(h.url).post(`/nodes/pve1/vms/${vmid}/start`).set(h.auth).send({});
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.notEqual(started.body.status, 'completed');
    const ok = await request(h.url).post(`/nodes/pve1/vms/${vmid}/start`).set(h.auth).send({ wait: true });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    assert.equal(ok.body.status, 'completed');
  });
});
