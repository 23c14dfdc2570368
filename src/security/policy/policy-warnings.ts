import type { CommandPolicyConfig } from '../../config/app-config.js';

/** The start of the warning when the operator turned single-use approvals of high-risk tools off. */
export const HIGH_RISK_WAIVED_WARNING =
  'command_policy.high_risk_require_approval_token is false with high_risk_mode enforce: destroy and other high-risk tools run WITHOUT any approval (as configured).';

/** command_policy settings that weaken the deployment, for the startup log and /health. */
export function policyWarnings(policy: CommandPolicyConfig): string[] {
  const warnings: string[] = [];
  if (policy.highRiskMode !== 'enforce') {
    warnings.push(
      `command_policy.high_risk_mode is ${policy.highRiskMode}: destroy and other high-risk tools run without an operator's approval.`,
    );
  }
  if (policy.highRiskApprovalWaived && policy.highRiskMode === 'enforce') {
    warnings.push(
      `${HIGH_RISK_WAIVED_WARNING} Remove command_policy.high_risk_require_approval_token (or set it to true) to require approvals again.`,
    );
  }
  if (policy.highRiskRequireApprovalToken && (policy.highRiskApprovalToken ?? policy.approvalToken)) {
    warnings.push(
      'A static high-risk approval token is configured: it is reusable and bound to no call; prefer single-use approvals.',
    );
  }
  if (policy.requireApprovalToken && policy.approvalToken) {
    warnings.push('A static command approval token is configured: it is reusable and bound to no command.');
  }
  if (policy.mode === 'audit_only') {
    warnings.push('command_policy.mode is audit_only: every command the deny list does not catch is run.');
  }
  if (policy.allowShell) {
    warnings.push('command_policy.allow_shell is on: exec tools may run shell commands (sh -c).');
  }
  return warnings;
}
