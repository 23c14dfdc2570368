import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { TARGET_NAME_PATTERN, isNodeName } from '../common/validation/proxmox-formats.js';
import {
  ConfigError,
  type ApiKeyConfig,
  type ApiKeyScope,
  type AppConfig,
  type CommandPolicyConfig,
  type CommandPolicyMode,
  type HighRiskMode,
  type LogLevel,
  type McpTransport,
  type SshConfig,
  type TargetConfig,
} from './app-config.js';
import { DEFAULT_DENY_PATTERNS, DEFAULT_HIGH_RISK_OPERATIONS } from './command-policy.defaults.js';
import {
  Problems,
  envField,
  envSection,
  expandPath,
  fileSection,
  holdsPemCertificate,
  isHostHeaderValue,
  isPlainObject,
  normaliseCertFingerprint,
  normaliseHost,
  normaliseOrigin,
  overlay,
  parseBoolean,
  parseChoice,
  parseInteger,
  parseList,
  parsePath,
  parsePatternList,
  parseString,
  parseStringMap,
  type Field,
  type PathContext,
  textOf,
  type Section,
} from './config-fields.js';
import { checkJsonSyntax } from './json-syntax.js';
import { isAllowedHostEntry } from '../common/url-guard/url-guard.js';

export { describeConfig } from './config.describe.js';

/** Where the config file is looked for when PROXMOX_MCP_CONFIG is not set (relative to the working directory). */
export const DEFAULT_CONFIG_FILE = 'proxmox-config/config.json';
export const DEFAULT_SQLITE_PATH = 'proxmox-jobs.sqlite3';
export const MIN_API_KEY_LENGTH = 16;

export interface LoadConfigOptions {
  /** Directory for DEFAULT_CONFIG_FILE and relative paths; process.cwd() by default. */
  cwd?: string;
  /**
   * Rewrites the config file's document before it is read (the demo replaces the sections it owns: targets, SSH,
   * API keys, job store). Not called in environment mode.
   */
  rewriteFile?: (doc: Record<string, unknown>) => Record<string, unknown>;
}

// ---- the keys each section accepts (snake_case, the reference project's names) ----

const SECTIONS = [
  'proxmox',
  'auth',
  'logging',
  'mcp',
  'http',
  'security',
  'jobs',
  'command_policy',
  'ssh',
  'api_tunnel',
  'targets',
  'audit',
  'downloads',
  'metrics',
] as const;
const PROXMOX_KEYS = [
  'host',
  'port',
  'timeout',
  'verify_ssl',
  'service',
  'ca_file',
  'fingerprint',
  'inventory_cache_seconds',
];
const AUTH_KEYS = ['user', 'token_name', 'token_value'];
const LOGGING_KEYS = ['level', 'format', 'file', 'log_commands'];
const MCP_KEYS = [
  'host',
  'port',
  'transport',
  'stateful',
  'allowed_hosts',
  'allowed_origins',
  'tool_allowlist',
  'tool_denylist',
  'max_body_bytes',
  'dns_rebinding_protection',
];
const HTTP_KEYS = ['cors_origins', 'headers_timeout_seconds', 'request_timeout_seconds', 'rate_limit_rpm'];
const SECURITY_KEYS = ['dev_mode', 'api_keys', 'auth_failure_limit', 'auth_failure_window_seconds'];
const API_KEY_KEYS = ['name', 'key', 'scope', 'targets', 'tools'];
const AUDIT_KEYS = ['retention_days'];
const DOWNLOADS_KEYS = ['allowed_hosts'];
const ENV_DOWNLOADS = { allowed_hosts: 'PROXMOX_DOWNLOADS_ALLOWED_HOSTS' } as const;
const METRICS_KEYS = ['enabled'];
const ENV_METRICS = { enabled: 'MCP_METRICS_ENABLED' } as const;
const JOBS_KEYS = [
  'sqlite_path',
  'database_url',
  'poll_interval_seconds',
  'retention_days',
  'max_events_per_job',
];
const POLICY_KEYS = [
  'mode',
  'allow_patterns',
  'deny_patterns',
  'require_approval_token',
  'approval_token',
  'high_risk_mode',
  'high_risk_operations',
  'high_risk_require_approval_token',
  'high_risk_approval_token',
  'allow_shell',
  'exec_require_approval',
  'approval_ttl_seconds',
];
const SSH_KEYS = [
  'user',
  'port',
  'key_file',
  'key_passphrase',
  'password',
  'host_overrides',
  'use_sudo',
  'known_hosts_file',
  'strict_host_key_checking',
  'host_key_fingerprints',
  'prefer_ssh_client',
  'connect_timeout',
  'allow_node_commands',
  'node_command_patterns',
];
/** execute_node_command switches: in the top-level `ssh` (single target) or in `targets.<name>.ssh`. */
const NODE_COMMAND_KEYS = ['allow_node_commands', 'node_command_patterns'];
const ENV_NODE_COMMANDS = {
  allow_node_commands: 'PROXMOX_SSH_ALLOW_NODE_COMMANDS',
  node_command_patterns: 'PROXMOX_SSH_NODE_COMMAND_PATTERNS',
} as const;
const API_TUNNEL_KEYS = [
  'enabled',
  'ssh_host',
  'local_host',
  'local_port',
  'remote_host',
  'remote_port',
  'connect_timeout',
];
const TARGET_KEYS = ['description', 'read_only', 'allow_e2e', 'proxmox', 'auth', 'ssh'];

// ---- environment variables ----

