import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { simulatorTargetConfig, type PveSimulator } from '../../src/simulator/index.js';
import type { AppConfig, CommandPolicyConfig } from '../../src/config/app-config.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { harnessSuite, resultText, simGuest, simRequests, toolCalls } from '../helpers/tools.js';
import { approveAsOperator, startApprovalHarness } from '../helpers/approvals.js';

/** The test config with `uname` allowed for the exec tools, and more. */
function config(sim: PveSimulator, policy: Partial<CommandPolicyConfig> = {}): AppConfig {
  const base = testConfig([simulatorTargetConfig(sim)]);
  return testConfig([simulatorTargetConfig(sim)], {
    commandPolicy: { ...base.commandPolicy, allowPatterns: ['^uname( -a)?$'], ...policy },
  });
}

/** A ZFS storage on every node for VM disks and container volumes (the moves' destination). */
function addFast(sim: PveSimulator): void {
  sim.cluster.addStorage({
    storage: 'fast',
    type: 'zfspool',
    content: ['images', 'rootdir'],
    shared: false,
    options: { pool: 'rpool/data' },
    total: 500 * 1024 ** 3,
    sparse: true,
  });
}

const SAFETY = /^safety-[a-z-]+-\d{14}$/;
const SAFETY_TOOLS = [
  'rollback_snapshot',
  'restore_backup',
  'execute_vm_command',
  'move_vm_disk',
  'move_container_volume',
];

/** The index in `lines` of the first one matching `re` (fails when none does). */
function indexOf(lines: string[], re: RegExp): number {
  const i = lines.findIndex((l) => re.test(l));
  assert.ok(i >= 0, `a request matching ${re} in:\n${lines.join('\n')}`);
  return i;
}

