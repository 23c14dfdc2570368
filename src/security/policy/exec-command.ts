import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { parse } from 'shell-quote';
import { DomainError } from '../../common/errors/domain-error.js';
import { stacked } from '../../common/validation/stacked.js';
import type { CommandPolicyCode } from '../policy-codes.js';
import { firstShellSyntax, hasShellSyntax, shellSegments } from './shell-syntax.js';

/**
 * The ONE exec-command rule of execute_vm_command and execute_container_command: what `command` + `shell` may be
 * (the DTO decorators and JSON schema below), what they run (resolveCommand), and how a problem is refused
 * (commandRefusal), the same for the command-policy guard and for both exec services.
 */

/** Most argv elements a command may have, after splitting a string (qemu-ga itself has no documented limit). */
export const EXEC_MAX_ARGS = 256;
/** Most characters an argv element (or the one string) may have. */
export const EXEC_MAX_ARG_LENGTH = 16384;

/** What an exec tool runs: a program with its arguments (no shell), or one script for the guest's shell. */
export type CommandForm = { kind: 'argv'; argv: string[] } | { kind: 'shell'; script: string };

/** Why a `command`/`shell` pair cannot run as given. */
export type CommandProblem =
  | { problem: 'invalid'; message: string }
  | { problem: 'empty' }
  | { problem: 'shell-required'; message: string };

/** What to do about shell syntax, said the same way by every exec tool. */
export const SHELL_REQUIRED_ADVICE =
  'pass shell: true to run it with the shell (if the server allows shell commands), or pass command as an argv ' +
  'array such as ["ls", "-l", "/tmp"], whose elements reach the program literally';

/**
 * What `command` + `shell` run, used by the command-policy guard (what it judges) and by both services (what they
 * run), so the two cannot differ:
 * - an argv array runs as given; an element with shell syntax needs `shell: true`;
 * - one string without `shell` is split into words by POSIX rules (quotes and backslashes, no shell: no
 *   expansion, no globbing) and then checked like an array; shell syntax in it needs `shell: true`;
 * - one string with `shell: true` is a script for /bin/sh -c (cmd.exe /c on Windows guests).
 */
export function resolveCommand(command: unknown, shell: unknown): CommandForm | CommandProblem {
  if (shell !== undefined && shell !== null && typeof shell !== 'boolean') {
    return invalid('shell must be true or false');
  }
  if (command === undefined || command === null) return { problem: 'empty' };

  if (typeof command === 'string') {
    if (command.includes('\0')) return invalid('command contains a NUL byte, which no process can receive');
    if (!command.trim()) return { problem: 'empty' };
    if (shell === true) {
      // `&&` alone, `;;` … contain nothing to run
      return shellSegments(command).length ? { kind: 'shell', script: command } : { problem: 'empty' };
    }
    const split = splitCommandString(command);
    if ('problem' in split) return split;
    return checkArgv(split.argv, 'word');
  }

  if (Array.isArray(command)) {
    if (shell === true) {
      return invalid('with shell: true, command is one string (run by sh -c), not an array');
    }
    const bad = command.findIndex((a) => typeof a !== 'string');
    if (bad >= 0) return invalid(`command[${bad}] must be a string (command is an argv array of strings)`);
    return checkArgv(command as string[], 'element');
  }
  return invalid(
    'command must be an argv array of strings, or one string (a command line or, with shell: true, a script)',
  );
}

/** The same checks for an array and for the words of a split string, so both forms run under one rule. */
function checkArgv(argv: string[], unit: 'element' | 'word'): CommandForm | CommandProblem {
  const name = (i: number) => (unit === 'element' ? `command[${i}]` : `word ${i + 1} of command`);
  const nul = argv.findIndex((a) => a.includes('\0'));
  if (nul >= 0) return invalid(`${name(nul)} contains a NUL byte, which no process can receive`);
  if (!argv.length || !argv[0].trim()) return { problem: 'empty' };
  if (argv.length > EXEC_MAX_ARGS) {
    return invalid(`command may have at most ${EXEC_MAX_ARGS} ${unit}s (it has ${argv.length})`);
  }
  const withSyntax = argv.findIndex(hasShellSyntax);
  if (withSyntax >= 0) {
    return shellRequired(`${name(withSyntax)} contains shell syntax (${firstShellSyntax(argv[withSyntax])})`);
  }
  return { kind: 'argv', argv };
}