/** Read only when there is no config file (reference §5.2). */
const ENV_ONLY = {
  proxmox: {
    host: 'PROXMOX_HOST',
    port: 'PROXMOX_PORT',
    timeout: 'PROXMOX_TIMEOUT',
    verify_ssl: 'PROXMOX_VERIFY_SSL',
    service: 'PROXMOX_SERVICE',
    ca_file: 'PROXMOX_CA_FILE',
    fingerprint: 'PROXMOX_FINGERPRINT',
    inventory_cache_seconds: 'PROXMOX_INVENTORY_CACHE_SECONDS',
  },
  auth: { user: 'PROXMOX_USER', token_name: 'PROXMOX_TOKEN_NAME', token_value: 'PROXMOX_TOKEN_VALUE' },
  security: { dev_mode: 'PROXMOX_DEV_MODE' },
  commandPolicy: {
    mode: 'COMMAND_POLICY_MODE',
    allow_patterns: 'COMMAND_POLICY_ALLOW_PATTERNS',
    deny_patterns: 'COMMAND_POLICY_DENY_PATTERNS',
    require_approval_token: 'COMMAND_POLICY_REQUIRE_APPROVAL_TOKEN',
    approval_token: 'COMMAND_POLICY_APPROVAL_TOKEN',
    high_risk_mode: 'COMMAND_POLICY_HIGH_RISK_MODE',
    high_risk_operations: 'COMMAND_POLICY_HIGH_RISK_OPERATIONS',
    high_risk_require_approval_token: 'COMMAND_POLICY_HIGH_RISK_REQUIRE_APPROVAL_TOKEN',
    high_risk_approval_token: 'COMMAND_POLICY_HIGH_RISK_APPROVAL_TOKEN',
    allow_shell: 'COMMAND_POLICY_ALLOW_SHELL',
    exec_require_approval: 'COMMAND_POLICY_EXEC_REQUIRE_APPROVAL',
    approval_ttl_seconds: 'COMMAND_POLICY_APPROVAL_TTL_SECONDS',
  },
} as const;

/** Read in both modes and win over the file (Docker and the CLI set these). */
const ENV_OVERRIDES = {
  mcp: {
    host: 'MCP_HOST',
    port: 'MCP_PORT',
    transport: 'MCP_TRANSPORT',
    stateful: 'MCP_STATEFUL',
    allowed_hosts: 'MCP_ALLOWED_HOSTS',
    allowed_origins: 'MCP_ALLOWED_ORIGINS',
    tool_allowlist: 'MCP_TOOL_ALLOWLIST',
    tool_denylist: 'MCP_TOOL_DENYLIST',
    dns_rebinding_protection: 'MCP_DNS_REBINDING_PROTECTION',
  },
  jobs: { sqlite_path: 'PROXMOX_JOBS_SQLITE_PATH', database_url: 'PROXMOX_JOBS_DATABASE_URL' },
  http: {
    cors_origins: ['MCP_CORS_ORIGINS', 'MCPO_CORS_ALLOW_ORIGINS'],
    rate_limit_rpm: 'PROXMOX_RATE_LIMIT_RPM',
  },
} as const;

const ENV_API_KEYS = ['MCP_API_KEY', 'PROXMOX_API_KEY'] as const;
const ENV_ALLOW_NO_AUTH = ['PROXMOX_ALLOW_NO_AUTH', 'MCP_ALLOW_UNAUTHENTICATED_HTTP'] as const;

// ---- value vocabularies ----

const TRANSPORTS: Record<string, McpTransport> = {
  STDIO: 'STDIO',
  SSE: 'SSE',
  STREAMABLE: 'STREAMABLE',
  STREAMABLE_HTTP: 'STREAMABLE',
  'STREAMABLE-HTTP': 'STREAMABLE',
};
const LOG_LEVELS: Record<string, LogLevel> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  WARNING: 'warn',
  ERROR: 'error',
  CRITICAL: 'fatal',
  FATAL: 'fatal',
  SILENT: 'silent',
};
const POLICY_MODES: Record<string, CommandPolicyMode> = {
  DENY_ALL: 'deny_all',
  ALLOWLIST: 'allowlist',
  AUDIT_ONLY: 'audit_only',
};
const HIGH_RISK_MODES: Record<string, HighRiskMode> = {
  DISABLED: 'disabled',
  AUDIT_ONLY: 'audit_only',
  ENFORCE: 'enforce',
};
const SCOPES: Record<string, ApiKeyScope> = { READ: 'read', OPERATE: 'operate', ADMIN: 'admin' };

const PVE_USERID_RE = /^[^\s:/@!]+@[A-Za-z][A-Za-z0-9._-]+$/;
const PVE_TOKEN_NAME_RE = /^[A-Za-z][A-Za-z0-9._-]+$/;
/** Header-safe secret text: printable ASCII, no spaces (it ends up in an Authorization header). */
const SECRET_TEXT_RE = /^[\x21-\x7e]+$/;
const TOOL_NAME_RE = /^[a-z][a-z0-9_]{0,63}$/;
const API_KEY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;
const SSH_USER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const SSH_HOST_FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const TARGET_NAME_RE = new RegExp(TARGET_NAME_PATTERN);

const INSECURE_TLS =
  'Insecure TLS configuration blocked: set proxmox.verify_ssl=true. Only dev_mode=true can allow verify_ssl=false. ' +
  '(For a self-signed certificate, pin it with proxmox.fingerprint or trust its CA with proxmox.ca_file.)';
/** verify_ssl=false next to a pin or a CA: the two ask for opposite things, so the advice is to drop one. */
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

const TUNNEL_NOT_IMPLEMENTED =
  'the SSH API tunnel is not implemented by this server yet; open it yourself ' +
  '(ssh -N -L 8006:127.0.0.1:8006 root@<node>) and point proxmox.host/port at the local end, or set it to false';

