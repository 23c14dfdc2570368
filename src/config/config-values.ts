import type { ApiKeyConfig } from './app-config.js';
import {
  envField,
  expandPath,
  fileSection,
  holdsPemCertificate,
  isPlainObject,
  normaliseCertFingerprint,
  normaliseHost,
  normaliseOrigin,
  parseList,
  parsePath,
  textOf,
  type Field,
  type Problems,
} from './config-fields.js';
import { ownKeys, parseSection, type ParseContext, type SectionSpec } from './config-table.js';

/**
 * Parsers of the settings whose rules do not fit in one line of the field tables (config-schema.ts): the Proxmox
 * credentials, certificate trust, origins, API keys and the job store.
 */

const DEFAULT_SQLITE_PATH = 'proxmox-jobs.sqlite3';
export const MIN_API_KEY_LENGTH = 16;

/** Header-safe secret text: printable ASCII, no spaces (it ends up in an Authorization header). */
export const SECRET_TEXT_RE = /^[\x21-\x7e]+$/;
export const TOOL_NAME_RE = /^[a-z][a-z0-9_]{0,63}$/;

/** The Proxmox VE host: required, a bare host name or address. */
export function parsePveHost(field: Field, ctx: ParseContext): string {
  if (field.value === undefined) {
    ctx.problems.missing(
      field.label,
      `the Proxmox VE host name or IP address, e.g. pve.example.com${ctx.whereWeLooked()}`,
    );
    return '';
  }
  const host = (typeof field.value === 'string' && normaliseHost(field.value.trim())) || '';
  if (!host) {
    ctx.problems.bad(field, 'a host name or IP address without scheme, port or path, e.g. pve.example.com');
  }
  return host;
}

/** A required credential of the target; a missing one says where the loader looked (once). */
export function required(spec: {
  missing: string;
  expected: string;
  pattern: RegExp;
  hint?: (value: string) => string;
}): (field: Field, ctx: ParseContext) => string {
  return (field, { problems, whereWeLooked }) => {
    if (field.secret) problems.rememberSecret(field.value);
    if (field.value === undefined) {
      problems.missing(field.label, `${spec.missing}${whereWeLooked()}`);
      return '';
    }
    if (typeof field.value === 'string' && field.value.length <= 512 && spec.pattern.test(field.value)) {
      return field.value;
    }
    const hint = typeof field.value === 'string' && !field.secret && spec.hint ? spec.hint(field.value) : '';
    problems.bad(field, `${spec.expected}${hint}`);
    return '';
  };
}