/** Shell syntax a command line may carry outside single quotes, with the word an error message uses for it. */
const UNQUOTED_SYNTAX: Record<string, string> = {
  '|': 'pipe',
  '&': 'background or &&',
  ';': 'command separator',
  '<': 'redirect',
  '>': 'redirect',
  '(': 'subshell',
  ')': 'subshell',
  $: 'variable or substitution',
  '`': 'command substitution',
  '*': 'glob',
  '?': 'glob',
  '[': 'glob',
  '\n': 'line break',
  '\r': 'line break',
};
/** Only at the start of a word. */
const WORD_START_SYNTAX: Record<string, string> = { '#': 'comment', '~': 'home directory' };
/** Still expanded between double quotes. */
const DOUBLE_QUOTED_SYNTAX = new Set(['$', '`']);

/**
 * Splits a command line into argv by POSIX word rules with shell-quote's `parse`, after finding every piece of
 * shell syntax (outside single quotes) it must not silently absorb: shell-quote reads `$VAR` as an empty string,
 * a line break as a space, an unclosed quote or a trailing backslash as closed, and passes backticks and `[`
 * through. Any syntax found is a shell-required refusal that names it; nothing is ever expanded.
 */
export function splitCommandString(text: string): { argv: string[] } | CommandProblem {
  const found = new Map<string, string>();
  let quote: "'" | '"' | undefined;
  let wordStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      continue;
    }
    if (quote === '"') {
      if (ch === '\\') i++;
      else if (ch === '"') quote = undefined;
      else if (DOUBLE_QUOTED_SYNTAX.has(ch)) found.set(ch, UNQUOTED_SYNTAX[ch]);
      continue;
    }
    if (ch === '\\') {
      if (i === text.length - 1) return invalid('command ends with a lone backslash (escaping nothing)');
      i++;
      wordStart = false;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      wordStart = false;
      continue;
    }
    if (ch === ' ' || ch === '\t') {
      wordStart = true;
      continue;
    }
    if (UNQUOTED_SYNTAX[ch]) found.set(ch, UNQUOTED_SYNTAX[ch]);
    else if (wordStart && WORD_START_SYNTAX[ch]) found.set(ch, WORD_START_SYNTAX[ch]);
    wordStart = false;
  }
  if (quote) {
    return invalid(
      `command has an unclosed ${quote === "'" ? "single (')" : 'double (")'} quote; close it, or escape the quote character with a backslash`,
    );
  }
  if (/^\s*[A-Za-z_][A-Za-z0-9_]*=/.test(text)) found.set('=', 'variable assignment before the program');
  if (found.size) {
    const list = [...found].map(([ch, what]) => `${printable(ch)} (${what})`).join(', ');
    return shellRequired(`command contains shell syntax: ${list}`);
  }

  const words = parse(text, (name) => ({ op: `$${name}` }));
  const op = words.find((w) => typeof w !== 'string');
  if (op !== undefined) {
    // the scan above finds every operator shell-quote knows; this is the belt to its braces
    return shellRequired(`command contains shell syntax: ${describeToken(op)}`);
  }
  return { argv: words as string[] };
}

/** A shell-quote token by its kind only (a comment's text may be a secret). */
function describeToken(token: ReturnType<typeof parse>[number]): string {
  if (typeof token === 'object' && 'comment' in token) return '# (comment)';
  if (typeof token === 'object' && 'op' in token) {
    return token.op === 'glob' ? 'glob' : `${token.op.startsWith('$') ? '$' : token.op} (operator)`;
  }
  return 'an operator';
}

const printable = (ch: string): string => (ch === '\n' ? '\\n' : ch === '\r' ? '\\r' : ch);

const invalid = (message: string): CommandProblem => ({ problem: 'invalid', message });

