import type { CommandPolicyConfig, CommandPolicyMode } from '../../config/app-config.js';
import type { CommandPolicyCode } from './policy-codes.js';
import { firstShellSyntax, hasShellSyntax, quoteArg, shellSegments, undisguised } from './shell-syntax.js';

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

/** What an exec tool was asked to run: `command` (argv array, or one string with `shell: true`) and `shell`. */
export interface CommandInput {
  command: unknown;
  shell?: unknown;
}

export type CommandDecision =
  | { allowed: true; code: 'CMD_POLICY_ALLOW' | 'CMD_POLICY_AUDIT_ALLOW'; message: string; shell: boolean }
  | { allowed: false; error: 'VALIDATION'; message: string }
  | { allowed: false; error: 'POLICY_DENIED'; code: CommandPolicyCode; message: string; hint: string };

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
  const { command } = input;
  if (input.shell !== undefined && input.shell !== null && typeof input.shell !== 'boolean') {
    return invalid('shell must be true or false');
  }
  const shell = input.shell === true;
  if (command === undefined || command === null) return empty();

  if (typeof command === 'string') {
    if (command.includes('\0')) return invalid('command contains a NUL byte, which no process can receive');
    if (!command.trim()) return empty();
    if (shell) {
      // `&&` alone, `;;` … contain nothing to run
      return shellSegments(command).length ? { kind: 'shell', script: command } : empty();
    }
    const syntax = firstShellSyntax(command, 'string');
    if (syntax) return shellRequired(`command contains shell syntax (${syntax})`);
    // the exec tools take one string only as a shell script; splitting it here would guess at quoting
    return invalid(
      'command must be an argv array such as ["uname", "-a"]; a single string only with shell: true',
    );
  }

  if (Array.isArray(command)) {
    if (shell) {
      return invalid('with shell: true, command is one string (run by sh -c), not an array');
    }
    const bad = command.findIndex((a) => typeof a !== 'string');
    if (bad >= 0) return invalid(`command[${bad}] must be a string (command is an argv array of strings)`);
    const argv = command as string[];
    const nul = argv.findIndex((a) => a.includes('\0'));
    if (nul >= 0) return invalid(`command[${nul}] contains a NUL byte, which no process can receive`);
    if (!argv.length || !argv[0].trim()) return empty();
    const withSyntax = argv.findIndex(hasShellSyntax);
    if (withSyntax >= 0) {
      return shellRequired(
        `command[${withSyntax}] contains shell syntax (${firstShellSyntax(argv[withSyntax])})`,
      );
    }
    return { kind: 'argv', argv };
  }
  return invalid('command must be an argv array of strings, or a string with shell: true');
}

const invalid = (message: string): Parsed => ({ allowed: false, error: 'VALIDATION', message });

const empty = (): Parsed =>
  deny(
    'CMD_POLICY_EMPTY',
    'Command cannot be empty',
    'Pass the program and its arguments, e.g. ["uname", "-a"].',
  );

const shellRequired = (what: string): Parsed =>
  deny(
    'CMD_POLICY_SHELL_REQUIRED',
    `${what}; without shell: true it would reach the program literally`,
    'Pass the arguments as separate argv elements without shell syntax, or set shell: true (if the server allows shell commands).',
  );

function deny(
  code: CommandPolicyCode,
  message: string,
  hint: string,
): Extract<CommandDecision, { error: 'POLICY_DENIED' }> {
  return { allowed: false, error: 'POLICY_DENIED', code, message, hint };
}
