import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { AppConfig, CommandPolicyConfig } from '../../src/config/app-config.js';
import { DEFAULT_DENY_PATTERNS } from '../../src/config/command-policy.defaults.js';
import { simulatorTargetConfig, type PveSimulator } from '../../src/simulator/index.js';
import { OPERATOR_KEY, startHarness, testConfig, withOperator } from '../helpers/test-app.js';
import { type ToolResult, resultText as text } from '../helpers/tools.js';

// VM 100 on pve1 runs a guest agent in the simulator's seed.
const VM = { node: 'pve1', vmid: 100 };
const EXEC = `/nodes/${VM.node}/vms/${VM.vmid}/exec`;

function config(sim: PveSimulator, policy: Partial<CommandPolicyConfig>): AppConfig {
  return withOperator(testConfig([simulatorTargetConfig(sim)]), {
    denyPatterns: [...DEFAULT_DENY_PATTERNS],
    ...policy,
  });
}

async function withHarness(policy: Partial<CommandPolicyConfig>) {
  const h = await startHarness({ nodes: 1, guests: 2 }, (sim) => config(sim, policy));
  const execs = () => h.sim.requestCount({ method: 'POST', path: /\/agent\/exec$/ });
  const exec = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    request(h.url)
      .post(EXEC)
      .set({ ...h.auth, ...headers })
      .send(body);
  return { h, execs, exec };
}