/**
 * Builds the validated AppConfig from the config file (PROXMOX_MCP_CONFIG, else proxmox-config/config.json if it
 * exists) or, without a file, from PROXMOX_* variables. MCP_*, PROXMOX_JOBS_*, API key and CORS variables apply
 * in both modes. Throws ConfigError listing every problem found.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): AppConfig {
  const ctx: PathContext = { cwd: options.cwd ?? process.cwd(), home: env.HOME || homedir() };
  const located = locateConfigFile(env, ctx);
  const rewrite = options.rewriteFile ?? ((doc: Record<string, unknown>) => doc);
  const problems = new Problems();
  const config =
    located.kind === 'file'
      ? buildConfig(
          problems,
          env,
          ctx,
          fileSources(problems, env, rewrite(readConfigFile(located.path)), located.path),
        )
      : buildConfig(problems, env, ctx, envSources(env, located.note));
  if (problems.list.length > 0) throw new ConfigError(problems.scrubbed());
  return config;
}

// ---- finding and reading the file ----

type Located = { kind: 'file'; path: string } | { kind: 'env'; note: string };

function locateConfigFile(env: NodeJS.ProcessEnv, ctx: PathContext): Located {
  const named = env.PROXMOX_MCP_CONFIG;
  if (named === '') {
    return { kind: 'env', note: 'PROXMOX_MCP_CONFIG is empty, so settings come from environment variables' };
  }
  if (named !== undefined) {
    const path = expandPath(named, ctx);
    const reason = fileProblem(path);
    if (reason) {
      const shown = path === named ? JSON.stringify(named) : `${JSON.stringify(named)} (${path})`;
      throw new ConfigError([`PROXMOX_MCP_CONFIG: got ${shown}: ${reason}`]);
    }
    return { kind: 'file', path };
  }
  const fallback = expandPath(DEFAULT_CONFIG_FILE, ctx);
  const reason = fileProblem(fallback);
  if (reason === NO_SUCH_FILE) {
    return {
      kind: 'env',
      note: `PROXMOX_MCP_CONFIG is not set and ${fallback} does not exist, so settings come from environment variables`,
    };
  }
  if (reason) throw new ConfigError([`${fallback}: ${reason}`]);
  return { kind: 'file', path: fallback };
}

const NO_SUCH_FILE = 'the file does not exist';

function fileProblem(path: string): string | undefined {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return 'not a regular file; expected a JSON config file';
    if (stat.size > 1024 * 1024) return 'larger than 1 MiB; expected a JSON config file';
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? NO_SUCH_FILE : `cannot be read (${code ?? 'error'})`;
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    throw new ConfigError([`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  const syntax = checkJsonSyntax(text);
  if (syntax.error) {
    const { line, column, reason } = syntax.error;
    throw new ConfigError([`${path}: not valid JSON at line ${line}, column ${column}: ${reason}`]);
  }
  const duplicates = syntax.duplicates.map(
    (d) => `${d.path}: duplicate key (line ${d.line}, column ${d.column}); JSON keeps only the last one`,
  );
  if (duplicates.length) throw new ConfigError(duplicates);
  const doc: unknown = JSON.parse(text);
  if (!isPlainObject(doc)) {
    const kind = Array.isArray(doc) ? 'an array' : doc === null ? 'null' : `a ${typeof doc}`;
    throw new ConfigError([
      `${path}: the top level is ${kind}; expected a JSON object with sections such as proxmox, auth, mcp`,
    ]);
  }
  return doc;
}

// ---- sources: the same sections, read from the file (+ overrides) or from the environment ----

interface TargetSource {
  name: string;
  proxmox: Section;
  auth: Section;
  readOnly?: Field;
  allowE2e?: Field;
  description?: Field;
  /** allow_node_commands / node_command_patterns for this target. */
  nodeCommands?: Section;
}

interface Sources {
  source: AppConfig['source'];
  targets: TargetSource[];
  /** Appended to "missing host/credentials" messages: where the loader looked. */
  missingNote: string;
  logging: Section;
  mcp: Section;
  http: Section;
  security: Section;
  jobs: Section;
  commandPolicy: Section;
  audit: Section;
  downloads: Section;
  metrics: Section;
  ssh?: Section;
  apiTunnel?: Section;
  apiTunnelEnabledEnv?: Field;
}

function fileSources(
  problems: Problems,
  env: NodeJS.ProcessEnv,
  doc: Record<string, unknown>,
  path: string,
): Sources {
  for (const key of Object.keys(doc)) {
    if (!(SECTIONS as readonly string[]).includes(key)) {
      problems.add(key, `unknown section; allowed: ${SECTIONS.join(', ')}`);
    }
  }
  const section = (key: string, keys: readonly string[]) => fileSection(problems, doc[key], key, keys);
  const ssh = present(doc.ssh) ? overlay(section('ssh', SSH_KEYS), env, ENV_NODE_COMMANDS) : undefined;
  return {
    source: { kind: 'file', path },
    targets: fileTargets(problems, doc, env, ssh),
    missingNote: ` (config file ${path})`,
    logging: section('logging', LOGGING_KEYS),
    mcp: overlay(section('mcp', MCP_KEYS), env, ENV_OVERRIDES.mcp),
    http: overlay(section('http', HTTP_KEYS), env, ENV_OVERRIDES.http),
    security: section('security', SECURITY_KEYS),
    jobs: overlay(section('jobs', JOBS_KEYS), env, ENV_OVERRIDES.jobs),
    commandPolicy: section('command_policy', POLICY_KEYS),
    audit: section('audit', AUDIT_KEYS),
    downloads: overlay(section('downloads', DOWNLOADS_KEYS), env, ENV_DOWNLOADS),
    metrics: overlay(section('metrics', METRICS_KEYS), env, ENV_METRICS),
    ssh,
    apiTunnel: present(doc.api_tunnel) ? section('api_tunnel', API_TUNNEL_KEYS) : undefined,
  };
}