// safety_snapshot on risky guest operations, over MCP and REST, against the schema-checked simulator
// (3 nodes, 12 guests: VMs on even indexes, containers on odd ones; VM 100 has snapshots before-upgrade → after-upgrade).
describe('safety_snapshot: a snapshot first, the operation only if it was taken', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, changes } = simRequests(() => h.sim);

  harnessSuite(
    () =>
      startHarness({ nodes: 3, guests: 12, taskSeconds: 0 }, (sim) => {
        addFast(sim);
        return config(sim);
      }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('the risky tools advertise safety_snapshot in their input and output schemas; others do not', async () => {
    const { tools } = await mcp.listTools();
    for (const tool of tools) {
      const input = (tool.inputSchema.properties ?? {}) as Record<string, { type?: string }>;
      // a tool that plans (dry_run) answers its own result or a plan: its own result is the first of anyOf
      const own =
        (tool.outputSchema?.anyOf as Array<{ properties?: object }> | undefined)?.[0] ?? tool.outputSchema;
      const output = (own?.properties ?? {}) as Record<string, { type?: string }>;
      if (SAFETY_TOOLS.includes(tool.name)) {
        assert.equal(input.safety_snapshot?.type, 'boolean', tool.name);
        assert.equal(output.safety_snapshot?.type, 'string', tool.name);
      } else {
        assert.equal(input.safety_snapshot, undefined, tool.name);
        assert.equal(output.safety_snapshot, undefined, tool.name);
      }
    }
    // the job-returning tools share JobDto, whose own schema stays as it was
    const getJob = tools.find((t) => t.name === 'get_job')!;
    assert.equal((getJob.outputSchema?.properties as Record<string, unknown>).safety_snapshot, undefined);
  });

  test('rollback_snapshot: the safety snapshot is taken and waited for before the rollback; the result names it', async () => {
    const vm = simGuest(h.sim, 100);
    const seq = lastSeq();
    const job = await ok('rollback_snapshot', {
      node: vm.node,
      vmid: 100,
      snapname: 'before-upgrade',
      safety_snapshot: true,
      wait: true,
    });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.match(job.safety_snapshot, SAFETY);
    assert.match(job.safety_snapshot, /^safety-rollback-snapshot-/);
    const sent = changes(seq);
    const snap = indexOf(
      sent,
      new RegExp(`^POST /nodes/${vm.node}/qemu/100/snapshot \\{.*"snapname":"${job.safety_snapshot}"`),
    );
    const rollback = indexOf(sent, /\/snapshot\/before-upgrade\/rollback/);
    assert.ok(snap < rollback, 'the snapshot comes first');
    // the snapshot's task had ended before the rollback was sent
    const taskRead = h.sim.requests.findIndex(
      (q) =>
        q.seq > seq &&
        q.method === 'GET' &&
        /\/tasks\/[^/]+:qmsnapshot:100:[^/]*\/status$/.test(decodeURIComponent(q.path)),
    );
    assert.ok(taskRead >= 0, 'the snapshot task was followed');
    const list = await ok('list_snapshots', { node: vm.node, vmid: 100 });
    assert.ok(
      list.snapshots.some((s: { name: string }) => s.name === job.safety_snapshot),
      'the snapshot exists',
    );
    // the snapshot is a job of its own
    const jobs = await ok('list_jobs', { limit: 5 });
    assert.ok(jobs.jobs.some((j: { summary: string }) => j.summary.includes(job.safety_snapshot)));
  });

  test('execute_vm_command over REST: snapshot, then the command; without safety_snapshot no snapshot', async () => {
    const vm = simGuest(h.sim, 102);
    let seq = lastSeq();
    const res = await request(h.url)
      .post(`/nodes/${vm.node}/vms/102/exec`)
      .set(h.auth)
      .send({ command: 'uname -a', safety_snapshot: true })
      .expect(200);
    assert.match(res.body.safety_snapshot, /^safety-execute-vm-comma/);
    let sent = changes(seq);
    assert.ok(indexOf(sent, /\/qemu\/102\/snapshot /) < indexOf(sent, /\/agent\/exec /));

    seq = lastSeq();
    const plain = await ok('execute_vm_command', { node: vm.node, vmid: 102, command: 'uname -a' });
    assert.equal(plain.safety_snapshot, undefined);
    sent = changes(seq);
    assert.equal(sent.filter((l) => /\/snapshot /.test(l)).length, 0, 'no snapshot unless asked');
    await fails(
      'execute_vm_command',
      { node: vm.node, vmid: 102, command: 'uname', safety_snapshot: 'yes' },
      'VALIDATION',
      /safety_snapshot/,
    );
  });

  test('a snapshot that fails (the guest is locked) refuses the operation: nothing else is sent', async () => {
    const vm = simGuest(h.sim, 102);
    vm.lock = 'backup';
    try {
      const seq = lastSeq();
      const text = await fails(
        'execute_vm_command',
        { node: vm.node, vmid: 102, command: 'uname -a', safety_snapshot: true },
        'CONFLICT',
        /Safety snapshot 'safety-execute-vm-comma[^']*' of VM 102 failed: .*locked.*execute_vm_command was not run; nothing else was sent/,
      );
      assert.match(text, /safety_snapshot: false/);
      const sent = changes(seq);
      assert.deepEqual(
        sent.filter((l) => !/\/qemu\/102\/snapshot /.test(l)),
        [],
        'only the snapshot request was sent',
      );
    } finally {
      vm.lock = undefined;
    }
  });

  test('move_vm_disk and move_container_volume: the snapshot precedes the move', async () => {
    const vm = simGuest(h.sim, 106);
    let seq = lastSeq();
    const moved = await call('move_vm_disk', {
      node: vm.node,
      vmid: 106,
      disk: 'scsi0',
      storage: 'fast',
      safety_snapshot: true,
      wait: true,
    });
    assert.equal(moved.isError, undefined, resultText(moved));
    assert.match(moved.structuredContent.safety_snapshot, /^safety-move-vm-disk-/);
    let sent = changes(seq);
    assert.ok(indexOf(sent, /\/qemu\/106\/snapshot /) < indexOf(sent, /\/qemu\/106\/move_disk /));

    const ct = simGuest(h.sim, 105);
    if (ct.status === 'running') await ok('stop_container', { selector: '105', graceful: false, wait: true });
    seq = lastSeq();
    const volume = await call('move_container_volume', {
      node: ct.node,
      vmid: 105,
      volume: 'rootfs',
      storage: 'fast',
      safety_snapshot: true,
      wait: true,
    });
    assert.equal(volume.isError, undefined, resultText(volume));
    assert.match(volume.structuredContent.safety_snapshot, /^safety-move-container-vo/);
    sent = changes(seq);
    assert.ok(indexOf(sent, /\/lxc\/105\/snapshot /) < indexOf(sent, /\/lxc\/105\/move_volume /));
  });

  test('restore_backup to a free vmid takes no snapshot (nothing to keep)', async () => {
    const backups = await ok('list_backups', { vmid: 100 });
    const archive = backups.backups[0].volid as string;
    const seq = lastSeq();
    const job = await ok('restore_backup', {
      node: simGuest(h.sim, 100).node,
      archive,
      vmid: 950,
      safety_snapshot: true,
      wait: true,
    });
    assert.equal(job.safety_snapshot, undefined);
    assert.equal(changes(seq).filter((l) => /\/snapshot /.test(l)).length, 0);
  });
});

