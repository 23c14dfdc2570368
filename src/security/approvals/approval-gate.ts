import { createHash, timingSafeEqual } from 'node:crypto';
import type { CommandPolicyConfig } from '../../config/app-config.js';
import type { ToolRisk } from '../../common/tools/mcp-tool.decorator.js';
import type { PolicyCode } from '../policy-codes.js';

/** retry_job replays another tool's request: it is gated like that tool (with an approval of its own). */
export const RETRY_TOOL = 'retry_job';

/**
 * operation: high-risk tools (every `destroy` tool and command_policy.high_risk_operations), seed §4.2;
 * command: `exec` tools when command_policy.require_approval_token or exec_require_approval is on, seed §4.1.
 */
export type ApprovalFamily = 'operation' | 'command';

type GatePolicy = Pick<
  CommandPolicyConfig,
  | 'highRiskMode'
  | 'highRiskOperations'
  | 'highRiskRequireApprovalToken'
  | 'highRiskApprovalToken'
  | 'highRiskApprovalWaived'
  | 'requireApprovalToken'
  | 'approvalToken'
  | 'execRequireApproval'
>;

export interface GatedTool {
  name: string;
  risk: ToolRisk;
}

/**
 * Whether a tool's schema carries `approval_token`. Static (config only), so tools/list and Swagger do not change
 * with the modes: every tool that any setting could gate.
 */
export function acceptsApprovalToken(
  tool: GatedTool,
  policy: Pick<CommandPolicyConfig, 'highRiskOperations'>,
): boolean {
  return (
    tool.risk === 'destroy' ||
    tool.risk === 'exec' ||
    tool.name === RETRY_TOOL ||
    policy.highRiskOperations.includes(tool.name)
  );
}

/** The families that gate a call of `tool` (for retry_job: of the job's original tool). */
export function gatingFamilies(tool: GatedTool, policy: GatePolicy): ApprovalFamily[] {
  const families: ApprovalFamily[] = [];
  if (tool.risk === 'destroy' || policy.highRiskOperations.includes(tool.name)) families.push('operation');
  if (tool.risk === 'exec' && (policy.requireApprovalToken || policy.execRequireApproval))
    families.push('command');
  return families;
}

export type GateDecision =
  /**
   * The call may run without a single-use approval (not gated, disabled, audit-only, or the static token);
   * `audit`: worth an audit event (audit-only passes and static-token approvals).
   */
  | { kind: 'allow'; code: PolicyCode; message: string; audit: boolean }
  /** The call needs a single-use approval; `code` says why if none is presented or the token is not one. */
  | { kind: 'approval'; code: PolicyCode; message: string };

/**
 * One family's decision for a call carrying `supplied` (the approval_token argument, if any). Follows the
 * reference's order (seed §4.1 step 4, §4.2): the static token is checked first when it is required, also in
 * audit_only. What changes: enforce (the new default) needs an approval even without the static-token switch,
 * and that approval can always be a single-use token minted for this exact call.
 */
export function evaluateGate(
  family: ApprovalFamily,
  toolName: string,
  policy: GatePolicy,
  supplied: string | undefined,
): GateDecision {
  if (family === 'operation') {
    if (policy.highRiskMode === 'disabled') {
      return {
        kind: 'allow',
        code: 'OP_POLICY_DISABLED',
        message: 'High-risk gating is disabled',
        audit: false,
      };
    }
    const auditOnly = policy.highRiskMode === 'audit_only';
    if (policy.highRiskRequireApprovalToken) {
      const expected = policy.highRiskApprovalToken ?? policy.approvalToken;
      if (staticTokenMatches(expected, supplied)) {
        return auditOnly
          ? {
              kind: 'allow',
              code: 'OP_POLICY_AUDIT_ALLOW',
              message: 'Allowed (audit-only mode)',
              audit: true,
            }
          : {
              kind: 'allow',
              code: 'OP_POLICY_ALLOW',
              message: 'Approved by the static approval token',
              audit: true,
            };
      }
      return expected
        ? {
            kind: 'approval',
            code: 'OP_POLICY_APPROVAL_REQUIRED',
            message: `High-risk operation '${toolName}' requires an approval token`,
          }
        : {
            kind: 'approval',
            code: 'OP_POLICY_APPROVAL_NOT_CONFIGURED',
            message: `High-risk operation '${toolName}' requires an approval token, and no static token is configured`,
          };
    }
    if (auditOnly) {
      return {
        kind: 'allow',
        code: 'OP_POLICY_AUDIT_ALLOW',
        message: 'Allowed (audit-only mode)',
        audit: true,
      };
    }
    if (policy.highRiskApprovalWaived) {
      // the operator wrote high_risk_mode: enforce with high_risk_require_approval_token: false (the reference's
      // meaning: no approval); warned about at start-up, in /health and by doctor, and audited per call
      return {
        kind: 'allow',
        code: 'OP_POLICY_ALLOW',
        message: 'Allowed by policy (command_policy.high_risk_require_approval_token is false)',
        audit: true,
      };
    }
    return {
      kind: 'approval',
      code: 'OP_POLICY_APPROVAL_REQUIRED',
      message: `High-risk operation '${toolName}' requires an operator's approval`,
    };
  }

  if (policy.requireApprovalToken) {
    if (staticTokenMatches(policy.approvalToken, supplied)) {
      return {
        kind: 'allow',
        code: 'CMD_POLICY_ALLOW',
        message: 'Approved by the static approval token',
        audit: true,
      };
    }
    if (!policy.approvalToken && !policy.execRequireApproval) {
      return {
        kind: 'approval',
        code: 'CMD_POLICY_APPROVAL_NOT_CONFIGURED',
        message: 'Approval token required but not configured on server',
      };
    }
    return {
      kind: 'approval',
      code: 'CMD_POLICY_APPROVAL_REQUIRED',
      message: 'Approval token required for command execution',
    };
  }
  if (policy.execRequireApproval) {
    return {
      kind: 'approval',
      code: 'CMD_POLICY_APPROVAL_REQUIRED',
      message: `Command execution with '${toolName}' requires an operator's approval`,
    };
  }
  return { kind: 'allow', code: 'CMD_POLICY_ALLOW', message: 'No approval required', audit: false };
}

/**
 * Constant-time comparison with the configured static token (seed: hmac.compare_digest). Undefined or empty
 * values never match. Both sides are hashed first so lengths never leak through timing.
 */
export function staticTokenMatches(expected: string | undefined, supplied: string | undefined): boolean {
  if (!expected || !supplied) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(supplied));
}
