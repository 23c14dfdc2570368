import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { isAbsolute, resolve } from 'node:path';

/**
 * Building blocks of the config loader: a Field is one setting as the user wrote it (a config-file key or an
 * environment variable), and the parsers below turn Fields into typed values while recording every problem in
 * one Problems list, so a ConfigError can report all of them at once.
 */

export const REDACTED = '<redacted>';

export interface Field {
  /** How the user names this setting: `proxmox.port`, `targets.lab.auth.user` or `PROXMOX_PORT`. */
  label: string;
  /** `undefined` when not set: JSON null and empty environment variables count as not set. */
  value: unknown;
  /** Environment values are text: integers are digits, booleans are yes/no words, lists are CSV. */
  fromEnv: boolean;
  /** The value is never shown in a message. */
  secret: boolean;
}

export class Problems {
  readonly list: string[] = [];
  /** Secret values seen while parsing; scrubbed from every message as a second line of defence. */
  private readonly secrets = new Set<string>();

  add(label: string, message: string): void {
    this.list.push(`${label}: ${message}`);
  }

  /** `label: got "x"; expected y` — the standard shape of a problem. */
  bad(field: Field, expected: string): void {
    this.add(field.label, `got ${show(field)}; expected ${expected}`);
  }

  missing(label: string, expected: string): void {
    this.add(label, `missing; expected ${expected}`);
  }

  rememberSecret(value: unknown): void {
    if (typeof value === 'string' && value.length >= 4) this.secrets.add(value);
  }

  /** The problems with any secret value that slipped into a message replaced by <redacted>. */
  scrubbed(): string[] {
    const secrets = [...this.secrets].sort((a, b) => b.length - a.length);
    return this.list.map((line) => secrets.reduce((text, secret) => text.split(secret).join(REDACTED), line));
  }
}

/** A value as shown in a message: strings quoted and shortened, containers described, secrets hidden. */
export function show(field: Pick<Field, 'value' | 'secret'>): string {
  const { value } = field;
  if (field.secret) return `"${REDACTED}"`;
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}

/** Environment values are always strings; this keeps the type checker (and odd callers) honest. */
export const textOf = (value: unknown): string => (typeof value === 'string' ? value : '');

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A group of settings: a config-file section, a set of environment variables, or both layered. */
export interface Section {
  get(key: string, options?: { secret?: boolean }): Field;
}

/**
 * One object of the config file. Unknown keys are reported right away (the reference ignored them, so a typo
 * like `verfiy_ssl` silently kept the default).
 */
export function fileSection(
  problems: Problems,
  value: unknown,
  label: string,
  allowedKeys: readonly string[],
): Section {
  let object: Record<string, unknown> = {};
  if (isPlainObject(value)) {
    object = value;
    for (const key of Object.keys(value)) {
      if (!allowedKeys.includes(key)) {
        problems.add(`${label}.${key}`, `unknown key; allowed: ${allowedKeys.join(', ')}`);
      }
    }
  } else if (value !== undefined && value !== null) {
    problems.bad(
      { label, value, fromEnv: false, secret: false },
      `an object with keys ${allowedKeys.join(', ')}`,
    );
  }
  return {
    get: (key, options) => ({
      label: `${label}.${key}`,
      value: Object.hasOwn(object, key) && object[key] !== null ? object[key] : undefined,
      fromEnv: false,
      secret: options?.secret ?? false,
    }),
  };
}

/** The first set (non-empty) variable of `names`, as a Field labelled with its name. */
export function envField(env: NodeJS.ProcessEnv, names: string | readonly string[], secret = false): Field {
  const list = typeof names === 'string' ? [names] : names;
  for (const name of list) {
    const value = env[name];
    if (value !== undefined && value !== '') return { label: name, value, fromEnv: true, secret };
  }
  return { label: list[0], value: undefined, fromEnv: true, secret };
}

/** Settings read only from environment variables: key → variable name(s). */
export function envSection(
  env: NodeJS.ProcessEnv,
  names: Record<string, string | readonly string[]>,
): Section {
  return {
    get: (key, options) => {
      const name = names[key];
      if (name === undefined) {
        return { label: key, value: undefined, fromEnv: true, secret: options?.secret ?? false };
      }
      return envField(env, name, options?.secret);
    },
  };
}

/** `base`, except that a set environment variable wins over it. */
export function overlay(
  base: Section,
  env: NodeJS.ProcessEnv,
  names: Record<string, string | readonly string[]>,
): Section {
  return {
    get: (key, options) => {
      const name = names[key];
      if (name !== undefined) {
        const fromEnv = envField(env, name, options?.secret);
        if (fromEnv.value !== undefined) return fromEnv;
      }
      return base.get(key, options);
    },
  };
}