const present = (v: unknown): boolean => v !== undefined && v !== null;

/** `targets: {name: {...}}`, or the legacy top-level proxmox/auth as the target `default`. */
function fileTargets(
  problems: Problems,
  doc: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  ssh: Section | undefined,
): TargetSource[] {
  if (!present(doc.targets)) {
    return [
      {
        name: 'default',
        proxmox: fileSection(problems, doc.proxmox, 'proxmox', PROXMOX_KEYS),
        auth: fileSection(problems, doc.auth, 'auth', AUTH_KEYS),
        nodeCommands: ssh ?? envSection(env, ENV_NODE_COMMANDS),
      },
    ];
  }
  // with several targets, node commands are enabled per target: the shared ssh section and the variables
  // (which cannot name a target) would enable them everywhere at once
  for (const key of NODE_COMMAND_KEYS) {
    const field = ssh?.get(key) ?? envSection(env, ENV_NODE_COMMANDS).get(key);
    if (field.value !== undefined) {
      problems.add(
        field.label,
        `not allowed together with targets; set targets.<name>.ssh.${key} on each target that allows node commands`,
      );
    }
  }
  for (const key of ['proxmox', 'auth']) {
    if (present(doc[key])) {
      problems.add(key, `not allowed together with targets; move it into targets.<name>.${key}`);
    }
  }
  const targetsField: Field = { label: 'targets', value: doc.targets, fromEnv: false, secret: false };
  const expected = 'an object mapping target names to {"proxmox": {...}, "auth": {...}}';
  if (!isPlainObject(doc.targets)) {
    problems.bad(targetsField, expected);
    return [];
  }
  const entries = Object.entries(doc.targets);
  if (entries.length === 0) problems.bad(targetsField, `at least one target: ${expected}`);
  const targets: TargetSource[] = [];
  for (const [name, entry] of entries) {
    const label = `targets.${name}`;
    if (!TARGET_NAME_RE.test(name)) {
      problems.add(
        label,
        `target name ${JSON.stringify(name)} is not allowed; expected 1-63 of A-Z a-z 0-9 _ . - (not starting with _ . -)`,
      );
    }
    if (!isPlainObject(entry)) {
      problems.bad(
        { label, value: entry, fromEnv: false, secret: false },
        `an object with keys ${TARGET_KEYS.join(', ')}`,
      );
      continue;
    }
    const target = fileSection(problems, entry, label, TARGET_KEYS);
    targets.push({
      name,
      proxmox: fileSection(problems, entry.proxmox, `${label}.proxmox`, PROXMOX_KEYS),
      auth: fileSection(problems, entry.auth, `${label}.auth`, AUTH_KEYS),
      readOnly: target.get('read_only'),
      allowE2e: target.get('allow_e2e'),
      description: target.get('description'),
      nodeCommands: fileSection(problems, entry.ssh, `${label}.ssh`, NODE_COMMAND_KEYS),
    });
  }
  return targets;
}

function envSources(env: NodeJS.ProcessEnv, note: string): Sources {
  const logLevel = envField(env, 'LOG_LEVEL');
  // An unexpanded template such as ${LOG_LEVEL} (an MCP client config copied verbatim) means "not set".
  const logging: Section = {
    get: (key) =>
      key === 'level' && !textOf(logLevel.value).startsWith('${')
        ? logLevel
        : { label: key, value: undefined, fromEnv: true, secret: false },
  };
  return {
    source: { kind: 'env' },
    targets: [
      {
        name: 'default',
        proxmox: envSection(env, ENV_ONLY.proxmox),
        auth: envSection(env, ENV_ONLY.auth),
        nodeCommands: envSection(env, ENV_NODE_COMMANDS),
      },
    ],
    missingNote: ` (${note})`,
    logging,
    mcp: envSection(env, ENV_OVERRIDES.mcp),
    http: envSection(env, ENV_OVERRIDES.http),
    security: envSection(env, ENV_ONLY.security),
    jobs: envSection(env, ENV_OVERRIDES.jobs),
    commandPolicy: envSection(env, ENV_ONLY.commandPolicy),
    audit: envSection(env, { retention_days: 'PROXMOX_AUDIT_RETENTION_DAYS' }),
    downloads: envSection(env, ENV_DOWNLOADS),
    metrics: envSection(env, ENV_METRICS),
    apiTunnelEnabledEnv: envField(env, 'PROXMOX_API_TUNNEL_ENABLED'),
  };
}

// ---- building the AppConfig ----

