import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { DEFAULT_HIGH_RISK_OPERATIONS } from '../../src/config/command-policy.defaults.js';
import { ApprovalsService } from '../../src/security/approvals/approvals.service.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { simRequests, toolCalls } from '../helpers/tools.js';
import { OPERATOR_KEY, startHarness, testConfig, withOperator, type Harness } from '../helpers/test-app.js';

const operator = { authorization: `Bearer ${OPERATOR_KEY}` };

/** The shipped defaults for high-risk tools (enforce, the reference's list), and exec tools need approval too. */
function config(sim: Parameters<typeof simulatorTargetConfig>[0]): AppConfig {
  return withOperator(testConfig([simulatorTargetConfig(sim)]), {
    highRiskMode: 'enforce',
    highRiskOperations: [...DEFAULT_HIGH_RISK_OPERATIONS],
    mode: 'audit_only',
    execRequireApproval: true,
  });
}

/**
 * Issue 14 A5: a gated call is validated and runs every read-only precondition check before an approval request
 * is created, so an operator is only ever asked to approve a call that would be sent. Seeded (2 nodes, 12 guests):
 * VM 100 pve1 running (snapshots before-upgrade, after-upgrade), CT 101 pve2 running, CT 103 stopped, VM 104
 * stopped, VM 110 protected; `nas` holds backups of 100-103.
 */
