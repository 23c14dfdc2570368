import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { Client as ModernClient, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { approveAsOperator, startApprovalHarness } from '../helpers/approvals.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import {
  API_KEY,
  OPERATOR_KEY,
  startHarness,
  testConfig,
  withOperator,
  type Harness,
} from '../helpers/test-app.js';
import { modernRpc } from '../helpers/modern-rpc.js';
import { resultText, simGuest, simRequests, harnessSuite, type ToolResult } from '../helpers/tools.js';

/**
 * Plans (issue 17) for the operations that matter most: migrate_vm, restore_backup and delete_vm — the requests a
 * plan names, its checks, a plan that would fail saying why — and plan-bound calls (plan_digest): an approval bound
 * to a plan is refused with PLAN_CHANGED once the world moved (the guest started, the backup was deleted), and runs
 * when it did not. Approvals are enforced (every destroy tool needs an operator).
 *
 * Simulator: 3 nodes, 12 guests: VM 100 (pve1) running, VM 104 (pve2) stopped, VM 106 (pve1) running, VM 110 (pve2).
 */
describe('plans: dry_run and plan_digest', () => {
  let h: Harness;
  let mcp: Client;
  const { lastSeq, mutations } = simRequests(() => h.sim);
  const call = (name: string, args: Record<string, unknown>) =>
    mcp.callTool({ name, arguments: args }) as Promise<ToolResult>;
  const plan = async (name: string, args: Record<string, unknown>) => {
    const seq = lastSeq();
    const r = await call(name, { ...args, dry_run: true });
    assert.equal(r.isError, undefined, resultText(r));
    assert.deepEqual(mutations(seq), [], `${name}: a dry run sends nothing but reads`);
    return r.structuredContent as Record<string, any>;
  };
  const checkOf = (p: Record<string, any>, name: string) =>
    (p.checks as Array<{ name: string; ok: boolean; detail: string }>).find((c) => c.name === name);
  const firstVmBackup = async () => {
    const r = await call('list_backups', { vmid: 102 });
    const backups: Array<{ volid: string; node: string; storage: string }> = r.structuredContent.backups;
    return backups[0];
  };

  harnessSuite(
    () => startApprovalHarness({ nodes: 3, guests: 12, taskSeconds: 0 }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('migrate_vm: the migrate request, the guest, HA and target checks; an unknown node would fail', async () => {
    const p = await plan('migrate_vm', { node: 'pve2', vmid: 104, target_node: 'pve1' });
    assert.equal(p.would_succeed, true);
    assert.deepEqual(p.requests, [
      { method: 'POST', path: '/nodes/pve2/qemu/104/migrate', params: { target: 'pve1' } },
    ]);
    assert.deepEqual(p.affected, [
      { kind: 'vm', id: '104', node: 'pve2' },
      { kind: 'node', id: 'pve1' },
    ]);
    assert.match(checkOf(p, 'guest_running')!.detail, /VM 104 .* is stopped \(offline migration\)/);
    assert.match(checkOf(p, 'ha_managed')!.detail, /is not managed by HA/);
    assert.match(checkOf(p, 'target_node')!.detail, /node pve1 is a cluster member and online/);
    assert.match(checkOf(p, 'guest_config')!.detail, /^VM 104 on pve2: config digest [0-9a-f]{40}$/);
    assert.equal(simGuest(h.sim, 104).node, 'pve2', 'nothing moved');
    assert.deepEqual(p.warnings, [], 'migration needs no approval');

    const bad = await plan('migrate_vm', { node: 'pve2', vmid: 104, target_node: 'pve9' });
    assert.equal(bad.would_succeed, false);
    assert.equal(bad.error.code, 'NOT_FOUND');
    assert.match(bad.error.message, /Node 'pve9' is not part of the cluster/);
    assert.deepEqual(bad.requests, []);
  });

  test('delete_vm: a running guest would fail (CONFLICT, its state checked); a stopped one names the DELETE and the approval', async () => {
    const running = await plan('delete_vm', { node: 'pve1', vmid: 100 });
    assert.equal(running.would_succeed, false);
    assert.equal(running.error.code, 'CONFLICT');
    assert.match(running.error.message, /is running/);
    assert.deepEqual(checkOf(running, 'guest_state'), {
      name: 'guest_state',
      ok: true,
      detail: 'VM 100 on pve1 is running, not locked',
    });
    assert.deepEqual(running.requests, []);

    const stopped = await plan('delete_vm', { node: 'pve2', vmid: 104 });
    assert.equal(stopped.would_succeed, true);
    assert.deepEqual(
      stopped.requests.map((r: { method: string; path: string }) => `${r.method} ${r.path}`),
      ['DELETE /nodes/pve2/qemu/104'],
    );
    assert.ok(
      stopped.warnings.some((w: string) => /^needs approval: delete_vm/.test(w)),
      stopped.warnings,
    );
    assert.ok(h.sim.cluster.guest(104), 'still there');
    const audited = await request(h.url)
      .get('/audit/events')
      .query({ action: 'delete_vm' })
      .set({ authorization: `Bearer ${OPERATOR_KEY}` })
      .expect(200);
    const events = (audited.body.events ?? audited.body) as Array<Record<string, any>>;
    const last = events.find((e) => e.details?.plan_digest === stopped.plan_digest);
    assert.ok(last, JSON.stringify(events).slice(0, 500));
    assert.equal(last.reason, 'dry run: planned, nothing changed');
    assert.equal(last.details.dry_run, true);

    // force: the stop, a wait on its (placeholder) task, then the delete: the whole sequence is planned
    const forced = await plan('delete_vm', { node: 'pve1', vmid: 100, force: true, wait: true });
    assert.equal(forced.would_succeed, true, JSON.stringify(forced.error));
    assert.deepEqual(
      forced.requests.map((r: { method: string; path: string }) => `${r.method} ${r.path}`),
      ['POST /nodes/pve1/qemu/100/status/stop', 'DELETE /nodes/pve1/qemu/100'],
    );
    assert.equal(simGuest(h.sim, 100).status, 'running', 'nothing stopped');
  });

  test('restore_backup: the restore request with backup and vmid checks; a missing backup would fail', async () => {
    const backup = await firstVmBackup();
    const p = await plan('restore_backup', { node: backup.node, vmid: 990, archive: backup.volid });
    assert.equal(p.would_succeed, true, JSON.stringify(p.error));
    assert.equal(p.requests.length, 1);
    assert.equal(p.requests[0].method, 'POST');
    assert.equal(p.requests[0].path, `/nodes/${backup.node}/qemu`);
    assert.equal(p.requests[0].params.archive, backup.volid);
    assert.equal(p.requests[0].params.vmid, 990);
    assert.match(checkOf(p, 'backup_exists')!.detail, new RegExp(`backup ${backup.volid} is readable`));
    assert.equal(checkOf(p, 'vmid')!.detail, 'vmid 990 is free');
    assert.deepEqual(p.affected, [{ kind: 'vm', id: '990', node: backup.node }]);

    const missing = await plan('restore_backup', {
      node: backup.node,
      vmid: 990,
      archive: `${backup.storage}:backup/vzdump-qemu-102-2020_01_01-00_00_00.vma.zst`,
    });
    assert.equal(missing.would_succeed, false);
    assert.equal(missing.error.code, 'NOT_FOUND');
    assert.match(missing.error.message, /not found/);
    assert.match(
      resultText(
        await call('restore_backup', {
          node: backup.node,
          vmid: 990,
          archive: `${backup.storage}:backup/vzdump-qemu-102-2020_01_01-00_00_00.vma.zst`,
          dry_run: true,
        }),
      ),
      /would FAIL: NOT_FOUND/,
    );
  });

  test('plan_digest: an approval bound to a plan is refused with PLAN_CHANGED once the guest started; unchanged, it runs', async () => {
    const p = await plan('delete_vm', { node: 'pve2', vmid: 104 });
    const args = { node: 'pve2', vmid: 104, plan_digest: p.plan_digest };
    let seq = lastSeq();
    const asked = await call('delete_vm', args);
    assert.match(resultText(asked), /^APPROVAL_REQUIRED: /);
    const requestId = /Approval request ([0-9a-f-]{36})/.exec(resultText(asked))![1];
    // the request shows the operator the plan it was made for
    const shown = await request(h.url)
      .get(`/approvals/${requestId}`)
      .set({ authorization: `Bearer ${OPERATOR_KEY}` })
      .expect(200);
    assert.equal(shown.body.plan.plan_digest, p.plan_digest);
    assert.deepEqual(shown.body.plan.requests, p.requests);
    assert.equal(shown.body.arguments.plan_digest, p.plan_digest, 'the approval is bound to the plan');
    const token = await approveAsOperator(h.url, requestId);

    const guest = simGuest(h.sim, 104);
    h.sim.cluster.setRunning(guest, true);
    const changed = await call('delete_vm', { ...args, approval_token: token });
    assert.equal(changed.isError, true);
    assert.match(resultText(changed), /^CONFLICT: PLAN_CHANGED: the world changed since plan/);
    assert.match(resultText(changed), /check was: guest_state: VM 104 on pve2 is stopped, not locked \(ok\)/);
    assert.match(resultText(changed), /check now: guest_state: VM 104 on pve2 is running, not locked \(ok\)/);
    assert.match(resultText(changed), /would no longer succeed/);
    assert.deepEqual(mutations(seq), [], 'nothing deleted');

    h.sim.cluster.setRunning(guest, false);
    seq = lastSeq();
    const done = await call('delete_vm', { ...args, approval_token: token });
    assert.equal(done.isError, undefined, resultText(done));
    assert.deepEqual(
      mutations(seq).map((q) => `${q.method} ${q.path}`),
      ['DELETE /nodes/pve2/qemu/104'],
    );

    // the token was bound to the plan digest: the same approval without it is a different call
    const other = await call('delete_vm', { node: 'pve2', vmid: 106, plan_digest: p.plan_digest });
    assert.match(resultText(other), /^CONFLICT: PLAN_CHANGED/);
  });

  test('plan_digest: a deleted backup changes the restore plan; an unknown digest is refused', async () => {
    const backup = await firstVmBackup();
    const args = { node: backup.node, vmid: 991, archive: backup.volid };
    const p = await plan('restore_backup', args);
    const storage = h.sim.cluster.storage(backup.storage)!;
    assert.ok(h.sim.cluster.removeVolume(backup.node, storage, backup.volid), 'backup removed in PVE');
    const seq = lastSeq();
    const changed = await call('restore_backup', { ...args, plan_digest: p.plan_digest });
    assert.match(resultText(changed), /^CONFLICT: PLAN_CHANGED: /);
    assert.match(resultText(changed), /check was: backup_exists: backup .* is readable/);
    assert.match(resultText(changed), /would no longer succeed/);
    assert.deepEqual(mutations(seq), []);

    const unknown = await call('restore_backup', { ...args, plan_digest: 'f'.repeat(64) });
    assert.match(resultText(unknown), /^CONFLICT: PLAN_CHANGED: no plan with digest ffffffffffff/);
  });

  test('quorum: every plan that changes PVE checks it; without quorum the plan would fail, and says why', async () => {
    const vm = simGuest(h.sim, 100);
    const quorate = await plan('update_vm_config', { node: vm.node, vmid: 100, memory: 2048 });
    assert.equal(checkOf(quorate, 'quorum')?.ok, true, JSON.stringify(quorate.checks));
    assert.equal(quorate.would_succeed, true);
    // two of three nodes down: the cluster has lost quorum (the guest's own node stays up)
    const others = ['pve1', 'pve2', 'pve3'].filter((n) => n !== vm.node);
    for (const n of others) h.sim.cluster.setNodeOnline(n, false);
    try {
      const lost = await plan('update_vm_config', { node: vm.node, vmid: 100, memory: 2048 });
      assert.equal(checkOf(lost, 'quorum')?.ok, false);
      assert.equal(lost.would_succeed, false);
      assert.match(lost.error.message, /has no quorum/);
    } finally {
      for (const n of others) h.sim.cluster.setNodeOnline(n, true);
    }
  });

  test('REST: dry_run in the JSON body or the query answers 200 with the plan; POST /{tool} too', async () => {
    const seq = lastSeq();
    const body = await request(h.url)
      .post('/nodes/pve1/vms/106/migrate')
      .set(h.auth)
      .send({ target_node: 'pve3', dry_run: true })
      .expect(200);
    assert.equal(body.body.tool, 'migrate_vm');
    assert.equal(body.body.dry_run, true);
    assert.match(body.body.plan_digest, /^[0-9a-f]{64}$/);
    assert.equal(body.body.requests[0].path, '/nodes/pve1/qemu/106/migrate');

    const query = await request(h.url).delete('/nodes/pve1/vms/100?dry_run=true').set(h.auth).expect(200);
    assert.equal(query.body.tool, 'delete_vm');
    assert.equal(query.body.would_succeed, false);
    assert.equal(query.body.error.code, 'CONFLICT');

    const route = await request(h.url)
      .post('/start_vm')
      .set(h.auth)
      .send({ node: 'pve2', vmid: 110, dry_run: true })
      .expect(200);
    assert.equal(route.body.tool, 'start_vm');
    assert.deepEqual(mutations(seq), []);

    const bad = await request(h.url)
      .post('/nodes/pve1/vms/106/migrate')
      .set(h.auth)
      .send({ target_node: 'pve3', dry_run: 'yes' })
      .expect(400);
    assert.match(bad.body.message, /dry_run must be a boolean/);
  });

  test('the 2026 MCP client (v2 SDK) validates a plan against the output schema too', async () => {
    const modern = new ModernClient(
      { name: 'plans-e2e', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await modern.connect(
      new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${API_KEY}` } },
      }),
    );
    try {
      await modern.listTools();
      const r = (await modern.callTool({
        name: 'migrate_vm',
        arguments: { node: 'pve1', vmid: 106, target_node: 'pve3', dry_run: true },
      })) as ToolResult;
      assert.equal(r.isError, undefined, resultText(r));
      assert.equal(r.structuredContent.tool, 'migrate_vm');
      assert.match(
        resultText(r),
        /^Plan for migrate_vm on default \(dry run, nothing changed\): would succeed/,
      );
    } finally {
      await modern.close();
    }
  });
});

describe('plans: the elicitation form of a plan-bound call shows the plan', () => {
  let h: Harness;
  after(() => h?.close());

  test('input_required names the plan digest and the requests it would send', async () => {
    h = await startHarness({ taskSeconds: 0 }, (sim) =>
      withOperator(testConfig([simulatorTargetConfig(sim)]), {
        highRiskMode: 'enforce',
        elicitationApprovalRisks: ['destroy'],
      }),
    );
    const rpc = modernRpc(h.url, h.auth);
    const vmid = 102;
    const node = h.sim.cluster.guest(vmid)!.node;
    const made = await rpc('tools/call', {
      name: 'create_snapshot',
      arguments: { node, vmid, snapname: 'before_change', wait: true },
    });
    assert.equal(made.result?.structuredContent?.status, 'completed', JSON.stringify(made));
    const args = { node, vmid, snapname: 'before_change' };
    const planned = await rpc('tools/call', {
      name: 'rollback_snapshot',
      arguments: { ...args, dry_run: true },
    });
    const digest = planned.result.structuredContent.plan_digest as string;
    assert.match(digest, /^[0-9a-f]{64}$/);

    const asked = await rpc(
      'tools/call',
      { name: 'rollback_snapshot', arguments: { ...args, plan_digest: digest } },
      { capabilities: { elicitation: {} } },
    );
    assert.equal(asked.result?.resultType, 'input_required', JSON.stringify(asked));
    const message = asked.result.inputRequests.approval.params.message as string;
    assert.match(message, /^Approve rollback_snapshot on /);
    assert.ok(
      message.includes(
        `Plan ${digest.slice(0, 12)}… would send:\n  POST /nodes/${node}/qemu/${vmid}/snapshot/before_change/rollback`,
      ),
      message,
    );
  });
});
