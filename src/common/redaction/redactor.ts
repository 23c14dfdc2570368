/**
 * The one redactor. Logs (logger.ts), error bodies (REST filter, MCP error text), audit rows and job rows all go
 * through these functions, so a secret is hidden the same way everywhere:
 * - by key, at any depth: passwords (`password`, `cipassword`, `*_password`), secrets, tokens (`token_value`,
 *   `approval_token`, …), API keys, `Authorization`/cookies, private keys, SSH key lists (`sshkeys`,
 *   `ssh_public_keys`), and `command` unless the caller asked to keep command text (logging.log_commands);
 *   file content: `content` in an object that also names a file (`path` or `file`: write_vm_file's arguments,
 *   PVE's agent file-write parameters), never the storage content types (`content: "iso"` beside `storage`);
 * - by pattern, inside any string: `PVEAPIToken=…`, `Bearer …`/`Basic …`, `password=…`/`"secret": "…"`
 *   pairs, URL credentials (`postgres://u:pw@h`), PEM private keys, approval tokens (`pmpa_…`);
 * - by value: every secret of the loaded configuration (PVE token secrets, API keys, approval tokens, SSH and
 *   database passwords) wherever it appears, also URL-encoded. This catches what no key name or pattern can.
 * SSH *public* keys are not secret, but the lists that grant access are redacted by key; private keys are always
 * redacted, by key and by their PEM armour.
 */

export const REDACTED = '<redacted>';

/** Approval tokens are issued with this prefix so they can be recognised in free text. */
export const APPROVAL_TOKEN_PREFIX = 'pmpa_';

export interface RedactOptions {
  /** Keep `command` values (logging.log_commands=true). Default: command text is replaced. */
  keepCommands?: boolean;
}

const normaliseKey = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

const SECRET_KEYS = new Set([
  'password',
  'passwd',
  'pass',
  'passphrase',
  'cipassword',
  'secret',
  'token',
  'tokenvalue',
  'apitoken',
  'apikey',
  'key',
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'privatekey',
  'sshkeys',
  'sshkey',
  'sshpublickeys',
  'sshpublickey',
  'sshprivatekey',
  'databaseurl',
  'credentials',
]);
const SECRET_SUFFIXES = ['password', 'passwd', 'secret', 'token', 'apikey', 'privatekey'];

/** True when a value stored under this key is a secret (compared without case, `_` or `-`). */
export function isSecretKey(key: string, options: RedactOptions = {}): boolean {
  const k = normaliseKey(key);
  if (k === 'command' || k === 'cmd') return !options.keepCommands;
  return SECRET_KEYS.has(k) || SECRET_SUFFIXES.some((s) => k.endsWith(s));
}

/** Key names whose `key=value` / `"key": "value"` pairs are redacted inside text. */
const SECRET_NAME =
  '[A-Za-z0-9_-]*(?:password|passwd|secret|token(?:_?value)?|api[_-]?key|private[_-]?key|sshkeys|ssh_public_keys|authorization)';

const TEXT_PATTERNS: Array<[RegExp, string]> = [
  // PEM private keys (RSA, EC, OPENSSH, ENCRYPTED …), also when cut off before the END line
  [
    /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    '<redacted private key>',
  ],
  [/PVEAPIToken[= ][^\s"';,]+/gi, `PVEAPIToken=${REDACTED}`],
  // credentials are long (API keys have 16+ characters); "Basic is refused" is prose
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // "password": "with spaces" (JSON) before the unquoted form
  [new RegExp(`("${SECRET_NAME}"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi'), `$1"${REDACTED}"`],
  [
    new RegExp(
      `\\b(${SECRET_NAME}['"]?\\s*[:=]\\s*['"]?)(?!${REDACTED}|Bearer\\b|Basic\\b)[^\\s"'&,;}]+`,
      'gi',
    ),
    `$1${REDACTED}`,
  ],
  // scheme://user:password@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, `$1:${REDACTED}@`],
  [new RegExp(`\\b${APPROVAL_TOKEN_PREFIX}[A-Za-z0-9_-]{8,}`, 'g'), `${APPROVAL_TOKEN_PREFIX}${REDACTED}`],
];

/** Exact secret strings of the loaded configuration(s); only ever added to. */
const knownSecrets = new Set<string>();
let knownSorted: string[] = [];
const MIN_KNOWN_SECRET_LENGTH = 6;

/** Registers configuration secrets so they are replaced wherever they show up, whatever surrounds them. */
export function rememberSecrets(values: Iterable<string | undefined | null>): void {
  let added = false;
  for (const value of values) {
    if (typeof value !== 'string' || value.length < MIN_KNOWN_SECRET_LENGTH) continue;
    for (const form of new Set([value, encodeURIComponent(value)])) {
      if (!knownSecrets.has(form)) {
        knownSecrets.add(form);
        added = true;
      }
    }
  }
  // longest first, so a secret that contains another is replaced whole
  if (added) knownSorted = [...knownSecrets].sort((a, b) => b.length - a.length);
}

/** Redacts secrets inside free text (messages, upstream error bodies, stack traces). */
export function redactText(text: string): string {
  let out = text;
  for (const secret of knownSorted) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  for (const [pattern, replacement] of TEXT_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

const MAX_DEPTH = 24;

/**
 * A redacted deep copy of any value (log objects, audit details, job metadata, error bodies): secret keys are
 * replaced at any depth, every string is scrubbed with redactText. The input is never modified. Errors become
 * `{ type, message, stack }` with both texts scrubbed.
 */
export function redactValue<T = unknown>(value: T, options: RedactOptions = {}): T {
  return walk(value, options, 0, new WeakSet()) as T;
}

function walk(value: unknown, options: RedactOptions, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '<too deep>';
  if (seen.has(value)) return '<circular>';
  seen.add(value);
  try {
    if (value instanceof Error) {
      const error = value as Error & { code?: unknown };
      return {
        type: error.name,
        message: redactText(error.message),
        ...(typeof error.code === 'string' ? { code: error.code } : {}),
        ...(error.stack ? { stack: redactText(error.stack) } : {}),
      };
    }
    if (value instanceof Date) return value.toISOString();
    if (ArrayBuffer.isView(value)) return `<binary ${value.byteLength} bytes>`;
    if (Array.isArray(value)) return value.map((v) => walk(v, options, depth + 1, seen));
    if (value instanceof Map) {
      return walk(Object.fromEntries(value), options, depth, seen);
    }
    const out: Record<string, unknown> = {};
    const names = value as Record<string, unknown>;
    const namesFile = 'path' in names || 'file' in names;
    for (const [key, v] of Object.entries(value)) {
      const secret = isSecretKey(key, options) || (namesFile && key === 'content');
      out[key] = secret && isSecretShaped(v) ? REDACTED : walk(v, options, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** `password: null` and `require_approval_token: true` stay visible: only values that can carry a secret go. */
const isSecretShaped = (v: unknown) =>
  typeof v === 'string' || typeof v === 'number' || (typeof v === 'object' && v !== null);
