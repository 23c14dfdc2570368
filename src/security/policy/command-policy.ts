import type { CommandPolicyConfig, CommandPolicyMode } from '../../config/app-config.js';
import type { CommandPolicyCode } from '../policy-codes.js';
import { commandRefusal, resolveCommand, type CommandRefusal } from './exec-command.js';
import { quoteArg, shellSegments, undisguised } from './shell-syntax.js';

/** The command policy with its patterns compiled once (at boot, by the guard). */
export interface CompiledCommandPolicy {
  mode: CommandPolicyMode;
  allowShell: boolean;
  /** Allow patterns are FULL matches: `uname` allows `uname`, not `uname; rm -rf /`. */
  allow: RegExp[];
  /** Deny patterns are searches: they fire anywhere in the command (and in every piece of a shell command). */
  deny: RegExp[];
}

export function compileCommandPolicy(
  policy: Pick<CommandPolicyConfig, 'mode' | 'allowPatterns' | 'denyPatterns' | 'allowShell'>,
): CompiledCommandPolicy {
  return {
    mode: policy.mode,
    allowShell: policy.allowShell,
    // case-insensitive like the reference; `^`/`$` written by the operator stay harmless inside the group
    allow: policy.allowPatterns.map((p) => new RegExp(`^(?:${p})$`, 'i')),
    deny: policy.denyPatterns.map((p) => new RegExp(p, 'i')),
  };
}

/**
 * What an exec tool was asked to run: `command` (argv array, a command line split by POSIX word rules, or a
 * script with `shell: true`) and `shell`. exec-command.ts turns it into what runs; that is what is judged.
 */
export interface CommandInput {
  command: unknown;
  shell?: unknown;
}

export type CommandDecision =
  | { allowed: true; code: 'CMD_POLICY_ALLOW' | 'CMD_POLICY_AUDIT_ALLOW'; message: string; shell: boolean }
  | ({ allowed: false } & CommandRefusal);

type Parsed =
  | { kind: 'argv'; argv: string[] }
  | { kind: 'shell'; script: string }
  | Exclude<CommandDecision, { allowed: true }>;

/**
 * Decides whether an exec tool may run a command (seed §4.1 steps 1-3 and 5, plus the shell permission).
 * Order: shape → empty → shell syntax needs `shell: true` → `shell: true` needs `allow_shell` → deny patterns →
 * allowlist (modes deny_all and allowlist) → allowed. Messages never echo the command (it may hold secrets).
 * The approval-token step (§4.1 step 4) is the approval gate's (approval-gate.ts).
 */
export function evaluateCommand(input: CommandInput, policy: CompiledCommandPolicy): CommandDecision {
  const parsed = parse(input);
  if ('allowed' in parsed) return parsed;

  if (parsed.kind === 'shell' && !policy.allowShell) {
    return deny(
      'CMD_POLICY_SHELL_NOT_ALLOWED',
      'Shell commands are not allowed by policy',
      'Send the command as an argv array without shell syntax, or ask an operator to set command_policy.allow_shell.',
    );
  }

  const text = parsed.kind === 'shell' ? parsed.script : parsed.argv.map(quoteArg).join(' ');
  // Pieces a deny pattern is tried on: the whole text, every piece the shell could run on its own, every argv
  // element (`sh -c 'rm -rf /'`), and the same with quotes/backslashes/$IFS removed.
  const pieces = parsed.kind === 'shell' ? [text, ...shellSegments(text)] : [text, ...parsed.argv];
  const candidates = [...pieces, ...pieces.map(undisguised)];
  if (policy.deny.some((re) => candidates.some((c) => re.test(c)))) {
    return deny(
      'CMD_POLICY_DENY_PATTERN',
      'Command blocked by deny policy pattern',
      'This command is refused by the server policy; do not retry it in another spelling.',
    );
  }

  if (policy.mode !== 'audit_only') {
    // A shell command is allowed only if every piece it could run is allowlisted on its own.
    const mustMatch = parsed.kind === 'shell' ? shellSegments(text) : [text];
    const allowlisted = mustMatch.every((piece) => policy.allow.some((re) => re.test(piece)));
    if (!allowlisted) {
      return deny(
        'CMD_POLICY_NOT_ALLOWLISTED',
        'Command not allowlisted by policy',
        policy.allow.length
          ? 'Only commands matching command_policy.allow_patterns (whole command, case-insensitive) may run.'
          : 'No command is allowlisted on this server (command_policy.allow_patterns is empty).',
      );
    }
    return {
      allowed: true,
      code: 'CMD_POLICY_ALLOW',
      message: 'Allowed by policy',
      shell: parsed.kind === 'shell',
    };
  }
  return {
    allowed: true,
    code: 'CMD_POLICY_AUDIT_ALLOW',
    message: 'Allowed (audit-only mode)',
    shell: parsed.kind === 'shell',
  };
}

function parse(input: CommandInput): Parsed {
  const resolved = resolveCommand(input.command, input.shell);
  if ('kind' in resolved) return resolved;
  return { allowed: false, ...commandRefusal(resolved) };
}

function deny(
  code: CommandPolicyCode,
  message: string,
  hint: string,
): Extract<CommandDecision, { error: 'POLICY_DENIED' }> {
  return { allowed: false, error: 'POLICY_DENIED', code, message, hint };
}