// ---- parsers: each returns the typed value (or the fallback) and records a problem when the value is bad ----

export function parseString(
  problems: Problems,
  field: Field,
  options: { expected: string; pattern?: RegExp; maxLength?: number },
): string | undefined {
  if (field.secret) problems.rememberSecret(field.value);
  if (field.value === undefined) return undefined;
  const ok =
    typeof field.value === 'string' &&
    field.value.length <= (options.maxLength ?? 1024) &&
    (options.pattern ? options.pattern.test(field.value) : field.value.length > 0);
  if (!ok) {
    problems.bad(field, options.expected);
    return undefined;
  }
  return field.value as string;
}

export function parseInteger(
  problems: Problems,
  field: Field,
  min: number,
  max: number,
  fallback: number,
): number {
  const expected = `an integer ${min}-${max}`;
  if (field.value === undefined) return fallback;
  let n: number;
  if (field.fromEnv) {
    n = typeof field.value === 'string' && /^\d{1,15}$/.test(field.value) ? Number(field.value) : NaN;
  } else {
    n = typeof field.value === 'number' && Number.isInteger(field.value) ? field.value : NaN;
  }
  if (Number.isNaN(n) || n < min || n > max) {
    problems.bad(
      field,
      typeof field.value === 'string' && !field.fromEnv ? `${expected} (a JSON number)` : expected,
    );
    return fallback;
  }
  return n;
}

const ENV_TRUE = new Set(['true', '1', 'yes']);
const ENV_FALSE = new Set(['false', '0', 'no']);

export function parseBoolean(problems: Problems, field: Field, fallback: boolean): boolean {
  if (field.value === undefined) return fallback;
  if (field.fromEnv) {
    const word = textOf(field.value).trim().toLowerCase();
    if (ENV_TRUE.has(word)) return true;
    if (ENV_FALSE.has(word)) return false;
    problems.bad(field, 'one of true, false, 1, 0, yes, no');
    return fallback;
  }
  if (typeof field.value === 'boolean') return field.value;
  problems.bad(field, 'true or false (a JSON boolean)');
  return fallback;
}

/** A case-insensitive choice; `aliases` maps accepted spellings (upper-cased) to the canonical value. */
export function parseChoice<T extends string>(
  problems: Problems,
  field: Field,
  aliases: Record<string, T>,
  fallback: T,
  expected: string,
): T {
  if (field.value === undefined) return fallback;
  const value = typeof field.value === 'string' ? aliases[field.value.trim().toUpperCase()] : undefined;
  if (value === undefined) {
    problems.bad(field, expected);
    return fallback;
  }
  return value;
}

/** A list of strings: a JSON array in the file, comma-separated text in the environment. */
export function parseList(
  problems: Problems,
  field: Field,
  fallback: readonly string[],
  item?: { check: (s: string) => boolean; expected: string; normalise?: (s: string) => string },
): string[] {
  if (field.value === undefined) return [...fallback];
  let items: unknown[];
  if (field.fromEnv) {
    items = splitCsv(textOf(field.value));
  } else if (Array.isArray(field.value)) {
    items = field.value;
  } else {
    problems.bad(field, `a JSON array of strings${item ? ` (${item.expected})` : ''}`);
    return [...fallback];
  }
  const out: string[] = [];
  items.forEach((value, i) => {
    const itemField = { ...field, label: field.fromEnv ? field.label : `${field.label}[${i}]`, value };
    if (typeof value !== 'string' || value.trim() === '' || (item && !item.check(value.trim()))) {
      problems.bad(itemField, item?.expected ?? 'a non-empty string');
    } else {
      out.push(item?.normalise ? item.normalise(value.trim()) : value.trim());
    }
  });
  return out;
}

/** Like parseList, for regular expressions; from the environment a JSON array also works (regexes with commas). */
export function parsePatternList(problems: Problems, field: Field, fallback: readonly string[]): string[] {
  if (field.value === undefined) return [...fallback];
  let items: unknown[];
  if (field.fromEnv) {
    const text = textOf(field.value).trim();
    if (text.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (!Array.isArray(parsed)) throw new Error('not an array');
        items = parsed;
      } catch {
        problems.bad(field, 'a JSON array of regular expressions, or comma-separated regular expressions');
        return [...fallback];
      }
    } else {
      items = splitCsv(text);
    }
  } else if (Array.isArray(field.value)) {
    items = field.value;
  } else {
    problems.bad(field, 'a JSON array of regular expressions');
    return [...fallback];
  }
  const out: string[] = [];
  items.forEach((value, i) => {
    const label = `${field.label}[${i}]`;
    if (typeof value !== 'string' || value === '') {
      problems.bad({ ...field, label, value }, 'a non-empty regular expression');
      return;
    }
    try {
      new RegExp(value, 'i');
      out.push(value);
    } catch (error) {
      const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
      problems.bad({ ...field, label, value }, `a valid JavaScript regular expression (${reason})`);
    }
  });
  return out;
}

