import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { DEFAULT_HIGH_RISK_OPERATIONS } from '../../src/config/command-policy.defaults.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { OPERATOR_KEY, startHarness, testConfig, withOperator, type Harness } from '../helpers/test-app.js';
import { type ToolResult, resultText as text } from '../helpers/tools.js';
import { approveAsOperator } from '../helpers/approvals.js';

const operator = { authorization: `Bearer ${OPERATOR_KEY}` };

/** The shipped defaults for high-risk tools: enforce, the reference's list; `test` is the agent, `operator` approves. */
function config(sim: Parameters<typeof simulatorTargetConfig>[0]): AppConfig {
  return withOperator(testConfig([simulatorTargetConfig(sim)]), {
    highRiskMode: 'enforce',
    highRiskOperations: [...DEFAULT_HIGH_RISK_OPERATIONS],
  });
}

// Successful job-returning calls go through POST /{tool}, the same invoker path as MCP tools/call (refusals are
// also checked over MCP): the SDK client rejects today's JobDto structuredContent (null in integer fields), which
// is not what these tests are about.
describe('approvals of a real destroy tool (delete_snapshot) and of retry_job', () => {
  let h: Harness;
  let mcp: Client;
  let vm: { node: string; vmid: number };

  const tool = (name: string, args: Record<string, unknown>) =>
    request(h.url).post(`/${name}`).set(h.auth).send(args);
  const snapshotNames = async () =>
    (
      (await tool('list_snapshots', { node: vm.node, vmid: vm.vmid }).expect(200)).body.snapshots as Array<{
        name: string;
      }>
    ).map((s) => s.name);
  const snapshot = async (snapname: string) => {
    const r = await tool('create_snapshot', { node: vm.node, vmid: vm.vmid, snapname, wait: true }).expect(
      200,
    );
    assert.equal(r.body.status, 'completed', JSON.stringify(r.body));
  };
  const approve = (id: string) => approveAsOperator(h.url, id);
  const deletes = (snapname: string) =>
    h.sim.requestCount({ method: 'DELETE', path: new RegExp(`/snapshot/${snapname}$`) });

  before(async () => {
    h = await startHarness({ nodes: 1, guests: 2 }, config);
    mcp = await h.mcp();
    [vm] = (await request(h.url).get('/vms').set(h.auth).expect(200)).body.vms;
  });
  after(() => h.close());

  test('delete_snapshot, rollback_snapshot and retry_job advertise approval_token; create_snapshot does not', async () => {
    const { tools } = await mcp.listTools();
    for (const name of ['delete_snapshot', 'rollback_snapshot', 'retry_job']) {
      const props = (tools.find((t) => t.name === name)!.inputSchema as any).properties;
      assert.equal(props.approval_token?.type, 'string', name);
    }
    const create = tools.find((t) => t.name === 'create_snapshot')!.inputSchema as any;
    assert.equal(create.properties.approval_token, undefined);
  });

  test('G1/G2/G3: refused without approval (nothing sent to PVE), runs once with it, replay refused', async () => {
    await snapshot('appr-g1');
    const args = { node: vm.node, vmid: vm.vmid, snapname: 'appr-g1', wait: true };
    const refused = (await mcp.callTool({ name: 'delete_snapshot', arguments: args })) as ToolResult;
    assert.equal(refused.isError, true);
    assert.match(
      text(refused),
      /^APPROVAL_REQUIRED: High-risk operation 'delete_snapshot' requires an operator's approval/,
    );
    const id = /Approval request ([0-9a-f-]{36})/.exec(text(refused))![1];
    assert.equal(deletes('appr-g1'), 0);
    assert.ok((await snapshotNames()).includes('appr-g1'));

    const token = await approve(id);
    // the approval is for exactly these arguments: adding force is another call
    const forced = await tool('delete_snapshot', { ...args, force: true, approval_token: token }).expect(403);
    assert.equal(forced.body.details.policy_code, 'OP_POLICY_APPROVAL_MISMATCH');
    assert.equal(deletes('appr-g1'), 0);

    const ok = await tool('delete_snapshot', { ...args, approval_token: token }).expect(200);
    assert.equal(ok.body.tool_name, 'delete_snapshot');
    assert.equal(ok.body.status, 'completed');
    assert.ok(!(await snapshotNames()).includes('appr-g1'));
    assert.equal(deletes('appr-g1'), 1);

    // a replay: the snapshot is gone, which the read-only checks find before the (used) token is looked at
    const replay = (await mcp.callTool({
      name: 'delete_snapshot',
      arguments: { ...args, approval_token: token },
    })) as ToolResult;
    assert.match(text(replay), /^NOT_FOUND: VM \d+ on node \S+ has no snapshot 'appr-g1'/);
    assert.equal(deletes('appr-g1'), 1);
    // with the snapshot back, the used token is refused as used
    await snapshot('appr-g1');
    const used = (await mcp.callTool({
      name: 'delete_snapshot',
      arguments: { ...args, approval_token: token },
    })) as ToolResult;
    assert.match(text(used), /^APPROVAL_REQUIRED: This approval token was already used/);
    assert.equal(deletes('appr-g1'), 1);
  });

  test('the REST route (DELETE) takes the token in the X-Approval-Token header', async () => {
    await snapshot('rest-snap');
    const path = `/nodes/${vm.node}/guests/${vm.vmid}/snapshots/rest-snap`;
    const refused = await request(h.url).delete(path).set(h.auth).expect(403);
    assert.equal(refused.body.details.policy_code, 'OP_POLICY_APPROVAL_REQUIRED');
    assert.equal(refused.body.details.tool, 'delete_snapshot');
    const token = await approve(refused.body.details.request_id);
    const ok = await request(h.url)
      .delete(path)
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(202);
    assert.equal(ok.body.tool_name, 'delete_snapshot');
    assert.equal(deletes('rest-snap'), 1);
  });

  test('G11: retry_job of a high-risk job needs a fresh approval bound to the retry', async () => {
    await snapshot('flaky');
    const args = { node: vm.node, vmid: vm.vmid, snapname: 'flaky' };
    const deleteToken = await approve(
      (await tool('delete_snapshot', args).expect(403)).body.details.request_id,
    );
    h.sim.faults.add({
      match: { method: 'DELETE', path: /\/snapshot\/flaky$/ },
      mode: 'status',
      status: 500,
      times: 1,
    });
    const failed = await tool('delete_snapshot', { ...args, approval_token: deleteToken });
    assert.ok(failed.status >= 500, 'the upstream failure reaches the caller');
    const jobs = (await request(h.url).get('/jobs').set(h.auth).expect(200)).body as Array<any>;
    const job = jobs.find((j) => j.tool_name === 'delete_snapshot' && j.status === 'failed');
    assert.ok(job, JSON.stringify(jobs));

    // the delete's (used) approval does not carry over to the retry
    const refused = await tool('retry_job', { job_id: job.job_id, approval_token: deleteToken });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.details.policy_code, 'OP_POLICY_APPROVAL_MISMATCH');
    assert.equal(refused.body.details.tool, 'retry_job');
    const viaMcp = (await mcp.callTool({
      name: 'retry_job',
      arguments: { job_id: job.job_id },
    })) as ToolResult;
    assert.match(text(viaMcp), /^APPROVAL_REQUIRED: High-risk operation 'delete_snapshot' requires/);
    const view = (
      await request(h.url).get(`/approvals/${refused.body.details.request_id}`).set(operator).expect(200)
    ).body;
    assert.equal(view.tool, 'retry_job');
    assert.deepEqual(view.arguments, { job_id: job.job_id });
    assert.match(view.reason, /retry_job of a delete_snapshot job/);
    assert.equal(deletes('flaky'), 1);

    const retryToken = await approve(view.request_id);
    const retried = await tool('retry_job', { job_id: job.job_id, approval_token: retryToken }).expect(200);
    assert.equal(retried.body.job_id, job.job_id);
    assert.equal(deletes('flaky'), 2);
    // the job is no longer retryable: its own check refuses the replay before the (used) token is looked at
    const again = await tool('retry_job', { job_id: job.job_id, approval_token: retryToken }).expect(409);
    assert.equal(again.body.code, 'CONFLICT');
    assert.match(again.body.message, /cannot be retried while status is/);
    assert.equal(deletes('flaky'), 2);
  });

  test('retry_job of a job whose tool is not high-risk needs no approval', async () => {
    h.sim.faults.add({
      match: { method: 'POST', path: /\/snapshot$/ },
      mode: 'status',
      status: 500,
      times: 1,
    });
    const failed = await tool('create_snapshot', { node: vm.node, vmid: vm.vmid, snapname: 'plain' });
    assert.ok(failed.status >= 500);
    const jobs = (await request(h.url).get('/jobs').set(h.auth).expect(200)).body as Array<any>;
    const job = jobs.find((j) => j.tool_name === 'create_snapshot' && j.status === 'failed');
    assert.ok(job);
    await tool('retry_job', { job_id: job.job_id }).expect(200);
  });
});