const shellRequired = (what: string): CommandProblem => ({
  problem: 'shell-required',
  message: `${what}; without shell: true no shell interprets it. To run it, ${SHELL_REQUIRED_ADVICE}.`,
});

/** How a command that cannot run is refused: a VALIDATION error, or a POLICY_DENIED with its policy code. */
export type CommandRefusal =
  | { error: 'VALIDATION'; message: string }
  | { error: 'POLICY_DENIED'; code: CommandPolicyCode; message: string; hint: string };

/** The refusal for each problem, the same from the policy guard and from a service. */
export function commandRefusal(problem: CommandProblem): CommandRefusal {
  switch (problem.problem) {
    case 'invalid':
      return { error: 'VALIDATION', message: problem.message };
    case 'empty':
      return {
        error: 'POLICY_DENIED',
        code: 'CMD_POLICY_EMPTY',
        message: 'Command cannot be empty',
        hint: 'Pass the program and its arguments, e.g. "uname -a" or ["uname", "-a"].',
      };
    case 'shell-required':
      return {
        error: 'POLICY_DENIED',
        code: 'CMD_POLICY_SHELL_REQUIRED',
        message: problem.message,
        hint: 'shell: true runs only where an operator has set command_policy.allow_shell; an argv array always can.',
      };
  }
}

/** A refusal as the error the caller gets. */
export function refusalError(refusal: CommandRefusal): DomainError {
  if (refusal.error === 'VALIDATION') {
    return new DomainError('VALIDATION', `Invalid arguments: ${refusal.message}`);
  }
  return new DomainError('POLICY_DENIED', refusal.message, {
    hint: refusal.hint,
    details: { policy_code: refusal.code },
  });
}

/**
 * What a service runs, by the same rule the policy guard judged. The guard has already refused every problem,
 * so a throw here only guards a call that bypassed it, and says what the guard would have said.
 */
export function commandToRun(command: unknown, shell: unknown): CommandForm {
  const resolved = resolveCommand(command, shell);
  if ('kind' in resolved) return resolved;
  throw refusalError(commandRefusal(resolved));
}

// ------------------------------------------------------------------------------------------------ the DTO fields

/** Where an exec tool runs its command, in the words its field descriptions use. */
export interface ExecPlace {
  /** "in the VM", "in the container" */
  runs: string;
  /** what runs a script with shell: true, e.g. "/bin/sh -c inside the container" */
  shell: string;
}

/** The tool-description sentence about `command`, shared by every exec tool. */
export const EXEC_COMMAND_SUMMARY =
  'command is an argv array, run without a shell (every element reaches the program literally); for pipes or && pass one string with shell: true.';

/**
 * The `command` field of an exec tool: an argv array or one string (both with the limits above). The guard and the
 * services apply resolveCommand to it; this is the shape the schema advertises and the ValidationPipe enforces.
 */
export const IsExecCommand = (place: ExecPlace) =>
  stacked(
    IsString({ each: true }),
    MaxLength(EXEC_MAX_ARG_LENGTH, { each: true }),
    JSONSchema(() => ({
      anyOf: [
        {
          type: 'array',
          items: { type: 'string', maxLength: EXEC_MAX_ARG_LENGTH },
          minItems: 1,
          maxItems: EXEC_MAX_ARGS,
        },
        { type: 'string', minLength: 1, maxLength: EXEC_MAX_ARG_LENGTH },
      ],
      description:
        `The program and its arguments, run ${place.runs} without a shell: an array such as ["df", "-h", "/"] ` +
        '(every element reaches the program literally), or one string such as "df -h /" split into words by POSIX ' +
        'rules (quotes and backslashes; no shell syntax: pipes, redirects, ;, &&, $, backticks and globs need ' +
        `shell: true). With shell: true, one string run by ${place.shell}.`,
    })),
  );

/** The `shell` field of an exec tool. */
export const IsExecShell = (place: ExecPlace) =>
  stacked(
    IsOptional(),
    IsBoolean(),
    JSONSchema({
      description: `Run command (one string) with ${place.shell}, for pipes, &&, redirects, variables and globs (default false; the server policy may refuse it)`,
    }),
  );