function buildConfig(problems: Problems, env: NodeJS.ProcessEnv, ctx: PathContext, src: Sources): AppConfig {
  const devMode = parseBoolean(problems, src.security.get('dev_mode'), false);
  // Where the loader looked is said once, with the first missing setting, not on every line.
  let told = false;
  const whereWeLooked = () => (told ? '' : ((told = true), src.missingNote));
  const targets = src.targets.map((t) => parseTarget(problems, t, devMode, ctx, whereWeLooked));
  const ssh = src.ssh ? parseSsh(problems, src.ssh, ctx) : undefined;
  src.targets.forEach((t, i) => {
    if (!ssh && targets[i].nodeCommands && t.nodeCommands) {
      problems.add(
        t.nodeCommands.get('allow_node_commands').label,
        'got true, but there is no ssh section: node commands run over SSH, so the config file needs ssh ' +
          '(user, key_file or password, host_key_fingerprints or known_hosts_file)',
      );
    }
  });
  checkApiTunnel(problems, src);
  return {
    source: src.source,
    targets,
    logging: parseLogging(problems, src.logging, ctx),
    mcp: parseMcp(problems, src.mcp),
    http: {
      apiKeys: parseApiKeys(
        problems,
        env,
        src.security.get('api_keys'),
        targets.map((t) => t.name),
      ),
      allowNoAuth: ENV_ALLOW_NO_AUTH.map((name) => parseBoolean(problems, envField(env, name), false)).some(
        Boolean,
      ),
      corsOrigins: parseOrigins(problems, src.http.get('cors_origins')),
      headersTimeoutMs: parseInteger(problems, src.http.get('headers_timeout_seconds'), 1, 300, 10) * 1000,
      requestTimeoutMs: parseInteger(problems, src.http.get('request_timeout_seconds'), 1, 3600, 60) * 1000,
      // tool calls per minute for each API key and each client address; 0 = off (the reference's default)
      rateLimitRpm: parseInteger(problems, src.http.get('rate_limit_rpm'), 0, 1_000_000, 0),
      authFailureLimit: parseInteger(problems, src.security.get('auth_failure_limit'), 1, 100_000, 20),
      authFailureWindowMs:
        parseInteger(problems, src.security.get('auth_failure_window_seconds'), 1, 86_400, 60) * 1000,
    },
    security: { devMode },
    jobs: parseJobs(problems, src.jobs, ctx),
    commandPolicy: parseCommandPolicy(problems, src.commandPolicy),
    audit: { retentionDays: parseInteger(problems, src.audit.get('retention_days'), 1, 36_500, 90) },
    downloads: {
      allowedHosts: parseList(problems, src.downloads.get('allowed_hosts'), [], {
        check: isAllowedHostEntry,
        expected:
          'a host name such as releases.ubuntu.com, or *.example.org for its subdomains (no scheme, port or path)',
        normalise: (s) => s.toLowerCase(),
      }),
    },
    metrics: { enabled: parseBoolean(problems, src.metrics.get('enabled'), true) },
    ...(ssh ? { ssh } : {}),
  };
}