/** A JSON object whose keys and values are strings that pass the given checks. */
export function parseStringMap(
  problems: Problems,
  field: Field,
  key: { check: (s: string) => boolean; expected: string },
  value: { check: (s: string) => boolean; expected: string; normalise?: (s: string) => string },
): Record<string, string> {
  if (field.value === undefined) return {};
  if (!isPlainObject(field.value)) {
    problems.bad(field, `a JSON object mapping ${key.expected} to ${value.expected}`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(field.value)) {
    const label = `${field.label}.${k}`;
    if (!key.check(k)) {
      problems.add(label, `key ${JSON.stringify(k)} is not ${key.expected}`);
    } else if (typeof v !== 'string' || !value.check(v)) {
      problems.bad({ ...field, label, value: v }, value.expected);
    } else {
      out[k] = value.normalise ? value.normalise(v) : v;
    }
  }
  return out;
}

export function splitCsv(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

// ---- paths ----

export interface PathContext {
  cwd: string;
  home: string;
}

/** `~` and `~/x` become the home directory; relative paths are resolved against the working directory. */
export function expandPath(path: string, ctx: PathContext): string {
  const expanded = path === '~' ? ctx.home : path.startsWith('~/') ? `${ctx.home}${path.slice(1)}` : path;
  return isAbsolute(expanded) ? expanded : resolve(ctx.cwd, expanded);
}

/** A path setting; with `mustBeReadable`, the file has to exist and be readable now (fail at boot, not later). */
export function parsePath(
  problems: Problems,
  field: Field,
  ctx: PathContext,
  options: { mustBeReadable?: boolean; expected: string },
): string | undefined {
  const raw = parseString(problems, field, {
    expected: options.expected,
    pattern: /^[^\0]+$/,
    maxLength: 4096,
  });
  if (raw === undefined) return undefined;
  const path = expandPath(raw.trim(), ctx);
  if (options.mustBeReadable) {
    const reason = unreadableReason(path);
    if (reason) {
      problems.add(field.label, `got ${show(field)} (${path}): ${reason}; expected ${options.expected}`);
      return undefined;
    }
  }
  return path;
}

function unreadableReason(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'not a regular file';
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'the file does not exist';
    if (code === 'EACCES') return 'the file is not readable by this process';
    return `the file cannot be read (${code ?? 'error'})`;
  }
}

/** True when the file holds at least one PEM certificate (catches a key or a DER file given as CA). */
export function holdsPemCertificate(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').includes('-----BEGIN CERTIFICATE-----');
  } catch {
    return false;
  }
}

// ---- value formats ----

const HOSTNAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;

/** A host name, IPv4 or IPv6 address (brackets allowed around IPv6); returns it without brackets. */
export function normaliseHost(value: string): string | undefined {
  const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  // every IPv6 text form has a ':'; the guard skips isIPv6's first call (~3 ms compiling its pattern) for the
  // host names and IPv4 addresses of most configurations, before the stdio opening answers
  if (bare.includes(':') && isIPv6(bare)) return bare;
  return value === bare && HOSTNAME_RE.test(value) ? value : undefined;
}

/** `host`, `host:port` or `[v6]:port` — what an HTTP Host header carries. */
export function isHostHeaderValue(value: string): boolean {
  const m = /^(\[[^\]]+\]|[^:[\]]+)(:\d{1,5})?$/.exec(value);
  return m !== null && normaliseHost(m[1]) !== undefined;
}

/** `https://app.example.com[:port]` (a trailing slash is tolerated) → the origin as browsers send it. */
export function normaliseOrigin(value: string): string | undefined {
  if (!/^https?:\/\/[^/?#\s\\@]+\/?$/i.test(value)) return undefined;
  try {
    const url = new URL(value);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

/** A SHA-256 certificate fingerprint (64 hex digits, plain or colon-separated) → `AA:BB:…`; undefined if not one. */
export function normaliseCertFingerprint(value: string): string | undefined {
  const v = value.trim();
  if (!/^[0-9a-f]{64}$/i.test(v) && !/^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/i.test(v)) return undefined;
  return v.replace(/:/g, '').toUpperCase().match(/.{2}/g)!.join(':');
}
