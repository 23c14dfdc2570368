import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandPolicyConfig } from '../../src/config/app-config.js';
import { DEFAULT_HIGH_RISK_OPERATIONS } from '../../src/config/command-policy.defaults.js';
import {
  acceptsApprovalToken,
  evaluateGate,
  gatingFamilies,
} from '../../src/security/approvals/approval-gate.js';
import { approvalDigest, canonicalArguments } from '../../src/security/approvals/approval-digest.js';

const base: CommandPolicyConfig = {
  mode: 'deny_all',
  allowPatterns: [],
  denyPatterns: [],
  requireApprovalToken: false,
  highRiskMode: 'enforce',
  highRiskOperations: [...DEFAULT_HIGH_RISK_OPERATIONS],
  highRiskRequireApprovalToken: false,
  allowShell: false,
  execRequireApproval: false,
  approvalTtlSeconds: 600,
};
const policy = (over: Partial<CommandPolicyConfig>) => ({ ...base, ...over });
const result = (d: ReturnType<typeof evaluateGate>) => [d.kind, d.code];

describe('approval gate: the reference acceptance cases (seed §8.1)', () => {
  test('1-2: require_approval_token with a static token: exactly that token allows a command', () => {
    const p = policy({ mode: 'audit_only', requireApprovalToken: true, approvalToken: 's3cret-token' });
    assert.deepEqual(result(evaluateGate('command', 'execute_vm_command', p, 's3cret-token')), [
      'allow',
      'CMD_POLICY_ALLOW',
    ]);
    for (const supplied of [undefined, '', 'wrong', 's3cret-toke', 's3cret-token!']) {
      assert.deepEqual(
        result(evaluateGate('command', 'execute_vm_command', p, supplied)),
        ['approval', 'CMD_POLICY_APPROVAL_REQUIRED'],
        String(supplied),
      );
    }
    assert.equal(
      evaluateGate('command', 'x', p, 'wrong').message,
      'Approval token required for command execution',
    );
  });

  test('3: require_approval_token without a configured token is CMD_POLICY_APPROVAL_NOT_CONFIGURED', () => {
    const d = evaluateGate(
      'command',
      'execute_vm_command',
      policy({ requireApprovalToken: true }),
      'anything',
    );
    assert.deepEqual(result(d), ['approval', 'CMD_POLICY_APPROVAL_NOT_CONFIGURED']);
    assert.equal(d.message, 'Approval token required but not configured on server');
  });

  test('4-5: enforce + high_risk_require_approval_token: only the exact high-risk token allows', () => {
    const p = policy({ highRiskRequireApprovalToken: true, highRiskApprovalToken: 'approve-me' });
    assert.deepEqual(result(evaluateGate('operation', 'delete_vm', p, 'approve-me')), [
      'allow',
      'OP_POLICY_ALLOW',
    ]);
    for (const supplied of [undefined, '', 'wrong', 'approve-m', 'approve-me ']) {
      const d = evaluateGate('operation', 'delete_vm', p, supplied);
      assert.deepEqual(result(d), ['approval', 'OP_POLICY_APPROVAL_REQUIRED'], String(supplied));
      assert.equal(d.message, "High-risk operation 'delete_vm' requires an approval token");
    }
  });

  test('6: without high_risk_approval_token the command approval_token is the fallback', () => {
    const p = policy({ highRiskRequireApprovalToken: true, approvalToken: 'cmd-token' });
    assert.deepEqual(result(evaluateGate('operation', 'delete_vm', p, 'cmd-token')), [
      'allow',
      'OP_POLICY_ALLOW',
    ]);
    assert.deepEqual(result(evaluateGate('operation', 'delete_vm', p, 'other')), [
      'approval',
      'OP_POLICY_APPROVAL_REQUIRED',
    ]);
  });
});

describe('approval gate: modes (seed §9 #19 fixed: enforce gates by itself and is the default)', () => {
  test('enforce needs an approval even without the static-token switch', () => {
    assert.deepEqual(result(evaluateGate('operation', 'delete_vm', base, undefined)), [
      'approval',
      'OP_POLICY_APPROVAL_REQUIRED',
    ]);
  });

  test('audit_only lets the call run (audited); disabled lets it run silently', () => {
    const audit = evaluateGate('operation', 'delete_vm', policy({ highRiskMode: 'audit_only' }), undefined);
    assert.deepEqual(
      [...result(audit), audit.kind === 'allow' && audit.audit],
      ['allow', 'OP_POLICY_AUDIT_ALLOW', true],
    );
    const off = evaluateGate('operation', 'delete_vm', policy({ highRiskMode: 'disabled' }), undefined);
    assert.deepEqual(
      [...result(off), off.kind === 'allow' && off.audit],
      ['allow', 'OP_POLICY_DISABLED', false],
    );
  });

  test('audit_only still checks the static token when it is required (reference order)', () => {
    const p = policy({
      highRiskMode: 'audit_only',
      highRiskRequireApprovalToken: true,
      highRiskApprovalToken: 'ok-token',
    });
    assert.deepEqual(result(evaluateGate('operation', 'delete_vm', p, undefined)), [
      'approval',
      'OP_POLICY_APPROVAL_REQUIRED',
    ]);
    assert.deepEqual(result(evaluateGate('operation', 'delete_vm', p, 'ok-token')), [
      'allow',
      'OP_POLICY_AUDIT_ALLOW',
    ]);
    const none = policy({ highRiskMode: 'audit_only', highRiskRequireApprovalToken: true });
    assert.deepEqual(result(evaluateGate('operation', 'delete_vm', none, 'x')), [
      'approval',
      'OP_POLICY_APPROVAL_NOT_CONFIGURED',
    ]);
  });

  test('exec tools need an approval only when configured (exec_require_approval)', () => {
    assert.deepEqual(result(evaluateGate('command', 'execute_vm_command', base, undefined)), [
      'allow',
      'CMD_POLICY_ALLOW',
    ]);
    assert.deepEqual(
      result(evaluateGate('command', 'execute_vm_command', policy({ execRequireApproval: true }), undefined)),
      ['approval', 'CMD_POLICY_APPROVAL_REQUIRED'],
    );
  });
});