describe('approvals are asked only for calls that pass their checks', () => {
  let h: Harness;
  let mcp: Client;
  const { call, fails } = toolCalls(() => mcp);
  const { lastSeq, mutations } = simRequests(() => h.sim);
  const nodeOf = (vmid: number) => h.sim.cluster.guest(vmid)!.node;
  const pending = async () => (await h.server.app.get(ApprovalsService).store.pending()).length;
  const tool = (name: string, args: Record<string, unknown>) =>
    request(h.url).post(`/${name}`).set(h.auth).send(args);

  before(async () => {
    h = await startHarness({ nodes: 2, guests: 12 }, config);
    mcp = await h.mcp();
  });
  after(() => h.close());

  /** A doomed call: refused with `code` (not APPROVAL_REQUIRED), no approval request, nothing sent to PVE. */
  const doomed = async (name: string, args: Record<string, unknown>, code: string, message: RegExp) => {
    const seq = lastSeq();
    const before = await pending();
    const text = await fails(name, args, code, message);
    assert.doesNotMatch(text, /approv/i, `${name}: ${text}`);
    assert.equal(await pending(), before, `${name}: no approval request was created`);
    assert.deepEqual(mutations(seq), [], `${name}: nothing was sent to PVE`);
  };

  test('restore_backup of a path-traversal archive is VALIDATION at once, never APPROVAL_REQUIRED', async () => {
    await doomed(
      'restore_backup',
      { node: 'pve1', archive: 'local:../../etc/passwd', vmid: 990 },
      'VALIDATION',
      /archive/,
    );
    // the REST route answers the same
    const before = await pending();
    const r = await request(h.url)
      .post('/nodes/pve1/backups/restore')
      .set(h.auth)
      .send({ archive: 'local:../../etc/passwd', vmid: 990 });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.code, 'VALIDATION');
    assert.equal(await pending(), before);
  });

  test('restore_backup over an existing guest without force is refused before approval', async () => {
    const backups = (await tool('list_backups', { vmid: 100, storage: 'nas' }).expect(200)).body.backups;
    await doomed(
      'restore_backup',
      { node: nodeOf(100), archive: backups[0].volid, vmid: 100 },
      'CONFLICT',
      /already exists/,
    );
  });

  test('delete_vm of a running VM without force, and of a protected VM, are refused before approval', async () => {
    await doomed('delete_vm', { node: nodeOf(100), vmid: 100 }, 'CONFLICT', /is running/);
    await doomed('delete_vm', { node: nodeOf(110), vmid: 110, force: true }, 'CONFLICT', /protected/);
    await doomed('delete_vm', { node: 'pve1', vmid: 4242 }, 'NOT_FOUND', /4242/);
  });

  test('delete_container of a running container without force is refused before approval', async () => {
    await doomed('delete_container', { selector: '101' }, 'CONFLICT', /is running/);
  });

  test('rollback_snapshot and delete_snapshot of a missing snapshot are NOT_FOUND before approval', async () => {
    await doomed(
      'rollback_snapshot',
      { node: nodeOf(100), vmid: 100, snapname: 'no-such-snap' },
      'NOT_FOUND',
      /no snapshot 'no-such-snap'[^]*before-upgrade/,
    );
    await doomed(
      'delete_snapshot',
      { node: nodeOf(100), vmid: 100, snapname: 'no-such-snap' },
      'NOT_FOUND',
      /no snapshot 'no-such-snap'/,
    );
  });

  test('delete_backup and delete_iso of a missing file are NOT_FOUND before approval', async () => {
    await doomed(
      'delete_backup',
      {
        node: 'pve1',
        storage: 'nas',
        volid: 'nas:backup/vzdump-qemu-100-2020_01_01-00_00_00.vma.zst',
      },
      'NOT_FOUND',
      /No backup/,
    );
    await doomed(
      'delete_iso',
      { node: 'pve1', storage: 'local', filename: 'no-such-image.iso' },
      'NOT_FOUND',
      /no-such-image\.iso/,
    );
  });

  test('SSH tools without an ssh section and execute_vm_command on a stopped VM: no approval', async () => {
    await doomed(
      'update_container_ssh_keys',
      {
        node: nodeOf(101),
        vmid: 101,
        public_keys: [
          'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb5l3V4fQx1cV5R5YcOa8mQnBbE0N9tQK2r7l7uW3cP op@host',
        ],
      },
      'NOT_IMPLEMENTED',
      /ssh/i,
    );
    await doomed(
      'execute_container_command',
      { selector: '101', command: ['uname', '-a'] },
      'NOT_IMPLEMENTED',
      /ssh/i,
    );
    await doomed(
      'execute_vm_command',
      { node: nodeOf(104), vmid: 104, command: ['uname', '-a'] },
      'CONFLICT',
      /not running/,
    );
  });

  test('retry_job of an unknown job is NOT_FOUND before approval', async () => {
    await doomed('retry_job', { job_id: '00000000-0000-4000-8000-000000000000' }, 'NOT_FOUND', /job/i);
  });

  test('a call that passes its checks asks for approval; a token is not spent on a call that fails them', async () => {
    const node = nodeOf(100);
    const args = { node, vmid: 100, snapname: 'before-upgrade', wait: true };
    const seq = lastSeq();
    const refused = await fails(
      'rollback_snapshot',
      args,
      'APPROVAL_REQUIRED',
      /requires an operator's approval/,
    );
    assert.deepEqual(mutations(seq), []);
    const id = /Approval request ([0-9a-f-]{36})/.exec(refused)![1];
    const token = (await request(h.url).post(`/approvals/${id}`).set(operator).expect(200)).body
      .approval_token as string;

    // the snapshot goes away meanwhile: the approved call is now doomed, says so, and keeps its token unused
    const snapshot = h.sim.cluster.guest(100)!.snapshots.get('before-upgrade')!;
    h.sim.cluster.guest(100)!.snapshots.delete('before-upgrade');
    await doomed('rollback_snapshot', { ...args, approval_token: token }, 'NOT_FOUND', /before-upgrade/);
    h.sim.cluster.guest(100)!.snapshots.set('before-upgrade', snapshot);

    const ok = await tool('rollback_snapshot', { ...args, approval_token: token }).expect(200);
    assert.equal(ok.body.tool_name, 'rollback_snapshot');
    assert.equal(ok.body.status, 'completed', JSON.stringify(ok.body));
    assert.equal(mutations(seq).filter((r) => /\/rollback$/.test(r.path)).length, 1);
    const again = await call('rollback_snapshot', { ...args, approval_token: token });
    assert.equal(again.isError, true);
  });

  test('a refused approval leaves no job behind', async () => {
    const jobs = async () =>
      Number((await request(h.url).get('/jobs').set(h.auth).expect(200)).headers['x-total-count']);
    const before = await jobs();
    await fails(
      'delete_snapshot',
      { node: nodeOf(100), vmid: 100, snapname: 'after-upgrade' },
      'APPROVAL_REQUIRED',
      /delete_snapshot/,
    );
    assert.equal(await jobs(), before);
  });
});