function parseTarget(
  problems: Problems,
  src: TargetSource,
  devMode: boolean,
  ctx: PathContext,
  whereWeLooked: () => string,
): TargetConfig {
  const { proxmox, auth } = src;
  const readOnly = src.readOnly ? parseBoolean(problems, src.readOnly, false) : false;
  const allowE2e = src.allowE2e ? parseBoolean(problems, src.allowE2e, false) : false;
  const description = src.description
    ? parseString(problems, src.description, { expected: 'a text of 1-200 characters', maxLength: 200 })
    : undefined;
  const nodeCommands = src.nodeCommands ? parseNodeCommands(problems, src.nodeCommands) : undefined;

  const hostField = proxmox.get('host');
  let host = '';
  if (hostField.value === undefined) {
    problems.missing(
      hostField.label,
      `the Proxmox VE host name or IP address, e.g. pve.example.com${whereWeLooked()}`,
    );
  } else {
    host = (typeof hostField.value === 'string' && normaliseHost(hostField.value.trim())) || '';
    if (!host) {
      problems.bad(hostField, 'a host name or IP address without scheme, port or path, e.g. pve.example.com');
    }
  }
  const port = parseInteger(problems, proxmox.get('port'), 1, 65535, 8006);
  const timeoutSeconds = parseInteger(problems, proxmox.get('timeout'), 1, 600, 30);
  const inventoryCacheSeconds = parseInteger(problems, proxmox.get('inventory_cache_seconds'), 0, 60, 2);

  const verifyField = proxmox.get('verify_ssl');
  const verifySsl = parseBoolean(problems, verifyField, true);
  const pinField = proxmox.get('fingerprint');
  const caField = proxmox.get('ca_file');
  if (!verifySsl && !devMode) {
    // a fingerprint or CA file says "check this certificate"; verify_ssl=false says "check nothing"
    const trustField =
      pinField.value !== undefined ? pinField : caField.value !== undefined ? caField : undefined;
    problems.add(
      verifyField.label,
      trustField
        ? contradictoryTls(verifyField, trustField)
        : verifyField.fromEnv
          ? `${INSECURE_TLS} (Environment: PROXMOX_DEV_MODE=true.)`
          : INSECURE_TLS,
    );
  }
  const service = parseChoice(
    problems,
    proxmox.get('service'),
    { PVE: 'PVE' },
    'PVE',
    'PVE (the Proxmox VE API)',
  );

  const caFileField = caField;
  const caFile = parsePath(problems, caFileField, ctx, {
    mustBeReadable: true,
    expected: 'a readable PEM file with the CA certificate, e.g. a copy of /etc/pve/pve-root-ca.pem',
  });
  if (caFile && !holdsPemCertificate(caFile)) {
    problems.add(caFileField.label, `${caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  const fingerprint = parseCertFingerprint(problems, pinField);

  const user = required(problems, auth.get('user'), whereWeLooked, {
    missing: 'the user@realm that owns the API token, e.g. root@pam',
    expected: 'user@realm, e.g. root@pam',
    pattern: PVE_USERID_RE,
    hint: (v) => (v.includes('!') ? ' (without "!tokenname": put the part after "!" in the token name)' : ''),
  });
  const tokenName = required(problems, auth.get('token_name'), whereWeLooked, {
    missing: 'the API token ID, e.g. mcp (the part after "!" in root@pam!mcp)',
    expected: 'a token ID: a letter, then letters, digits, . _ - (2 characters or more)',
    pattern: PVE_TOKEN_NAME_RE,
  });
  const tokenValue = required(problems, auth.get('token_value', { secret: true }), whereWeLooked, {
    missing: 'the API token secret (shown once when the token is created)',
    expected: 'the API token secret: printable characters without spaces',
    pattern: SECRET_TEXT_RE,
  });

  return {
    name: src.name,
    ...(description ? { description } : {}),
    host,
    port,
    service,
    timeoutMs: timeoutSeconds * 1000,
    inventoryCacheMs: inventoryCacheSeconds * 1000,
    verifySsl,
    ...(caFile ? { caFile } : {}),
    ...(fingerprint ? { fingerprint } : {}),
    user,
    tokenName,
    tokenValue,
    readOnly,
    // only when set, so a target that does not allow the scenario suite looks as it always did
    ...(allowE2e ? { allowE2e } : {}),
    ...(nodeCommands ? { nodeCommands } : {}),
  };
}

/** `allow_node_commands` (default false) and its `node_command_patterns`: at least one when enabled. */
function parseNodeCommands(problems: Problems, section: Section): TargetConfig['nodeCommands'] {
  const enabledField = section.get('allow_node_commands');
  const patternsField = section.get('node_command_patterns');
  const enabled = parseBoolean(problems, enabledField, false);
  const allowPatterns = parsePatternList(problems, patternsField, []);
  if (!enabled) return undefined;
  if (patternsField.value === undefined || allowPatterns.length === 0) {
    problems.add(
      patternsField.label,
      `missing; ${enabledField.label} is true, so list the commands it allows: regular expressions that must ` +
        'match a whole command, e.g. ["pveversion", "qm list", "zpool status( -v)?"]',
    );
    return undefined;
  }
  return { allowPatterns };
}

function required(
  problems: Problems,
  field: Field,
  whereWeLooked: () => string,
  spec: { missing: string; expected: string; pattern: RegExp; hint?: (value: string) => string },
): string {
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
}

function parseCertFingerprint(problems: Problems, field: Field): string | undefined {
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

function parseLogging(problems: Problems, section: Section, ctx: PathContext): AppConfig['logging'] {
  const level = parseChoice(
    problems,
    section.get('level'),
    LOG_LEVELS,
    'info',
    'one of DEBUG, INFO, WARNING, ERROR, CRITICAL (or trace, fatal, silent)',
  );
  // `format` was a Python logging format string; logs are JSON now, so it is accepted and not used.
  parseString(problems, section.get('format'), { expected: 'a text' });
  const file = parsePath(problems, section.get('file'), ctx, { expected: 'a file path' });
  const logCommands = parseBoolean(problems, section.get('log_commands'), false);
  return { level, ...(file ? { file } : {}), logCommands };
}

function parseMcp(problems: Problems, section: Section): AppConfig['mcp'] {
  const hostField = section.get('host');
  let host = '127.0.0.1';
  if (hostField.value !== undefined) {
    const parsed = typeof hostField.value === 'string' ? normaliseHost(hostField.value.trim()) : undefined;
    if (parsed === undefined) {
      problems.bad(hostField, 'an address to listen on, e.g. 127.0.0.1, 0.0.0.0 or ::1');
    } else host = parsed;
  }
  const toolNames = { check: (s: string) => TOOL_NAME_RE.test(s), expected: 'a tool name such as get_vms' };
  const allowlistField = section.get('tool_allowlist');
  const denylistField = section.get('tool_denylist');
  const toolAllowlist = parseList(problems, allowlistField, [], toolNames);
  const toolDenylist = parseList(problems, denylistField, [], toolNames);
  if (toolAllowlist.length > 0 && toolDenylist.length > 0) {
    problems.add(
      `${allowlistField.label} and ${denylistField.label}`,
      'both are set; they are mutually exclusive: use an allowlist or a denylist',
    );
  }
  return {
    host,
    port: parseInteger(problems, section.get('port'), 0, 65535, 8000),
    transport: parseChoice(
      problems,
      section.get('transport'),
      TRANSPORTS,
      'STDIO',
      'one of STDIO, SSE, STREAMABLE (STREAMABLE_HTTP accepted)',
    ),
    stateful: parseBoolean(problems, section.get('stateful'), false),
    allowedHosts: parseList(problems, section.get('allowed_hosts'), [], {
      check: isHostHeaderValue,
      expected:
        'a host name as clients send it in the Host header, e.g. mcp.example.com or mcp.example.com:8000',
    }),
    allowedOrigins: parseOrigins(problems, section.get('allowed_origins')),
    toolAllowlist,
    toolDenylist,
    maxBodyBytes: parseInteger(problems, section.get('max_body_bytes'), 1024, 64 * 1024 * 1024, 1024 * 1024),
    dnsRebindingProtection: parseBoolean(problems, section.get('dns_rebinding_protection'), true),
  };
}

function parseOrigins(problems: Problems, field: Field): string[] {
  return parseList(problems, field, [], {
    check: (s) => normaliseOrigin(s) !== undefined,
    expected:
      "an origin such as https://app.example.com (scheme, host and optional port; no path). '*' is refused: any web " +
      'page could then call this server and the Origin check of /mcp would be off; list the origins that may call ' +
      '(e.g. MCPO_CORS_ALLOW_ORIGINS=https://app.example.com) or leave it unset when no browser page calls the server',
    normalise: (s) => normaliseOrigin(s)!,
  });
}

function parseApiKeys(
  problems: Problems,
  env: NodeJS.ProcessEnv,
  fileField: Field,
  targetNames: string[],
): ApiKeyConfig[] {
  const keys: ApiKeyConfig[] = [];
  for (const name of ENV_API_KEYS) {
    const secret = parseApiKeySecret(problems, envField(env, name, true));
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
      fileField.value.forEach((entry: unknown, i) => {
        const label = `${fileField.label}[${i}]`;
        if (!isPlainObject(entry)) {
          problems.bad(
            { label, value: entry, fromEnv: false, secret: false },
            'an object with name, key and scope',
          );
          return;
        }
        const item = fileSection(problems, entry, label, API_KEY_KEYS);
        const nameField = item.get('name');
        const keyField = item.get('key', { secret: true });
        const scopeField = item.get('scope');
        const name = parseString(problems, nameField, {
          expected: 'a short name for logs and audit: letters, digits, _ . : @ - (up to 64)',
          pattern: API_KEY_NAME_RE,
        });
        const secret = parseApiKeySecret(problems, keyField);
        const scope = parseChoice<ApiKeyScope | ''>(
          problems,
          scopeField,
          SCOPES,
          '',
          'one of read, operate, admin',
        );
        if (nameField.value === undefined) {
          problems.missing(nameField.label, 'a short name for logs and audit');
        }
        if (keyField.value === undefined) {
          problems.missing(keyField.label, `a random secret of ${MIN_API_KEY_LENGTH}+ characters`);
        }
        if (scopeField.value === undefined) problems.missing(scopeField.label, 'one of read, operate, admin');
        const targets = parseKeyLimit(problems, item.get('targets'), {
          check: (s) => targetNames.includes(s),
          expected: `a configured target name (${targetNames.join(', ') || 'none configured'})`,
        });
        // Tool names are checked against the registered tools at boot (ToolAccessService).
        const tools = parseKeyLimit(problems, item.get('tools'), {
          check: (s) => TOOL_NAME_RE.test(s),
          expected: 'a tool name such as get_vms',
        });
        if (name && secret && scope) {
          keys.push({ name, secret, scope, ...(targets ? { targets } : {}), ...(tools ? { tools } : {}) });
        }
      });
    }
  }
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
  return keys;
}

/** A per-key `targets`/`tools` limit: absent = no limit; an empty list is refused (it would allow nothing). */
function parseKeyLimit(
  problems: Problems,
  field: Field,
  item: { check: (s: string) => boolean; expected: string },
): string[] | undefined {
  if (field.value === undefined) return undefined;
  if (Array.isArray(field.value) && field.value.length === 0) {
    problems.bad(field, `at least one entry (${item.expected}); omit the key to allow all`);
    return undefined;
  }
  return [...new Set(parseList(problems, field, [], item))];
}

function parseApiKeySecret(problems: Problems, field: Field): string | undefined {
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

function parseJobs(problems: Problems, section: Section, ctx: PathContext): AppConfig['jobs'] {
  const pathField = section.get('sqlite_path');
  const sqlitePath =
    pathField.value === ':memory:'
      ? ':memory:'
      : (parsePath(problems, pathField, ctx, { expected: 'a file path for the SQLite job database' }) ??
        expandPath(DEFAULT_SQLITE_PATH, ctx));
  const urlField = section.get('database_url', { secret: true });
  problems.rememberSecret(urlField.value);
  let databaseUrl: string | undefined;
  if (urlField.value !== undefined) {
    let scheme: string | undefined;
    let hostname = '';
    try {
      const url = new URL(textOf(urlField.value));
      scheme = url.protocol;
      hostname = url.hostname;
    } catch {
      scheme = undefined;
    }
    if (
      typeof urlField.value !== 'string' ||
      (scheme !== 'postgres:' && scheme !== 'postgresql:') ||
      !hostname
    ) {
      const seen = scheme && scheme !== 'postgres:' && scheme !== 'postgresql:' ? ` (scheme ${scheme})` : '';
      problems.bad(urlField, `a postgres:// or postgresql:// URL with a host${seen}`);
    } else {
      databaseUrl = urlField.value;
    }
  }
  return {
    sqlitePath,
    ...(databaseUrl ? { databaseUrl } : {}),
    // 0 turns the background poller off (jobs then move only when polled, waited on or fetched with refresh)
    pollIntervalMs: parseInteger(problems, section.get('poll_interval_seconds'), 0, 3600, 2) * 1000,
    retentionDays: parseInteger(problems, section.get('retention_days'), 1, 36_500, 30),
    maxEventsPerJob: parseInteger(problems, section.get('max_events_per_job'), 10, 100_000, 200),
  };
}