describe('approval gate: which tools', () => {
  test('every destroy tool is gated, listed or not; high_risk_operations adds others; exec when configured', () => {
    const none = policy({ highRiskOperations: [] });
    assert.deepEqual(gatingFamilies({ name: 'delete_anything', risk: 'destroy' }, none), ['operation']);
    assert.deepEqual(gatingFamilies({ name: 'rollback_snapshot', risk: 'mutate' }, base), ['operation']);
    assert.deepEqual(gatingFamilies({ name: 'rollback_snapshot', risk: 'mutate' }, none), []);
    assert.deepEqual(gatingFamilies({ name: 'start_vm', risk: 'power' }, base), []);
    assert.deepEqual(gatingFamilies({ name: 'execute_vm_command', risk: 'exec' }, base), []);
    assert.deepEqual(
      gatingFamilies({ name: 'execute_vm_command', risk: 'exec' }, policy({ requireApprovalToken: true })),
      ['command'],
    );
  });

  test('the approval_token argument is on every tool any setting could gate, and on no other', () => {
    const p = policy({ highRiskOperations: ['get_vms'] });
    assert.equal(acceptsApprovalToken({ name: 'delete_vm', risk: 'destroy' }, p), true);
    assert.equal(acceptsApprovalToken({ name: 'execute_vm_command', risk: 'exec' }, p), true);
    assert.equal(acceptsApprovalToken({ name: 'retry_job', risk: 'mutate' }, p), true);
    assert.equal(acceptsApprovalToken({ name: 'get_vms', risk: 'read' }, p), true);
    assert.equal(acceptsApprovalToken({ name: 'start_vm', risk: 'power' }, p), false);
  });
});

describe('approval digest: one exact call', () => {
  const call = { tool: 'delete_vm', target: 'default', args: { node: 'pve1', vmid: 101, force: false } };

  test('the same call over MCP (typed JSON) and REST (strings) has the same digest; key order is irrelevant', () => {
    assert.equal(
      approvalDigest(call),
      approvalDigest({ ...call, args: { vmid: '101', force: 'false', node: 'pve1', purge: null } }),
    );
  });

  test('the approval token and the target argument are not part of the arguments', () => {
    assert.equal(
      approvalDigest(call),
      approvalDigest({ ...call, args: { ...call.args, approval_token: 'x', target: 'default' } }),
    );
    assert.deepEqual(Object.keys(canonicalArguments({ approval_token: 'x', target: 'a', b: 1 })), ['b']);
  });

  test('another vmid, an added argument, another tool or another target is another digest', () => {
    const d = approvalDigest(call);
    for (const other of [
      { ...call, args: { ...call.args, vmid: 102 } },
      { ...call, args: { ...call.args, purge: true } },
      { ...call, args: { ...call.args, force: true } },
      { ...call, tool: 'delete_container' },
      { ...call, target: 'lab' },
    ]) {
      assert.notEqual(approvalDigest(other), d, JSON.stringify(other));
    }
    assert.match(d, /^[0-9a-f]{64}$/);
  });
});

describe('approval gate: the operator waived high-risk approvals (issue 20 item 3)', () => {
  test('enforce with the waiver allows (OP_POLICY_ALLOW, audited); without it an approval is needed', () => {
    const waived = evaluateGate(
      'operation',
      'delete_vm',
      policy({ highRiskApprovalWaived: true }),
      undefined,
    );
    assert.deepEqual(result(waived), ['allow', 'OP_POLICY_ALLOW']);
    assert.equal(waived.kind === 'allow' && waived.audit, true);
    assert.deepEqual(result(evaluateGate('operation', 'delete_vm', base, undefined)), [
      'approval',
      'OP_POLICY_APPROVAL_REQUIRED',
    ]);
  });

  test('the waiver never weakens a configured static token requirement', () => {
    const p = policy({
      highRiskApprovalWaived: true,
      highRiskRequireApprovalToken: true,
      highRiskApprovalToken: 'approve-me',
    });
    assert.deepEqual(result(evaluateGate('operation', 'delete_vm', p, undefined)), [
      'approval',
      'OP_POLICY_APPROVAL_REQUIRED',
    ]);
  });
});