export function parseCaFile(field: Field, { problems, paths }: ParseContext): string | undefined {
  const caFile = parsePath(problems, field, paths, {
    mustBeReadable: true,
    expected: 'a readable PEM file with the CA certificate, e.g. a copy of /etc/pve/pve-root-ca.pem',
  });
  if (caFile && !holdsPemCertificate(caFile)) {
    problems.add(field.label, `${caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return caFile;
}

export function parseCertFingerprint(field: Field, { problems }: ParseContext): string | undefined {
  if (field.value === undefined) return undefined;
  const normalised = typeof field.value === 'string' ? normaliseCertFingerprint(field.value) : undefined;
  if (normalised === undefined) {
    const hexDigits = typeof field.value === 'string' ? field.value.replace(/:/g, '') : '';
    const bytes =
      /^[0-9a-f]+$/i.test(hexDigits) && hexDigits.length % 2 === 0 ? hexDigits.length / 2 : undefined;
    const note =
      bytes !== undefined && bytes !== 32 ? ` (that is ${bytes} bytes; a SHA-256 fingerprint has 32)` : '';
    problems.bad(
      field,
      `a SHA-256 certificate fingerprint: 64 hex digits, plain or colon-separated (AA:BB:...:FF)${note}; ` +
        "see the node's Certificates panel or 'pvenode cert info'",
    );
  }
  return normalised;
}

const INSECURE_TLS =
  'Insecure TLS configuration blocked: set proxmox.verify_ssl=true. Only dev_mode=true can allow verify_ssl=false. ' +
  '(For a self-signed certificate, pin it with proxmox.fingerprint or trust its CA with proxmox.ca_file.)';

/** verify_ssl=false is refused outside dev mode; next to a pin or a CA the advice is to drop one of the two. */
export function checkTlsTrust(
  verifySsl: boolean,
  fields: { verify: Field; pin: Field; ca: Field },
  { problems, devMode }: ParseContext,
): void {
  if (verifySsl || devMode) return;
  const { verify, pin, ca } = fields;
  // a fingerprint or CA file says "check this certificate"; verify_ssl=false says "check nothing"
  const trust = pin.value !== undefined ? pin : ca.value !== undefined ? ca : undefined;
  problems.add(
    verify.label,
    trust
      ? contradictoryTls(verify, trust)
      : verify.fromEnv
        ? `${INSECURE_TLS} (Environment: PROXMOX_DEV_MODE=true.)`
        : INSECURE_TLS,
  );
}

function contradictoryTls(verify: Field, trust: Field): string {
  const what = trust.label.toLowerCase().endsWith('fingerprint')
    ? 'pins the certificate'
    : 'names the CA to trust';
  const dev = verify.fromEnv ? 'PROXMOX_DEV_MODE=true' : 'security.dev_mode=true';
  return (
    `${verify.label}=false turns certificate checks off, but ${trust.label} ${what}: they contradict. ` +
    `Remove one of them, whichever you intend: to check the certificate (recommended, also for a self-signed one), ` +
    `remove ${verify.label}; to turn checks off (development only, needs ${dev}), remove ${trust.label}.`
  );
}

/** The address the MCP server listens on. */
export function parseListenHost(field: Field, { problems }: ParseContext): string {
  if (field.value === undefined) return '127.0.0.1';
  const parsed = typeof field.value === 'string' ? normaliseHost(field.value.trim()) : undefined;
  if (parsed === undefined) {
    problems.bad(field, 'an address to listen on, e.g. 127.0.0.1, 0.0.0.0 or ::1');
    return '127.0.0.1';
  }
  return parsed;
}

export function parseOrigins(field: Field, { problems }: ParseContext): string[] {
  return parseList(problems, field, [], {
    check: (s) => normaliseOrigin(s) !== undefined,
    expected:
      "an origin such as https://app.example.com (scheme, host and optional port; no path). '*' is refused: any web " +
      'page could then call this server and the Origin check of /mcp would be off; list the origins that may call ' +
      '(e.g. MCPO_CORS_ALLOW_ORIGINS=https://app.example.com) or leave it unset when no browser page calls the server',
    normalise: (s) => normaliseOrigin(s)!,
  });
}

// ---- the job store ----

export function parseSqlitePath(field: Field, { problems, paths }: ParseContext): string {
  if (field.value === ':memory:') return ':memory:';
  return (
    parsePath(problems, field, paths, { expected: 'a file path for the SQLite job database' }) ??
    expandPath(DEFAULT_SQLITE_PATH, paths)
  );
}

export function parseDatabaseUrl(field: Field, { problems }: ParseContext): string | undefined {
  problems.rememberSecret(field.value);
  if (field.value === undefined) return undefined;
  let scheme: string | undefined;
  let hostname = '';
  try {
    const url = new URL(textOf(field.value));
    scheme = url.protocol;
    hostname = url.hostname;
  } catch {
    scheme = undefined;
  }
  if (typeof field.value !== 'string' || (scheme !== 'postgres:' && scheme !== 'postgresql:') || !hostname) {
    const seen = scheme && scheme !== 'postgres:' && scheme !== 'postgresql:' ? ` (scheme ${scheme})` : '';
    problems.bad(field, `a postgres:// or postgresql:// URL with a host${seen}`);
    return undefined;
  }
  return field.value;
}

// ---- API keys ----

/** Either variable holds one admin key; both are read in every mode. */
const API_KEY_VARIABLES = ['MCP_API_KEY', 'PROXMOX_API_KEY'] as const;

/** One `security.api_keys[i]` entry as parsed; a key with any part missing or bad is dropped. */
export type ApiKeyEntry = Partial<ApiKeyConfig>;

/**
 * The API keys: the admin keys of MCP_API_KEY / PROXMOX_API_KEY, then `security.api_keys` (`entry` is its table);
 * names and secrets must be unique.
 */
export function parseApiKeys(
  fileField: Field,
  ctx: ParseContext,
  entry: SectionSpec<ApiKeyEntry>,
): ApiKeyConfig[] {
  const { problems } = ctx;
  const keys: ApiKeyConfig[] = [];
  for (const name of API_KEY_VARIABLES) {
    const secret = parseApiKeySecret(envField(ctx.env, name, true), ctx);
    // The same key in both variables (a common Docker setup) is one key, not a conflict.
    if (secret !== undefined && !keys.some((k) => k.secret === secret)) {
      keys.push({ name: `env:${name}`, secret, scope: 'admin' });
    }
  }
  if (fileField.value !== undefined) {
    if (!Array.isArray(fileField.value)) {
      problems.bad(
        fileField,
        'a JSON array of {"name": ..., "key": ..., "scope": "read" | "operate" | "admin"}',
      );
    } else {
      fileField.value.forEach((value: unknown, i) => {
        const label = `${fileField.label}[${i}]`;
        if (!isPlainObject(value)) {
          problems.bad({ label, value, fromEnv: false, secret: false }, 'an object with name, key and scope');
          return;
        }
        const { name, secret, scope, targets, tools, toolsets } = parseSection(
          entry,
          fileSection(problems, value, label, ownKeys(entry)),
          ctx,
        );
        if (name && secret && scope) {
          keys.push({
            name,
            secret,
            scope,
            ...(targets ? { targets } : {}),
            ...(tools ? { tools } : {}),
            ...(toolsets ? { toolsets } : {}),
          });
        }
      });
    }
  }
  checkUnique(problems, fileField, keys);
  return keys;
}

function checkUnique(problems: Problems, fileField: Field, keys: ApiKeyConfig[]): void {
  const names = new Set<string>();
  const secrets = new Map<string, string>();
  for (const key of keys) {
    if (names.has(key.name)) {
      problems.add(
        fileField.label,
        `two API keys are named ${JSON.stringify(key.name)}; names must be unique`,
      );
    }
    names.add(key.name);
    const other = secrets.get(key.secret);
    if (other !== undefined) {
      problems.add(
        fileField.label,
        `API keys ${JSON.stringify(other)} and ${JSON.stringify(key.name)} have the same secret; each key must be unique`,
      );
    }
    secrets.set(key.secret, key.name);
  }
}

/** A per-key `targets`/`tools` limit: absent = no limit; an empty list is refused (it would allow nothing). */
export function parseKeyLimit(
  field: Field,
  { problems }: ParseContext,
  item: { check: (s: string) => boolean; expected: string },
): string[] | undefined {
  if (field.value === undefined) return undefined;
  if (Array.isArray(field.value) && field.value.length === 0) {
    problems.bad(field, `at least one entry (${item.expected}); omit the key to allow all`);
    return undefined;
  }
  return [...new Set(parseList(problems, field, [], item))];
}

export function parseApiKeySecret(field: Field, { problems }: ParseContext): string | undefined {
  problems.rememberSecret(field.value);
  if (field.value === undefined) return undefined;
  if (typeof field.value !== 'string' || !SECRET_TEXT_RE.test(field.value) || field.value.length > 512) {
    problems.bad(
      field,
      `a random secret of at least ${MIN_API_KEY_LENGTH} printable characters without spaces`,
    );
    return undefined;
  }
  if (field.value.length < MIN_API_KEY_LENGTH) {
    problems.bad(
      field,
      `at least ${MIN_API_KEY_LENGTH} characters (it has ${field.value.length}), since fewer can be guessed by trying keys; generate one with: openssl rand -base64 32`,
    );
    return undefined;
  }
  return field.value;
}