describe('safety_snapshot by default (command_policy.safety_snapshot_default) and after an approval', () => {
  let h: Harness;
  let mcp: Client;
  const { call } = toolCalls(() => mcp);
  const { lastSeq, changes } = simRequests(() => h.sim);

  harnessSuite(
    () =>
      startHarness({ nodes: 3, guests: 12, taskSeconds: 0 }, (sim) =>
        config(sim, { safetySnapshotDefault: ['exec'] }),
      ),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('an exec tool snapshots without being asked; safety_snapshot: false opts out', async () => {
    const vm = simGuest(h.sim, 100);
    let seq = lastSeq();
    const called = await call('execute_vm_command', { node: vm.node, vmid: 100, command: 'uname -a' });
    const r = called.structuredContent;
    assert.match(r.safety_snapshot, SAFETY);
    // named in the text as well, for clients that read only the text
    assert.match(
      resultText(called),
      new RegExp(`Safety snapshot: ${r.safety_snapshot} \\(taken before this operation`),
    );
    assert.equal(changes(seq).filter((l) => /\/snapshot /.test(l)).length, 1);
    seq = lastSeq();
    const off = await call('execute_vm_command', {
      node: vm.node,
      vmid: 100,
      command: 'uname -a',
      safety_snapshot: false,
    });
    assert.equal(off.structuredContent.safety_snapshot, undefined);
    assert.equal(changes(seq).filter((l) => /\/snapshot /.test(l)).length, 0);
  });
});

describe('safety_snapshot with an approval: taken only once the operator approved', () => {
  let h: Harness;
  let mcp: Client;
  const { call } = toolCalls(() => mcp);
  const { lastSeq, changes } = simRequests(() => h.sim);

  harnessSuite(
    () => startApprovalHarness({ nodes: 3, guests: 12, taskSeconds: 0 }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('rollback_snapshot: APPROVAL_REQUIRED sends nothing; the approved call snapshots, then rolls back', async () => {
    const vm = simGuest(h.sim, 100);
    const args = { node: vm.node, vmid: 100, snapname: 'before-upgrade', safety_snapshot: true, wait: true };
    let seq = lastSeq();
    const asked = await call('rollback_snapshot', args);
    assert.equal(asked.isError, true);
    assert.match(resultText(asked), /^APPROVAL_REQUIRED: /);
    assert.deepEqual(changes(seq), [], 'no snapshot before the approval');
    const requestId = /Approval request ([0-9a-f-]{36})/.exec(resultText(asked))?.[1];
    assert.ok(requestId, resultText(asked));
    const token = await approveAsOperator(h.url, requestId);
    seq = lastSeq();
    const done = await call('rollback_snapshot', { ...args, approval_token: token });
    assert.equal(done.isError, undefined, resultText(done));
    assert.match(done.structuredContent.safety_snapshot, SAFETY);
    const sent = changes(seq);
    assert.ok(indexOf(sent, /\/qemu\/100\/snapshot /) < indexOf(sent, /\/rollback /));
  });

  test('a dry run lists the safety snapshot first; an approval bound to that plan takes it, then rolls back', async () => {
    const vm = simGuest(h.sim, 100);
    const args = { node: vm.node, vmid: 100, snapname: 'before-upgrade', safety_snapshot: true, wait: true };
    let seq = lastSeq();
    const planned = await call('rollback_snapshot', { ...args, dry_run: true });
    assert.equal(planned.isError, undefined, resultText(planned));
    const plan = planned.structuredContent as {
      requests: Array<{ method: string; path: string }>;
      plan_digest: string;
    };
    assert.equal(plan.requests[0].method, 'POST');
    assert.match(plan.requests[0].path, /\/qemu\/100\/snapshot$/, 'the snapshot is the first change');
    assert.ok(
      plan.requests.some((r) => /\/rollback$/.test(r.path)),
      JSON.stringify(plan.requests),
    );
    assert.deepEqual(changes(seq), [], 'a dry run sends nothing');
    // the same call bound to the plan: planned again (the same digest: the snapshot's name is not in it) and run
    const bound = { ...args, plan_digest: plan.plan_digest };
    const asked = await call('rollback_snapshot', bound);
    assert.match(resultText(asked), /^APPROVAL_REQUIRED: /);
    const requestId = /Approval request ([0-9a-f-]{36})/.exec(resultText(asked))?.[1];
    const token = await approveAsOperator(h.url, requestId!);
    seq = lastSeq();
    // safety snapshot names carry the second they are taken: the previous test's is of the same VM and tool
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const done = await call('rollback_snapshot', { ...bound, approval_token: token });
    assert.equal(done.isError, undefined, resultText(done));
    assert.match(done.structuredContent.safety_snapshot, SAFETY);
    const sent = changes(seq);
    assert.ok(indexOf(sent, /\/qemu\/100\/snapshot /) < indexOf(sent, /\/rollback /), sent.join('\n'));
  });
});
