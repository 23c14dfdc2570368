import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { OPERATOR_KEY, startHarness, testConfig, withOperator, type Harness } from '../helpers/test-app.js';
import { FakeNodes, NODE_USER } from '../helpers/ssh-server.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { ApprovalsService } from '../../src/security/approvals/approvals.service.js';
import { type ToolResult, resultText as text } from '../helpers/tools.js';

const OPERATE_KEY = 'operate-key-0123456789abcdef';
const PATTERNS = ['pveversion', 'uname -a', 'sleep \\d{1,3}', 'head -c \\d+ /dev/zero', 'echo [a-z]+'];

/**
 * execute_node_command over REST and MCP against the schema-checked simulator (two targets on it: `lab` allows
 * node commands, `prod` does not) and a real ssh2 server that plays the nodes (test/helpers/ssh-server.ts), with
 * host keys pinned and high_risk_mode enforce: every command needs a single-use operator approval.
 */
describe('execute_node_command: opt-in per target, full-match allow patterns, operator approval, pinned SSH', () => {
  let h: Harness;
  let fake: FakeNodes;
  let mcp: Client;

  const call = (args: Record<string, unknown>) =>
    mcp.callTool({ name: 'execute_node_command', arguments: args }) as Promise<ToolResult>;
  const pendingApprovals = async () => (await h.server.app.get(ApprovalsService).store.pending()).length;
  const approve = async (requestId: string): Promise<string> =>
    (
      await request(h.url)
        .post(`/approvals/${requestId}`)
        .set({ authorization: `Bearer ${OPERATOR_KEY}` })
        .expect(200)
    ).body.approval_token;
  /** REST call, approved by the operator, sent again with the token. */
  const runApproved = async (node: string, body: Record<string, unknown>, target = 'lab') => {
    const first = await request(h.url)
      .post(`/nodes/${node}/commands`)
      .query({ target })
      .set(h.auth)
      .send(body);
    assert.equal(first.status, 403, JSON.stringify(first.body));
    assert.equal(first.body.code, 'APPROVAL_REQUIRED');
    const token = await approve(String(first.body.details.request_id));
    return request(h.url)
      .post(`/nodes/${node}/commands`)
      .query({ target })
      .set({ ...h.auth, 'x-approval-token': token })
      .send(body);
  };
  /** A refusal that comes before any approval request and any SSH connection. */
  const refusedEarly = async (
    node: string,
    body: Record<string, unknown>,
    status: number,
    code: string,
    target = 'lab',
  ) => {
    const records = fake.records.length;
    const res = await request(h.url).post(`/nodes/${node}/commands`).query({ target }).set(h.auth).send(body);
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.body.code, code);
    assert.equal(fake.records.length, records, 'nothing reached a node');
    return res.body as { message: string; hint?: string; details?: Record<string, unknown> };
  };

  before(async () => {
    fake = await FakeNodes.start({ nodes: ['pve1', 'pve2', 'pve3'], containerStatus: () => undefined });
    const ssh = fake.sshConfig({
      // pve3's pin is pve1's key: whatever answers at pve3's address is not trusted
      hostKeyFingerprints: {
        pve1: fake.fingerprint('pve1'),
        pve2: fake.fingerprint('pve2'),
        pve3: fake.fingerprint('pve1'),
      },
    });
    h = await startHarness({ nodes: 3, guests: 6, taskSeconds: 0 }, (sim) => {
      const config = withOperator(
        testConfig(
          [
            simulatorTargetConfig(sim, { name: 'lab', nodeCommands: { allowPatterns: PATTERNS } }),
            simulatorTargetConfig(sim, { name: 'prod' }),
          ],
          { ssh },
        ),
        { highRiskMode: 'enforce' },
      );
      config.http.apiKeys.push({ name: 'operate', secret: OPERATE_KEY, scope: 'operate' });
      return config;
    });
    mcp = await h.mcp();
    await mcp.listTools(); // from here on the SDK checks every result against the tool's outputSchema
  });
  after(async () => {
    await h?.close();
    await fake?.close();
  });

  test('tools/list: destructive, gated by an approval, node and command are its arguments', async () => {
    const { tools } = await mcp.listTools();
    const tool = tools.find((t) => t.name === 'execute_node_command');
    assert.ok(tool, 'execute_node_command is listed');
    assert.equal(tool.annotations?.destructiveHint, true);
    assert.equal(tool.annotations?.readOnlyHint, false);
    const props = (tool.inputSchema as any).properties;
    assert.equal(props.node.type, 'string');
    assert.equal(props.command.type, 'string');
    assert.equal(props.approval_token.type, 'string');
    assert.deepEqual([...(tool.inputSchema as any).required].sort(), ['command', 'node']);
  });

  test('an approved command runs on the node as exactly the argv that matched, over SSH with the pinned key', async () => {
    const res = await runApproved('pve1', { command: 'pveversion' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.success, true);
    assert.equal(res.body.exit_code, 0);
    assert.equal(res.body.target, 'lab');
    assert.equal(res.body.node, 'pve1');
    assert.match(res.body.stdout, /^pve-manager\/9\.1\.1\//);
    const record = fake.lastRecord()!;
    assert.equal(record.node, 'pve1');
    assert.equal(record.user, NODE_USER);
    assert.equal(record.commandLine, "timeout --kill-after=5s 30s sudo -n 'pveversion'");
    assert.deepEqual(record.nodeArgv, ['pveversion']);

    // MCP: the approval is asked for, then the same call with the token runs (words split at spaces)
    const ask = await call({ node: 'pve2', command: 'uname   -a', target: 'lab' });
    assert.equal(ask.isError, true);
    assert.match(text(ask), /^APPROVAL_REQUIRED: /);
    const id = /approve ([0-9a-f-]{36})/.exec(text(ask))?.[1];
    assert.ok(id, text(ask));
    const ran = await call({
      node: 'pve2',
      command: 'uname   -a',
      target: 'lab',
      approval_token: await approve(id),
    });
    assert.equal(ran.isError, undefined, text(ran));
    assert.match(ran.structuredContent.stdout, /^Linux pve2 /);
    assert.deepEqual(fake.lastRecord()!.nodeArgv, ['uname', '-a']);
    assert.match(text(ran), /Command on node pve2 \(target lab\) succeeded/);
  });

  test('refused before any approval request: disabled target, no full match, shell syntax, unknown node', async () => {
    const pending = await pendingApprovals();
    const disabled = await refusedEarly('pve1', { command: 'pveversion' }, 403, 'POLICY_DENIED', 'prod');
    assert.match(disabled.message, /Node commands are disabled for target 'prod'/);
    assert.match(disabled.hint!, /targets\.prod\.ssh\.allow_node_commands=true/);
    assert.equal(disabled.details?.policy_code, 'NODE_COMMANDS_DISABLED');

    for (const command of ['pveversion -v', 'xpveversion', 'rm -rf /', 'sleep 1000', 'echo ABC']) {
      const denied = await refusedEarly('pve1', { command }, 403, 'POLICY_DENIED');
      assert.match(
        denied.message,
        /must fully match one of its node_command_patterns: "pveversion", "uname -a"/,
      );
      assert.ok(!denied.message.includes(command), 'the command text is never echoed');
      assert.deepEqual(denied.details?.patterns, PATTERNS);
    }
    for (const command of [
      'pveversion; reboot',
      'echo $(id)',
      'echo a|b',
      "echo 'a'",
      'echo a > /etc/x',
      'echo a\nreboot',
    ]) {
      const bad = await refusedEarly('pve1', { command }, 400, 'VALIDATION');
      assert.match(bad.message, /shell syntax .*node commands run without a shell/);
    }
    const control = await refusedEarly('pve1', { command: 'echo a\u0007' }, 400, 'VALIDATION');
    assert.match(control.message, /control character \(code 7\)/);

    const zero = await refusedEarly('pve1', { command: 'pveversion', timeout_seconds: 0 }, 400, 'VALIDATION');
    assert.match(zero.message, /timeout_seconds must not be less than 1/);
    const extra = await refusedEarly('pve1', { command: 'pveversion', shell: true }, 400, 'VALIDATION');
    assert.match(extra.message, /property shell should not exist/);
    const mcpMissing = await call({ command: 'pveversion', target: 'lab' });
    assert.equal(mcpMissing.isError, true);
    assert.match(text(mcpMissing), /^VALIDATION: /);

    const unknown = await refusedEarly('pve9', { command: 'pveversion' }, 404, 'NOT_FOUND');
    assert.match(
      unknown.message,
      /Node 'pve9' is not a node of target 'lab' \(its nodes: pve1, pve2, pve3\)/,
    );

    assert.equal(await pendingApprovals(), pending, 'no approval request was created');
    // MCP says the same
    const mcpDenied = await call({ node: 'pve1', command: 'reboot', target: 'lab' });
    assert.equal(mcpDenied.isError, true);
    assert.match(text(mcpDenied), /^POLICY_DENIED: The command is not allowed on target 'lab'/);
  });

  test('output is capped and flagged; a command that overruns is killed on the node', async () => {
    const flood = await runApproved('pve1', { command: 'head -c 300000 /dev/zero', max_output_bytes: 1024 });
    assert.equal(flood.status, 200, JSON.stringify(flood.body));
    assert.equal(flood.body.stdout.length, 1024);
    assert.equal(flood.body.stdout_truncated, true);
    assert.equal(flood.body.stdout_bytes, 300000);
    assert.equal(flood.body.output_limit_bytes, 1024);

    const slow = await runApproved('pve1', { command: 'sleep 100', timeout_seconds: 1 });
    assert.equal(slow.status, 200, JSON.stringify(slow.body));
    assert.equal(slow.body.timed_out, true);
    assert.equal(slow.body.exit_code, null);
    assert.equal(slow.body.success, false);
    assert.equal(fake.lastRecord()!.timeoutSeconds, 1);
  });

  test('a node whose host key does not match its pin is never sent the command, nor is an operator asked', async () => {
    // the login (and its host key check) comes before the approval: a call that cannot be sent is not approved
    const res = await request(h.url)
      .post('/nodes/pve3/commands')
      .query({ target: 'lab' })
      .set(h.auth)
      .send({ command: 'pveversion' });
    assert.equal(res.status, 502, JSON.stringify(res.body));
    assert.equal(res.body.code, 'UPSTREAM_TLS');
    assert.match(res.body.message, /host key of node pve3 .* does not match/);
    assert.equal(res.body.details?.request_id, undefined, 'no approval request');
    assert.ok(!fake.records.some((r) => r.node === 'pve3'), 'no exec request reached pve3');
  });

  test('only admin keys may call it; bad arguments are refused with the field named', async () => {
    const operate = await request(h.url)
      .post('/nodes/pve1/commands')
      .query({ target: 'lab' })
      .set({ authorization: `Bearer ${OPERATE_KEY}` })
      .send({ command: 'pveversion' });
    assert.equal(operate.status, 403);
    assert.equal(operate.body.code, 'FORBIDDEN');
    assert.match(operate.body.message, /admin/);

    const long = await request(h.url)
      .post('/nodes/pve1/commands')
      .query({ target: 'lab' })
      .set(h.auth)
      .send({ command: 'x'.repeat(9000) });
    assert.equal(long.status, 400);
    assert.match(long.body.message, /command must be shorter than or equal to 8192 characters/);
    const typed = await request(h.url)
      .post('/nodes/pve1/commands')
      .query({ target: 'lab' })
      .set(h.auth)
      .send({ command: ['pveversion'] });
    assert.equal(typed.status, 400);
    assert.match(typed.body.message, /command must be one string/);
  });
});
