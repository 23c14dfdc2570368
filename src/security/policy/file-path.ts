import type { FilesConfig } from '../../config/app-config.js';
import { defaultFilesConfig } from '../../config/file-policy.defaults.js';
import { DomainError } from '../../common/errors/domain-error.js';
import type { FilePolicyCode } from '../policy-codes.js';

/**
 * The ONE rule for guest file paths (read_vm_file, write_vm_file): how a path is normalised, which guest it is
 * written for, and whether the `files` section lets it be read or written. Used by the policy guard (before any
 * approval is asked) and by the service (what it sends to the agent), so both judge the same path.
 *
 * Accepted: absolute paths only.
 * - POSIX (Linux, BSD guests): `/…`. Repeated `/` and `.` segments are dropped; `..` is refused (the agent would
 *   resolve it in the guest, after the rules were matched).
 * - Windows: a drive path, `C:\…` or `C:/…`. Sent to the agent with `\`, matched as `C:/…` without case. Refused:
 *   `..`; `:` after the drive (alternate data streams, `SAM::$DATA`); segments ending in `.` or a space (Windows
 *   drops them, so `SAM.` is `SAM`); 8.3 short names (`PROGRA~1`), which would name a folder in another spelling.
 * - Never: relative paths, `~`, UNC and device paths (`\\server\share`, `\\?\C:\`), control characters.
 * Symlinks inside the guest are followed by the agent and cannot be seen from here: the rules are a safety net.
 */

export type GuestPathKind = 'posix' | 'windows';

export interface GuestPath {
  kind: GuestPathKind;
  /** What the agent is given: `/var/log/syslog`, `C:\Users\me\notes.txt`. */
  path: string;
  /** What the rules are matched against: the POSIX path, or `C:/Users/me/notes.txt`. */
  key: string;
}

export const MAX_GUEST_PATH_LENGTH = 4096;

export const GUEST_PATH_RULES =
  'an absolute path: /… on Linux guests, C:\\… (or C:/…) on Windows guests, without ".." segments';

/** A path as the guest will see it, or why it is refused (a VALIDATION message naming `path`). */
export function normaliseGuestPath(raw: unknown): GuestPath | { problem: string } {
  if (raw === undefined || raw === null || raw === '')
    return { problem: `path: required; ${GUEST_PATH_RULES}` };
  if (typeof raw !== 'string') return { problem: `path: must be a string; ${GUEST_PATH_RULES}` };
  if (raw.length > MAX_GUEST_PATH_LENGTH) {
    return { problem: `path: longer than ${MAX_GUEST_PATH_LENGTH} characters` };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) return { problem: 'path: contains control characters' };
  const drive = /^([A-Za-z]):[\\/]/.exec(raw);
  if (drive) return windowsPath(drive[1].toUpperCase(), raw.slice(3));
  if (raw.startsWith('/')) return posixPath(raw);
  if (raw.startsWith('\\\\') || raw.startsWith('//')) {
    return {
      problem: `path: UNC and device paths (\\\\server\\share, \\\\?\\…) are not accepted; ${GUEST_PATH_RULES}`,
    };
  }
  return { problem: `path: "${raw}" is not absolute; ${GUEST_PATH_RULES}` };
}

function posixPath(raw: string): GuestPath | { problem: string } {
  const segments: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return dotDot();
    segments.push(segment);
  }
  const path = `/${segments.join('/')}`;
  return { kind: 'posix', path, key: path };
}

function windowsPath(drive: string, rest: string): GuestPath | { problem: string } {
  const segments: string[] = [];
  for (const segment of rest.split(/[\\/]/)) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return dotDot();
    if (segment.includes(':')) {
      return { problem: 'path: ":" after the drive (an alternate data stream) is not accepted' };
    }
    if (/[. ]$/.test(segment)) {
      return {
        problem: `path: "${segment}" ends in a dot or space, which Windows drops; write the name without it`,
      };
    }
    if (/~\d/.test(segment)) {
      return { problem: `path: "${segment}" looks like an 8.3 short name; write the long name` };
    }
    segments.push(segment);
  }
  return {
    kind: 'windows',
    path: `${drive}:\\${segments.join('\\')}`,
    key: `${drive}:/${segments.join('/')}`,
  };
}

const dotDot = () => ({
  problem:
    'path: ".." segments are not accepted; give the path without them (symlinks are followed in the guest)',
});

// ---------------------------------------------------------------------------------------------- the rules

interface CompiledGlob {
  glob: string;
  kind: GuestPathKind;
  re: RegExp;
}