function parseCommandPolicy(problems: Problems, section: Section): CommandPolicyConfig {
  const toolNames = { check: (s: string) => TOOL_NAME_RE.test(s), expected: 'a tool name such as delete_vm' };
  const approvalToken = parseString(problems, section.get('approval_token', { secret: true }), {
    expected: 'printable characters without spaces',
    pattern: SECRET_TEXT_RE,
  });
  const highRiskApprovalToken = parseString(
    problems,
    section.get('high_risk_approval_token', { secret: true }),
    {
      expected: 'printable characters without spaces',
      pattern: SECRET_TEXT_RE,
    },
  );
  const highRiskMode = parseChoice(
    problems,
    section.get('high_risk_mode'),
    HIGH_RISK_MODES,
    'enforce',
    'one of disabled, audit_only, enforce',
  );
  const requireField = section.get('high_risk_require_approval_token');
  const highRiskRequireApprovalToken = parseBoolean(problems, requireField, false);
  // both written by the operator (the reference's live example config does): honoured, not second-guessed
  const highRiskApprovalWaived =
    section.get('high_risk_mode').value !== undefined &&
    highRiskMode === 'enforce' &&
    requireField.value !== undefined &&
    !highRiskRequireApprovalToken;
  return {
    mode: parseChoice(
      problems,
      section.get('mode'),
      POLICY_MODES,
      'deny_all',
      'one of deny_all, allowlist, audit_only',
    ),
    allowPatterns: parsePatternList(problems, section.get('allow_patterns'), []),
    denyPatterns: parsePatternList(problems, section.get('deny_patterns'), DEFAULT_DENY_PATTERNS),
    requireApprovalToken: parseBoolean(problems, section.get('require_approval_token'), false),
    ...(approvalToken ? { approvalToken } : {}),
    highRiskMode,
    highRiskOperations: parseList(
      problems,
      section.get('high_risk_operations'),
      DEFAULT_HIGH_RISK_OPERATIONS,
      toolNames,
    ),
    highRiskRequireApprovalToken,
    ...(highRiskApprovalWaived ? { highRiskApprovalWaived } : {}),
    ...(highRiskApprovalToken ? { highRiskApprovalToken } : {}),
    allowShell: parseBoolean(problems, section.get('allow_shell'), false),
    execRequireApproval: parseBoolean(problems, section.get('exec_require_approval'), false),
    approvalTtlSeconds: parseInteger(problems, section.get('approval_ttl_seconds'), 30, 86400, 600),
  };
}