describe('command policy through execute_vm_command (allowlist, no shell: the safe setup)', () => {
  let t: Awaited<ReturnType<typeof withHarness>>;
  before(async () => {
    t = await withHarness({ mode: 'allowlist', allowPatterns: ['uname( -a)?', 'echo [a-z ]+'] });
  });
  after(() => t.h.close());

  const refused = async (body: Record<string, unknown>, code: string, status = 403) => {
    const before = t.execs();
    const r = await t.exec(body).expect(status);
    assert.equal(r.body.details?.policy_code, code, JSON.stringify(r.body));
    assert.equal(r.body.code, 'POLICY_DENIED');
    assert.equal(t.execs(), before, 'nothing reached the guest agent');
    return r.body;
  };

  test('an allowlisted argv command runs', async () => {
    const r = await t.exec({ command: ['uname', '-a'] }).expect(200);
    assert.equal(r.body.exit_code, 0);
    assert.match(r.body.stdout, /Linux/);
  });

  test("the reference's contract: one string without shell syntax is split into argv and run (REST and MCP)", async () => {
    const r = await t.exec({ command: 'uname -a' }).expect(200);
    assert.equal(r.body.exit_code, 0);
    assert.match(r.body.stdout, /Linux/);
    const sent = t.h.sim.requests.filter((q) => q.method === 'POST' && /\/agent\/exec$/.test(q.path)).at(-1);
    assert.deepEqual(sent?.body?.command, ['uname', '-a'], 'the agent got the split argv, no shell');
    const mcp = (await (
      await t.h.mcp()
    ).callTool({
      name: 'execute_vm_command',
      arguments: { ...VM, command: `"echo" 'hello'  wor\\ld` },
    })) as ToolResult;
    assert.equal(mcp.isError, undefined, text(mcp));
    assert.equal(mcp.structuredContent.stdout, 'hello world\n');
    // the policy judged the split words: `echo hello world` is allowlisted by `echo [a-z ]+`, `uname -a -a` is not
    await refused({ command: 'uname -a -a' }, 'CMD_POLICY_NOT_ALLOWLISTED');
  });

  test('one string with shell syntax needs shell: true or an argv array, and the refusal says which characters', async () => {
    const body = await refused({ command: 'uname -a | grep Linux > /tmp/x' }, 'CMD_POLICY_SHELL_REQUIRED');
    assert.match(body.message, /\| \(pipe\), > \(redirect\)/);
    assert.match(body.message, /pass shell: true/);
    assert.match(body.message, /argv array/);
    const mcp = (await (
      await t.h.mcp()
    ).callTool({ name: 'execute_vm_command', arguments: { ...VM, command: 'echo $HOME' } })) as ToolResult;
    assert.equal(mcp.isError, true);
    assert.match(text(mcp), /^POLICY_DENIED: command contains shell syntax: \$ \(variable or substitution\)/);
    const unclosed = await t.exec({ command: "echo it's" }).expect(400);
    assert.equal(unclosed.body.code, 'VALIDATION');
    assert.match(unclosed.body.message, /unclosed single/);
  });

  test('a command that is not allowlisted is an error result over MCP and REST, never a success', async () => {
    const body = await refused({ command: ['cat', '/etc/os-release'] }, 'CMD_POLICY_NOT_ALLOWLISTED');
    assert.equal(body.message, 'Command not allowlisted by policy');
    const mcp = (await (
      await t.h.mcp()
    ).callTool({
      name: 'execute_vm_command',
      arguments: { ...VM, command: ['cat', '/etc/os-release'] },
    })) as ToolResult;
    assert.equal(mcp.isError, true);
    assert.equal(mcp.structuredContent, undefined);
    assert.match(text(mcp), /^POLICY_DENIED: Command not allowlisted by policy/);
    // the same call through POST /{tool}
    const tool = await request(t.h.url)
      .post('/execute_vm_command')
      .set(t.h.auth)
      .send({ ...VM, command: ['cat', '/etc/os-release'] })
      .expect(403);
    assert.equal(tool.body.details.policy_code, 'CMD_POLICY_NOT_ALLOWLISTED');
  });

  test('E5: patterns are full matches; shell syntax without a shell and shell itself are refused', async () => {
    await refused({ command: ['uname', '-a', '--all'] }, 'CMD_POLICY_NOT_ALLOWLISTED');
    await refused({ command: ['uname', ';', 'rm', '-rf', '/'] }, 'CMD_POLICY_SHELL_REQUIRED');
    await refused({ command: ['uname', '$(rm -rf /)'] }, 'CMD_POLICY_SHELL_REQUIRED');
    await refused({ command: ['uname', '\nrm -rf /'] }, 'CMD_POLICY_SHELL_REQUIRED');
    await refused({ command: 'uname; rm -rf /' }, 'CMD_POLICY_SHELL_REQUIRED');
    await refused({ command: 'uname', shell: true }, 'CMD_POLICY_SHELL_NOT_ALLOWED');
  });

  test('E6/E7: default deny rules and empty commands', async () => {
    await refused({ command: ['rm', '-rf', '/'] }, 'CMD_POLICY_DENY_PATTERN');
    await refused({ command: ['/sbin/reboot'] }, 'CMD_POLICY_DENY_PATTERN');
    await refused({ command: ['sh', '-c', 'rm -fr /'] }, 'CMD_POLICY_DENY_PATTERN');
    await refused({ command: [] }, 'CMD_POLICY_EMPTY');
    await refused({ command: ['  '] }, 'CMD_POLICY_EMPTY');
  });

  test('malformed commands are validation errors naming the field; a NUL byte is refused (E3)', async () => {
    const before = t.execs();
    const r = await t.exec({ command: 42 }).expect(400);
    assert.equal(r.body.code, 'VALIDATION');
    assert.match(r.body.message, /command must be an argv array of strings/);
    const nul = await t.exec({ command: ['echo', 'a\u0000b'] }).expect(400);
    assert.match(nul.body.message, /NUL byte/);
    assert.equal(t.execs(), before);
  });

  test('refusals are audited with their code, without the command text', async () => {
    const canary = 'canary-secret-7f3a9c';
    await refused({ command: ['mysql', `-p${canary}`] }, 'CMD_POLICY_NOT_ALLOWLISTED');
    const events = (
      await request(t.h.url)
        .get('/audit/events')
        .set(t.h.auth)
        .query({ action: 'execute_vm_command', outcome: 'denied' })
        .expect(200)
    ).body.events as Array<{ reason: string; details: Record<string, unknown> }>;
    assert.ok(events.some((e) => /^CMD_POLICY_NOT_ALLOWLISTED/.test(e.reason)));
    assert.ok(events.some((e) => /^CMD_POLICY_SHELL_REQUIRED/.test(e.reason)));
    assert.ok(!JSON.stringify(events).includes(canary));
  });
});