export interface CompiledFilePolicy {
  read: { allow: CompiledGlob[]; deny: CompiledGlob[] };
  write: { allow: CompiledGlob[]; deny: CompiledGlob[] };
  maxReadBytes: number;
  maxWriteBytes: number;
}

/** The `files` section with its globs compiled once (absent section: the defaults). */
export function compileFilePolicy(files: FilesConfig | undefined): CompiledFilePolicy {
  const f = files ?? defaultFilesConfig();
  const all = (globs: string[]) => globs.map(compileGlob);
  return {
    read: { allow: all(f.readAllowPaths), deny: all(f.readDenyPaths) },
    write: { allow: all(f.writeAllowPaths), deny: all(f.writeDenyPaths) },
    maxReadBytes: f.maxReadBytes,
    maxWriteBytes: f.maxWriteBytes,
  };
}

/**
 * `*` and `?` inside one segment, `**` across segments (`/proc/**` also matches /proc itself). A glob with a
 * drive (`C:/…`, `?:/…` for any drive) is a Windows rule, matched without case; the rest are POSIX rules.
 */
export function compileGlob(glob: string): CompiledGlob {
  const windows = /^[A-Za-z?]:[\\/]/.test(glob);
  const text = windows ? glob.replace(/\\/g, '/') : glob;
  let re = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (text.startsWith('/**', i) && (i + 3 === text.length || text[i + 3] === '/')) {
      re += '(?:/.*)?';
      i += 2;
    } else if (text.startsWith('**', i)) {
      re += '.*';
      i += 1;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return { glob, kind: windows ? 'windows' : 'posix', re: new RegExp(`^${re}$`, windows ? 'i' : '') };
}

export type FileAccess = 'read' | 'write';

export type FileDecision =
  | { allowed: true; path: GuestPath }
  | { allowed: false; error: 'VALIDATION'; message: string }
  | { allowed: false; error: 'POLICY_DENIED'; code: FilePolicyCode; message: string; hint: string };

/** Deny rules first (the first that matches is named), then the allow list. */
export function evaluateFileAccess(
  access: FileAccess,
  raw: unknown,
  policy: CompiledFilePolicy,
): FileDecision {
  const path = normaliseGuestPath(raw);
  if ('problem' in path) return { allowed: false, error: 'VALIDATION', message: path.problem };
  const rules = policy[access];
  const list = (which: 'allow' | 'deny') => `files.${access}_${which}_paths`;
  const hit = rules.deny.find((g) => g.kind === path.kind && g.re.test(path.key));
  if (hit) {
    return {
      allowed: false,
      error: 'POLICY_DENIED',
      code: 'FILE_POLICY_DENY_PATH',
      message: `${access === 'read' ? 'Reading' : 'Writing'} ${path.path} is refused by the rule "${hit.glob}" in ${list('deny')}`,
      hint: 'The server policy protects this path; do not retry it in another spelling. An operator can change the list.',
    };
  }
  if (!rules.allow.some((g) => g.kind === path.kind && g.re.test(path.key))) {
    const allowed = rules.allow.filter((g) => g.kind === path.kind).map((g) => g.glob);
    return {
      allowed: false,
      error: 'POLICY_DENIED',
      code: 'FILE_POLICY_NOT_ALLOWLISTED',
      message: `${access === 'read' ? 'Reading' : 'Writing'} ${path.path} is not allowed: it matches no rule in ${list('allow')}`,
      hint: allowed.length
        ? `Allowed ${path.kind === 'windows' ? 'Windows' : 'POSIX'} paths: ${allowed.join(', ')}.`
        : `No ${path.kind === 'windows' ? 'Windows' : 'POSIX'} path may be ${access === 'read' ? 'read' : 'written'} on this server (${list('allow')}).`,
    };
  }
  return { allowed: true, path };
}

/** A refusal as the error the caller gets (the same from the guard and from the service). */
export function fileRefusalError(decision: Exclude<FileDecision, { allowed: true }>): DomainError {
  if (decision.error === 'VALIDATION')
    return new DomainError('VALIDATION', `Invalid arguments: ${decision.message}`);
  return new DomainError('POLICY_DENIED', decision.message, {
    hint: decision.hint,
    details: { policy_code: decision.code },
  });
}

/** The path a service sends, by the rule the guard judged (a throw only guards a call that bypassed the guard). */
export function allowedGuestPath(access: FileAccess, raw: unknown, policy: CompiledFilePolicy): GuestPath {
  const decision = evaluateFileAccess(access, raw, policy);
  if (!decision.allowed) throw fileRefusalError(decision);
  return decision.path;
}
