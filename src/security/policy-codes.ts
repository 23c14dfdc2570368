/**
 * Decision codes, carried in `details.policy_code` of every POLICY_DENIED / APPROVAL_REQUIRED error and in the
 * audit log. The first seven of each family are the reference project's (seed §4.1, §4.2); the rest name the
 * checks this server adds (shell permission, single-use approvals).
 */
export const COMMAND_POLICY_CODES = [
  'CMD_POLICY_EMPTY',
  'CMD_POLICY_DENY_PATTERN',
  'CMD_POLICY_NOT_ALLOWLISTED',
  'CMD_POLICY_APPROVAL_NOT_CONFIGURED',
  'CMD_POLICY_APPROVAL_REQUIRED',
  'CMD_POLICY_AUDIT_ALLOW',
  'CMD_POLICY_ALLOW',
  // added: shell syntax without `shell: true`, and `shell: true` while command_policy.allow_shell is off
  'CMD_POLICY_SHELL_REQUIRED',
  'CMD_POLICY_SHELL_NOT_ALLOWED',
] as const;

export const OPERATION_POLICY_CODES = [
  'OP_POLICY_EMPTY',
  'OP_POLICY_ALLOW',
  'OP_POLICY_DISABLED',
  'OP_POLICY_APPROVAL_NOT_CONFIGURED',
  'OP_POLICY_APPROVAL_REQUIRED',
  'OP_POLICY_AUDIT_ALLOW',
] as const;

/** read_vm_file / write_vm_file: the `files` path rules (src/security/policy/file-path.ts). */
export const FILE_POLICY_CODES = ['FILE_POLICY_DENY_PATH', 'FILE_POLICY_NOT_ALLOWLISTED'] as const;

/** Why a presented single-use approval token was refused (same suffixes in both families). */
export const APPROVAL_TOKEN_FAILURES = [
  'APPROVAL_USED',
  'APPROVAL_EXPIRED',
  'APPROVAL_MISMATCH',
  'APPROVAL_WRONG_CALLER',
] as const;

export type CommandPolicyCode = (typeof COMMAND_POLICY_CODES)[number];
export type OperationPolicyCode = (typeof OPERATION_POLICY_CODES)[number];
export type FilePolicyCode = (typeof FILE_POLICY_CODES)[number];
export type ApprovalTokenFailure = (typeof APPROVAL_TOKEN_FAILURES)[number];
export type PolicyCode =
  | CommandPolicyCode
  | OperationPolicyCode
  | FilePolicyCode
  | `CMD_POLICY_${ApprovalTokenFailure}`
  | `OP_POLICY_${ApprovalTokenFailure}`;