describe('command policy: audit_only with shell allowed (the permissive setup)', () => {
  let t: Awaited<ReturnType<typeof withHarness>>;
  before(async () => {
    t = await withHarness({ mode: 'audit_only', allowShell: true });
  });
  after(() => t.h.close());

  test('shell commands run; the deny list still stops what it knows in any piece and spelling', async () => {
    const ok = await t.exec({ command: 'uname -a && echo ok', shell: true }).expect(200);
    assert.match(ok.body.stdout, /ok/);
    const before = t.execs();
    for (const command of [
      'echo hi; reboot',
      "r''m -rf /",
      ':(){ :|:& };:',
      'true && dd if=/dev/zero of=/dev/sda',
    ]) {
      const r = await t.exec({ command, shell: true }).expect(403);
      assert.equal(r.body.details.policy_code, 'CMD_POLICY_DENY_PATTERN', command);
    }
    assert.equal(t.execs(), before);
  });
});

describe('command approvals through execute_vm_command', () => {
  test('seed §8.1 cases 1-3: the static command approval token (reference mode)', async () => {
    const t = await withHarness({
      mode: 'audit_only',
      requireApprovalToken: true,
      approvalToken: 's3cret-token',
    });
    try {
      const ok = await t.exec({ command: ['uname'], approval_token: 's3cret-token' }).expect(200);
      assert.equal(ok.body.exit_code, 0);
      for (const wrong of ['wrong', 's3cret-toke', 's3cret-token!']) {
        const r = await t.exec({ command: ['uname'], approval_token: wrong }).expect(403);
        assert.equal(r.body.details.policy_code, 'CMD_POLICY_APPROVAL_REQUIRED', wrong);
      }
      const none = await t.exec({ command: ['uname'] }).expect(403);
      assert.equal(none.body.details.policy_code, 'CMD_POLICY_APPROVAL_REQUIRED');
    } finally {
      await t.h.close();
    }
    const unset = await withHarness({ mode: 'audit_only', requireApprovalToken: true });
    try {
      const r = await unset.exec({ command: ['uname'], approval_token: 'anything' }).expect(403);
      assert.equal(r.body.details.policy_code, 'CMD_POLICY_APPROVAL_NOT_CONFIGURED');
    } finally {
      await unset.h.close();
    }
  });

  test('exec_require_approval: a single-use approval bound to the exact command; policy refusals come first', async () => {
    const t = await withHarness({
      mode: 'allowlist',
      allowPatterns: ['uname( -a)?'],
      execRequireApproval: true,
    });
    try {
      // a command the policy refuses never creates an approval request
      const denied = await t.exec({ command: ['id'] }).expect(403);
      assert.equal(denied.body.code, 'POLICY_DENIED');

      const refused = await t.exec({ command: ['uname'] }).expect(403);
      assert.equal(refused.body.code, 'APPROVAL_REQUIRED');
      assert.equal(refused.body.details.policy_code, 'CMD_POLICY_APPROVAL_REQUIRED');
      const view = (
        await request(t.h.url)
          .get(`/approvals/${refused.body.details.request_id}`)
          .set({ authorization: `Bearer ${OPERATOR_KEY}` })
          .expect(200)
      ).body;
      assert.deepEqual(view.arguments.command, ['uname'], 'the operator sees the command');
      const { approval_token: token } = (
        await request(t.h.url)
          .post(`/approvals/${refused.body.details.request_id}`)
          .set({ authorization: `Bearer ${OPERATOR_KEY}` })
          .expect(200)
      ).body;
      const other = await t.exec({ command: ['uname', '-a'] }, { 'x-approval-token': token }).expect(403);
      assert.equal(other.body.details.policy_code, 'CMD_POLICY_APPROVAL_MISMATCH');
      const before = t.execs();
      await t.exec({ command: ['uname'], approval_token: token }).expect(200);
      assert.equal(t.execs(), before + 1);
      const replay = await t.exec({ command: ['uname'], approval_token: token }).expect(403);
      assert.equal(replay.body.details.policy_code, 'CMD_POLICY_APPROVAL_USED');
    } finally {
      await t.h.close();
    }
  });
});