function parseSsh(problems: Problems, section: Section, ctx: PathContext): SshConfig {
  const password = parseString(problems, section.get('password', { secret: true }), { expected: 'a text' });
  const keyFile = parsePath(problems, section.get('key_file'), ctx, {
    mustBeReadable: true,
    expected:
      'a readable private key file, e.g. ~/.ssh/id_ed25519 (execute_container_command and update_container_ssh_keys ' +
      'log in with it); fix the path, or remove the ssh section if you do not use those two tools',
  });
  const keyPassphrase = parseString(problems, section.get('key_passphrase', { secret: true }), {
    expected: 'the passphrase of key_file',
  });
  const connectTimeoutField = section.get('connect_timeout');
  const connectTimeoutSeconds =
    connectTimeoutField.value === undefined
      ? undefined
      : parseInteger(problems, connectTimeoutField, 1, 300, 10);
  const knownHostsFile = parsePath(problems, section.get('known_hosts_file'), ctx, {
    mustBeReadable: true,
    expected: 'a readable known_hosts file (ssh-keyscan <node> > known_hosts)',
  });
  // Reference key: chose the OpenSSH binary over paramiko. This server always uses its own SSH client.
  parseBoolean(problems, section.get('prefer_ssh_client'), false);
  const nodeKey = { check: isNodeName, expected: 'a PVE node name' };
  return {
    user:
      parseString(problems, section.get('user'), {
        expected: 'a login name, e.g. root',
        pattern: SSH_USER_RE,
      }) ?? 'root',
    port: parseInteger(problems, section.get('port'), 1, 65535, 22),
    ...(keyFile ? { keyFile } : {}),
    ...(keyPassphrase ? { keyPassphrase } : {}),
    ...(password ? { password } : {}),
    hostOverrides: parseStringMap(problems, section.get('host_overrides'), nodeKey, {
      check: (s) => normaliseHost(s) !== undefined,
      expected: 'a host name or IP address to reach the node over SSH',
      normalise: (s) => normaliseHost(s)!,
    }),
    useSudo: parseBoolean(problems, section.get('use_sudo'), false),
    ...(knownHostsFile ? { knownHostsFile } : {}),
    strictHostKeyChecking: parseBoolean(problems, section.get('strict_host_key_checking'), true),
    hostKeyFingerprints: parseStringMap(problems, section.get('host_key_fingerprints'), nodeKey, {
      check: (s) => SSH_HOST_FINGERPRINT_RE.test(s),
      expected:
        'an OpenSSH host key fingerprint "SHA256:<43 base64 characters>" (ssh-keyscan <node> | ssh-keygen -lf -)',
      normalise: (s) => s.replace(/=$/, ''),
    }),
    ...(connectTimeoutSeconds !== undefined ? { connectTimeoutSeconds } : {}),
  };
}

/** `api_tunnel` is validated so reference configs load, but an enabled tunnel is refused: it is not built yet. */
function checkApiTunnel(problems: Problems, src: Sources): void {
  if (src.apiTunnelEnabledEnv && parseBoolean(problems, src.apiTunnelEnabledEnv, false)) {
    problems.add(
      src.apiTunnelEnabledEnv.label,
      `got "${textOf(src.apiTunnelEnabledEnv.value)}"; ${TUNNEL_NOT_IMPLEMENTED}`,
    );
  }
  const tunnel = src.apiTunnel;
  if (!tunnel) return;
  const enabledField = tunnel.get('enabled');
  if (parseBoolean(problems, enabledField, false)) {
    problems.add(enabledField.label, `got true; ${TUNNEL_NOT_IMPLEMENTED}`);
  }
  const sshHost = tunnel.get('ssh_host');
  if (sshHost.value === undefined) {
    problems.missing(sshHost.label, 'the SSH host that forwards to the API, e.g. pve1.example.com');
  }
  parseString(problems, sshHost, {
    expected: 'host or user@host',
    pattern: /^([a-z_][a-z0-9_.-]{0,31}@)?[^\s@/]+$/i,
  });
  for (const key of ['local_host', 'remote_host']) {
    const field = tunnel.get(key);
    if (
      field.value !== undefined &&
      (typeof field.value !== 'string' || normaliseHost(field.value) === undefined)
    ) {
      problems.bad(field, 'a host name or IP address');
    }
  }
  parseInteger(problems, tunnel.get('local_port'), 1, 65535, 8006);
  parseInteger(problems, tunnel.get('remote_port'), 1, 65535, 8006);
  parseInteger(problems, tunnel.get('connect_timeout'), 1, 600, 15);
}
