import { isNodeName } from '../common/validation/proxmox-formats.js';
import type {
  ApiKeyScope,
  AppConfig,
  CommandPolicyConfig,
  CommandPolicyMode,
  FilesConfig,
  HighRiskMode,
  SafetyConfig,
  LogLevel,
  McpTransport,
  SshConfig,
  TargetConfig,
} from './app-config.js';
import { DEFAULT_DENY_PATTERNS, DEFAULT_HIGH_RISK_OPERATIONS } from './command-policy.defaults.js';
import {
  DEFAULT_FILE_ALLOW_PATHS,
  DEFAULT_FILE_READ_BYTES,
  DEFAULT_FILE_READ_DENY_PATHS,
  DEFAULT_FILE_WRITE_DENY_PATHS,
  MAX_FILE_READ_BYTES,
  MAX_FILE_WRITE_BYTES,
} from './file-policy.defaults.js';
import {
  REDACTED,
  envField,
  expandPath,
  isHostHeaderValue,
  normaliseHost,
  parseBoolean,
  parseChoice,
  parseInteger,
  parseList,
  parsePath,
  parsePatternList,
  parseString,
  parseStringMap,
  splitCsv,
  textOf,
  type Field,
} from './config-fields.js';
import type { AnySectionSpec, ParseContext, SectionSpec } from './config-table.js';
import {
  SECRET_TEXT_RE,
  TOOL_NAME_RE,
  checkTlsTrust,
  parseApiKeySecret,
  parseApiKeys,
  parseCaFile,
  parseCertFingerprint,
  parseDatabaseUrl,
  parseKeyLimit,
  parseListenHost,
  parseOrigins,
  parsePveHost,
  parseSqlitePath,
  required,
  MIN_API_KEY_LENGTH,
  type ApiKeyEntry,
} from './config-values.js';
import { isAllowedHostEntry } from '../common/url-guard/url-guard.js';
import { TOOLSET_NAMES, isToolset } from '../common/tools/toolsets.js';
import { isVmid } from '../common/validation/proxmox-formats.js';
import { DEFAULT_FREEZE_FILE, DEFAULT_PROTECTED_TAG, PVE_TAG_RE } from './safety.defaults.js';

/**
 * Every setting, declared once: one table per config-file section, typed against AppConfig (app-config.ts), in
 * the reference project's key names and environment variables (docs/migrating.md). The loader, the environment
 * overlay, the allowed-key lists and describeConfig are read off these tables. A new setting is a property in
 * app-config.ts, its entry here and its row in proxmox-config/README.md (test/config/config-schema.test.ts
 * holds the table and the README together).
 */

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
const API_KEY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;
const SSH_USER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const SSH_HOST_FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

// ---- field makers for the common shapes ----

/** A parser that needs no other key of its section. */
type Parse<T> = (field: Field, ctx: ParseContext) => T;

const integer =
  (min: number, max: number, fallback: number): Parse<number> =>
  (field, { problems }) =>
    parseInteger(problems, field, min, max, fallback);

/** A setting written in seconds and kept in milliseconds. */
const seconds = (
  min: number,
  max: number,
  fallback: number,
): { parse: Parse<number>; show: (ms: number) => number } => ({
  parse: (field, ctx) => integer(min, max, fallback)(field, ctx) * 1000,
  show: (ms) => ms / 1000,
});

const flag =
  (fallback: boolean): Parse<boolean> =>
  (field, { problems }) =>
    parseBoolean(problems, field, fallback);

const choice =
  <T extends string>(aliases: Record<string, T>, fallback: T, expected: string): Parse<T> =>
  (field, { problems }) =>
    parseChoice(problems, field, aliases, fallback, expected);

const text =
  (options: { expected: string; pattern?: RegExp; maxLength?: number }): Parse<string | undefined> =>
  (field, { problems }) =>
    parseString(problems, field, options);

type ListItem = Parameters<typeof parseList>[3];

/** A JSON array in the file, comma-separated text in the environment. */
const list =
  (fallback: readonly string[], item?: ListItem): Parse<string[]> =>
  (field, { problems }) =>
    parseList(problems, field, fallback, item);

/** Regular expressions; from the environment a JSON array works too (regexes with commas). */
const patterns =
  (fallback: readonly string[]): Parse<string[]> =>
  (field, { problems }) =>
    parsePatternList(problems, field, fallback);

/** A path: `~` is HOME, relative to the working directory; with mustBeReadable, the file must exist now. */
const path =
  (options: { expected: string; mustBeReadable?: boolean }): Parse<string | undefined> =>
  (field, { problems, paths }) =>
    parsePath(problems, field, paths, options);

/** A JSON object mapping node names to checked strings. */
const byNode =
  (value: Parameters<typeof parseStringMap>[3]): Parse<Record<string, string>> =>
  (field, { problems }) =>
    parseStringMap(problems, field, { check: isNodeName, expected: 'a PVE node name' }, value);

const toolNames = (example: string) => ({
  check: (s: string) => TOOL_NAME_RE.test(s),
  expected: `a tool name such as ${example}`,
});

/** Risks whose approval the MCP user may give in the client; destroy-level calls need a second key by default. */
export const ELICITATION_APPROVAL_RISKS = ['power', 'mutate', 'destroy', 'exec'] as const;
const DEFAULT_ELICITATION_APPROVAL_RISKS = ['power', 'mutate', 'exec'];

/** A toolset name from the one list (src/common/tools/toolsets.ts); a wrong one names every allowed set. */
const toolsetNames = {
  check: isToolset,
  expected: `a toolset name, one of ${TOOLSET_NAMES.join(', ')}`,
};

const secretText = text({ expected: 'printable characters without spaces', pattern: SECRET_TEXT_RE });

// ---- targets: `proxmox`, `auth`, the target's own keys and its node commands ----

export const PROXMOX: SectionSpec<
  Pick<
    TargetConfig,
    'host' | 'port' | 'timeoutMs' | 'verifySsl' | 'service' | 'caFile' | 'fingerprint' | 'inventoryCacheMs'
  >
> = {
  name: 'proxmox',
  fields: {
    host: { key: 'host', env: 'PROXMOX_HOST', parse: parsePveHost },
    port: { key: 'port', env: 'PROXMOX_PORT', parse: integer(1, 65535, 8006) },
    timeoutMs: { key: 'timeout', env: 'PROXMOX_TIMEOUT', ...seconds(1, 600, 30) },
    verifySsl: { key: 'verify_ssl', env: 'PROXMOX_VERIFY_SSL', parse: flag(true) },
    service: {
      key: 'service',
      env: 'PROXMOX_SERVICE',
      parse: choice({ PVE: 'PVE' }, 'PVE', 'PVE (the Proxmox VE API)'),
    },
    caFile: { key: 'ca_file', env: 'PROXMOX_CA_FILE', parse: parseCaFile },
    fingerprint: { key: 'fingerprint', env: 'PROXMOX_FINGERPRINT', parse: parseCertFingerprint },
    inventoryCacheMs: {
      key: 'inventory_cache_seconds',
      env: 'PROXMOX_INVENTORY_CACHE_SECONDS',
      ...seconds(0, 60, 2),
    },
  },
  finish: (values, section, ctx) => {
    const fields = {
      verify: section.get('verify_ssl'),
      pin: section.get('fingerprint'),
      ca: section.get('ca_file'),
    };
    checkTlsTrust(values.verifySsl, fields, ctx);
  },
};

export const AUTH: SectionSpec<Pick<TargetConfig, 'user' | 'tokenName' | 'tokenValue'>> = {
  name: 'auth',
  fields: {
    user: {
      key: 'user',
      env: 'PROXMOX_USER',
      parse: required({
        missing: 'the user@realm that owns the API token, e.g. root@pam',
        expected: 'user@realm, e.g. root@pam',
        pattern: PVE_USERID_RE,
        hint: (v) =>
          v.includes('!') ? ' (without "!tokenname": put the part after "!" in the token name)' : '',
      }),
    },
    tokenName: {
      key: 'token_name',
      env: 'PROXMOX_TOKEN_NAME',
      parse: required({
        missing: 'the API token ID, e.g. mcp (the part after "!" in root@pam!mcp)',
        expected: 'a token ID: a letter, then letters, digits, . _ - (2 characters or more)',
        pattern: PVE_TOKEN_NAME_RE,
      }),
    },
    tokenValue: {
      key: 'token_value',
      env: 'PROXMOX_TOKEN_VALUE',
      secret: true,
      parse: required({
        missing: 'the API token secret (shown once when the token is created)',
        expected: 'the API token secret: printable characters without spaces',
        pattern: SECRET_TEXT_RE,
      }),
    },
  },
};

/** The keys of `targets.<name>` besides its proxmox, auth and ssh sections. */
export const TARGET: SectionSpec<Pick<TargetConfig, 'description' | 'readOnly' | 'allowE2e'>> = {
  name: 'targets',
  fields: {
    description: {
      key: 'description',
      parse: text({ expected: 'a text of 1-200 characters', maxLength: 200 }),
    },
    readOnly: { key: 'read_only', parse: flag(false) },
    // only when set, so a target that does not allow the scenario suite looks as it always did
    allowE2e: {
      key: 'allow_e2e',
      parse: (field, ctx) => flag(false)(field, ctx) || undefined,
      show: (value) => value ?? false,
    },
  },
  nested: ['proxmox', 'auth', 'ssh'],
};

/**
 * execute_node_command switches: in the top-level `ssh` (single target) or in `targets.<name>.ssh`.
 * `allow_node_commands` (default false) needs at least one of `node_command_patterns`.
 */
export const NODE_COMMANDS: SectionSpec<Pick<TargetConfig, 'nodeCommands'>> = {
  name: 'ssh',
  envOverFile: true,
  fields: {
    nodeCommands: {
      key: 'allow_node_commands',
      env: 'PROXMOX_SSH_ALLOW_NODE_COMMANDS',
      companions: { node_command_patterns: 'PROXMOX_SSH_NODE_COMMAND_PATTERNS' },
      parse: (enabledField, { problems }, section) => {
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
      },
      show: (value) => ({
        allow_node_commands: value !== undefined,
        node_command_patterns: value?.allowPatterns ?? [],
      }),
    },
  },
};

// ---- the server ----

export const LOGGING: SectionSpec<AppConfig['logging']> = {
  name: 'logging',
  fields: {
    level: {
      key: 'level',
      env: 'LOG_LEVEL',
      parse: (field, ctx) =>
        choice(
          LOG_LEVELS,
          'info',
          'one of DEBUG, INFO, WARNING, ERROR, CRITICAL (or trace, fatal, silent)',
        )(unexpandedTemplate(field) ? { ...field, value: undefined } : field, ctx),
    },
    file: { key: 'file', parse: path({ expected: 'a file path' }) },
    logCommands: { key: 'log_commands', parse: flag(false) },
  },
  // a Python logging format string in the reference; logs are JSON now, so it is accepted and not used
  ignored: { format: { before: 'file', check: text({ expected: 'a text' }) } },
};

/** An unexpanded template such as ${LOG_LEVEL} (an MCP client config copied verbatim) means "not set". */
const unexpandedTemplate = (field: Field): boolean => field.fromEnv && textOf(field.value).startsWith('${');

export const MCP: SectionSpec<AppConfig['mcp']> = {
  name: 'mcp',
  envOverFile: true,
  fields: {
    host: { key: 'host', env: 'MCP_HOST', parse: parseListenHost },
    port: { key: 'port', env: 'MCP_PORT', parse: integer(0, 65535, 8000) },
    transport: {
      key: 'transport',
      env: 'MCP_TRANSPORT',
      parse: choice(TRANSPORTS, 'STDIO', 'one of STDIO, SSE, STREAMABLE (STREAMABLE_HTTP accepted)'),
    },
    stateful: { key: 'stateful', env: 'MCP_STATEFUL', parse: flag(false) },
    allowedHosts: {
      key: 'allowed_hosts',
      env: 'MCP_ALLOWED_HOSTS',
      parse: list([], {
        check: isHostHeaderValue,
        expected:
          'a host name as clients send it in the Host header, e.g. mcp.example.com or mcp.example.com:8000',
      }),
    },
    allowedOrigins: { key: 'allowed_origins', env: 'MCP_ALLOWED_ORIGINS', parse: parseOrigins },
    toolAllowlist: {
      key: 'tool_allowlist',
      env: 'MCP_TOOL_ALLOWLIST',
      parse: list([], toolNames('get_vms')),
    },
    toolDenylist: { key: 'tool_denylist', env: 'MCP_TOOL_DENYLIST', parse: list([], toolNames('get_vms')) },
    toolsets: { key: 'toolsets', env: 'MCP_TOOLSETS', parse: list([], toolsetNames) },
    toolMode: {
      key: 'tool_mode',
      env: 'MCP_TOOL_MODE',
      parse: choice({ FULL: 'full', COMPACT: 'compact' }, 'full', 'one of full, compact'),
    },
    maxBodyBytes: { key: 'max_body_bytes', parse: integer(1024, 64 * 1024 * 1024, 1024 * 1024) },
    dnsRebindingProtection: {
      key: 'dns_rebinding_protection',
      env: 'MCP_DNS_REBINDING_PROTECTION',
      parse: flag(true),
    },
    // the HMAC key of MCP request state (elicitation approvals); every replica needs the same one
    requestStateSecret: {
      key: 'request_state_secret',
      env: 'MCP_REQUEST_STATE_SECRET',
      secret: true,
      parse: text({
        expected: 'at least 32 printable characters without spaces (e.g. openssl rand -hex 32)',
        pattern: /^[\x21-\x7e]{32,512}$/,
      }),
    },
  },
  finish: (values, section, { problems }) => {
    if (values.toolAllowlist.length > 0 && values.toolDenylist.length > 0) {
      problems.add(
        `${section.get('tool_allowlist').label} and ${section.get('tool_denylist').label}`,
        'both are set; they are mutually exclusive: use an allowlist or a denylist',
      );
    }
  },
};

/** One entry of `security.api_keys`. */
export const API_KEY: SectionSpec<ApiKeyEntry> = {
  name: 'api_keys',
  fields: {
    name: {
      key: 'name',
      parse: (field, ctx) => {
        const name = text({
          expected: 'a short name for logs and audit: letters, digits, _ . : @ - (up to 64)',
          pattern: API_KEY_NAME_RE,
        })(field, ctx);
        if (field.value === undefined) ctx.problems.missing(field.label, 'a short name for logs and audit');
        return name;
      },
    },
    secret: {
      key: 'key',
      secret: true,
      parse: (field, ctx) => {
        const secret = parseApiKeySecret(field, ctx);
        if (field.value === undefined) {
          ctx.problems.missing(field.label, `a random secret of ${MIN_API_KEY_LENGTH}+ characters`);
        }
        return secret;
      },
    },
    scope: {
      key: 'scope',
      parse: (field, { problems }) => {
        const scope = parseChoice<ApiKeyScope | ''>(
          problems,
          field,
          SCOPES,
          '',
          'one of read, operate, admin',
        );
        if (field.value === undefined) problems.missing(field.label, 'one of read, operate, admin');
        return scope || undefined;
      },
    },
    targets: {
      key: 'targets',
      parse: (field, ctx) =>
        parseKeyLimit(field, ctx, {
          check: (s) => ctx.targetNames.includes(s),
          expected: `a configured target name (${ctx.targetNames.join(', ') || 'none configured'})`,
        }),
    },
    // Tool names are checked against the registered tools at boot (ToolAccessService).
    tools: { key: 'tools', parse: (field, ctx) => parseKeyLimit(field, ctx, toolNames('get_vms')) },
    toolsets: { key: 'toolsets', parse: (field, ctx) => parseKeyLimit(field, ctx, toolsetNames) },
  },
};

export const HTTP: SectionSpec<AppConfig['http']> = {
  name: 'http',
  envOverFile: true,
  fields: {
    apiKeys: {
      key: 'security.api_keys',
      parse: (field, ctx) => parseApiKeys(field, ctx, API_KEY),
      show: (keys) =>
        keys.map((k) => ({
          name: k.name,
          scope: k.scope,
          key: REDACTED,
          ...(k.targets ? { targets: k.targets } : {}),
          ...(k.tools ? { tools: k.tools } : {}),
          ...(k.toolsets ? { toolsets: k.toolsets } : {}),
        })),
    },
    // start without a key, but only on a loopback bind; either variable, in every mode
    allowNoAuth: {
      shownAs: 'allow_no_auth',
      parse: (_field, { problems, env }) =>
        ['PROXMOX_ALLOW_NO_AUTH', 'MCP_ALLOW_UNAUTHENTICATED_HTTP']
          .map((name) => parseBoolean(problems, envField(env, name), false))
          .some(Boolean),
    },
    corsOrigins: {
      key: 'cors_origins',
      env: ['MCP_CORS_ORIGINS', 'MCPO_CORS_ALLOW_ORIGINS'],
      parse: parseOrigins,
    },
    headersTimeoutMs: { key: 'headers_timeout_seconds', ...seconds(1, 300, 10) },
    requestTimeoutMs: { key: 'request_timeout_seconds', ...seconds(1, 3600, 60) },
    // tool calls per minute for each API key and each client address; 0 = off (the reference's default)
    rateLimitRpm: { key: 'rate_limit_rpm', env: 'PROXMOX_RATE_LIMIT_RPM', parse: integer(0, 1_000_000, 0) },
    authFailureLimit: { key: 'security.auth_failure_limit', parse: integer(1, 100_000, 20) },
    authFailureWindowMs: { key: 'security.auth_failure_window_seconds', ...seconds(1, 86_400, 60) },
  },
};

export const SECURITY: SectionSpec<AppConfig['security']> = {
  name: 'security',
  fields: { devMode: { key: 'dev_mode', env: 'PROXMOX_DEV_MODE', parse: flag(false) } },
};

export const JOBS: SectionSpec<AppConfig['jobs']> = {
  name: 'jobs',
  envOverFile: true,
  fields: {
    sqlitePath: { key: 'sqlite_path', env: 'PROXMOX_JOBS_SQLITE_PATH', parse: parseSqlitePath },
    databaseUrl: {
      key: 'database_url',
      env: 'PROXMOX_JOBS_DATABASE_URL',
      secret: true,
      parse: parseDatabaseUrl,
      show: (url) => (url === undefined ? null : redactUrl(url)),
    },
    // 0 turns the background poller off (jobs then move only when polled, waited on or fetched with refresh)
    pollIntervalMs: {
      key: 'poll_interval_seconds',
      parse: seconds(0, 3600, 2).parse,
      show: (ms) => (ms ?? 2000) / 1000,
    },
    retentionDays: { key: 'retention_days', parse: integer(1, 36_500, 30), show: (days) => days ?? 30 },
    maxEventsPerJob: {
      key: 'max_events_per_job',
      parse: integer(10, 100_000, 200),
      show: (count) => count ?? 200,
    },
  },
};

export const COMMAND_POLICY: SectionSpec<CommandPolicyConfig, 'highRiskApprovalWaived' | 'approveCommand'> = {
  name: 'command_policy',
  fields: {
    mode: {
      key: 'mode',
      env: 'COMMAND_POLICY_MODE',
      parse: choice(POLICY_MODES, 'deny_all', 'one of deny_all, allowlist, audit_only'),
    },
    allowPatterns: { key: 'allow_patterns', env: 'COMMAND_POLICY_ALLOW_PATTERNS', parse: patterns([]) },
    denyPatterns: {
      key: 'deny_patterns',
      env: 'COMMAND_POLICY_DENY_PATTERNS',
      parse: patterns(DEFAULT_DENY_PATTERNS),
    },
    requireApprovalToken: {
      key: 'require_approval_token',
      env: 'COMMAND_POLICY_REQUIRE_APPROVAL_TOKEN',
      parse: flag(false),
    },
    approvalToken: {
      key: 'approval_token',
      env: 'COMMAND_POLICY_APPROVAL_TOKEN',
      secret: true,
      parse: secretText,
    },
    highRiskMode: {
      key: 'high_risk_mode',
      env: 'COMMAND_POLICY_HIGH_RISK_MODE',
      parse: choice(HIGH_RISK_MODES, 'enforce', 'one of disabled, audit_only, enforce'),
    },
    highRiskOperations: {
      key: 'high_risk_operations',
      env: 'COMMAND_POLICY_HIGH_RISK_OPERATIONS',
      parse: list(DEFAULT_HIGH_RISK_OPERATIONS, toolNames('delete_vm')),
    },
    highRiskRequireApprovalToken: {
      key: 'high_risk_require_approval_token',
      env: 'COMMAND_POLICY_HIGH_RISK_REQUIRE_APPROVAL_TOKEN',
      parse: flag(false),
    },
    highRiskApprovalToken: {
      key: 'high_risk_approval_token',
      env: 'COMMAND_POLICY_HIGH_RISK_APPROVAL_TOKEN',
      secret: true,
      parse: secretText,
    },
    allowShell: { key: 'allow_shell', env: 'COMMAND_POLICY_ALLOW_SHELL', parse: flag(false) },
    execRequireApproval: {
      key: 'exec_require_approval',
      env: 'COMMAND_POLICY_EXEC_REQUIRE_APPROVAL',
      parse: flag(false),
    },
    approvalTtlSeconds: {
      key: 'approval_ttl_seconds',
      env: 'COMMAND_POLICY_APPROVAL_TTL_SECONDS',
      parse: integer(30, 86400, 600),
    },
    // which gated calls the user may approve in the MCP client (elicitation); the others need a second key
    elicitationApprovalRisks: {
      key: 'elicitation_approval_risks',
      env: 'COMMAND_POLICY_ELICITATION_APPROVAL_RISKS',
      parse: list(DEFAULT_ELICITATION_APPROVAL_RISKS, {
        check: (risk: string) => (ELICITATION_APPROVAL_RISKS as readonly string[]).includes(risk),
        expected: `one of ${ELICITATION_APPROVAL_RISKS.join(', ')}`,
      }),
    },
    // the tools (by risk or name) that snapshot their guest first without being asked (safety_snapshot)
    safetySnapshotDefault: {
      key: 'safety_snapshot_default',
      env: 'COMMAND_POLICY_SAFETY_SNAPSHOT_DEFAULT',
      parse: list([], toolNames('rollback_snapshot')),
    },
  },
  // both written by the operator (the reference's live example config does): honoured, not second-guessed
  finish: (values, section) =>
    section.get('high_risk_mode').value !== undefined &&
    values.highRiskMode === 'enforce' &&
    section.get('high_risk_require_approval_token').value !== undefined &&
    !values.highRiskRequireApprovalToken
      ? { highRiskApprovalWaived: true }
      : {},
};

/** An absolute path glob: /… (POSIX guests) or X:/… / ?:/… (Windows guests, any drive with `?`). */
const pathGlobs = (fallback: readonly string[]) =>
  list(fallback, {
    check: (s: string) => /^(?:\/|[A-Za-z?]:[\\/])/.test(s) && ![...s].some((c) => c < ' '),
    expected: 'an absolute path glob such as /var/log/** or C:/Users/*/Documents/**',
  });

export const FILES: SectionSpec<FilesConfig> = {
  name: 'files',
  fields: {
    readAllowPaths: {
      key: 'read_allow_paths',
      env: 'FILES_READ_ALLOW_PATHS',
      parse: pathGlobs(DEFAULT_FILE_ALLOW_PATHS),
    },
    readDenyPaths: {
      key: 'read_deny_paths',
      env: 'FILES_READ_DENY_PATHS',
      parse: pathGlobs(DEFAULT_FILE_READ_DENY_PATHS),
    },
    writeAllowPaths: {
      key: 'write_allow_paths',
      env: 'FILES_WRITE_ALLOW_PATHS',
      parse: pathGlobs(DEFAULT_FILE_ALLOW_PATHS),
    },
    writeDenyPaths: {
      key: 'write_deny_paths',
      env: 'FILES_WRITE_DENY_PATHS',
      parse: pathGlobs(DEFAULT_FILE_WRITE_DENY_PATHS),
    },
    maxReadBytes: {
      key: 'max_read_bytes',
      env: 'FILES_MAX_READ_BYTES',
      parse: integer(1, MAX_FILE_READ_BYTES, DEFAULT_FILE_READ_BYTES),
    },
    maxWriteBytes: {
      key: 'max_write_bytes',
      env: 'FILES_MAX_WRITE_BYTES',
      parse: integer(1, MAX_FILE_WRITE_BYTES, MAX_FILE_WRITE_BYTES),
    },
  },
};

export const AUDIT: SectionSpec<AppConfig['audit']> = {
  name: 'audit',
  fields: {
    retentionDays: {
      key: 'retention_days',
      env: 'PROXMOX_AUDIT_RETENTION_DAYS',
      parse: integer(1, 36_500, 90),
    },
  },
};

export const DOWNLOADS: SectionSpec<NonNullable<AppConfig['downloads']>> = {
  name: 'downloads',
  envOverFile: true,
  fields: {
    allowedHosts: {
      key: 'allowed_hosts',
      env: 'PROXMOX_DOWNLOADS_ALLOWED_HOSTS',
      parse: list([], {
        check: isAllowedHostEntry,
        expected:
          'a host name such as releases.ubuntu.com, or *.example.org for its subdomains (no scheme, port or path)',
        normalise: (s) => s.toLowerCase(),
      }),
    },
  },
};

export const METRICS: SectionSpec<NonNullable<AppConfig['metrics']>> = {
  name: 'metrics',
  envOverFile: true,
  fields: { enabled: { key: 'enabled', env: 'MCP_METRICS_ENABLED', parse: flag(true) } },
};

export const SSH: SectionSpec<SshConfig> = {
  name: 'ssh',
  fields: {
    user: {
      key: 'user',
      parse: (field, ctx) =>
        text({ expected: 'a login name, e.g. root', pattern: SSH_USER_RE })(field, ctx) ?? 'root',
    },
    port: { key: 'port', parse: integer(1, 65535, 22) },
    keyFile: {
      key: 'key_file',
      parse: path({
        mustBeReadable: true,
        expected:
          'a readable private key file, e.g. ~/.ssh/id_ed25519 (execute_container_command and update_container_ssh_keys ' +
          'log in with it); fix the path, or remove the ssh section if you do not use those two tools',
      }),
    },
    keyPassphrase: {
      key: 'key_passphrase',
      secret: true,
      parse: text({ expected: 'the passphrase of key_file' }),
    },
    password: { key: 'password', secret: true, parse: text({ expected: 'a text' }) },
    hostOverrides: {
      key: 'host_overrides',
      parse: byNode({
        check: (s) => normaliseHost(s) !== undefined,
        expected: 'a host name or IP address to reach the node over SSH',
        normalise: (s) => normaliseHost(s)!,
      }),
    },
    useSudo: { key: 'use_sudo', parse: flag(false) },
    knownHostsFile: {
      key: 'known_hosts_file',
      parse: path({
        mustBeReadable: true,
        expected: 'a readable known_hosts file (ssh-keyscan <node> > known_hosts)',
      }),
    },
    strictHostKeyChecking: { key: 'strict_host_key_checking', parse: flag(true) },
    hostKeyFingerprints: {
      key: 'host_key_fingerprints',
      parse: byNode({
        check: (s) => SSH_HOST_FINGERPRINT_RE.test(s),
        expected:
          'an OpenSSH host key fingerprint "SHA256:<43 base64 characters>" (ssh-keyscan <node> | ssh-keygen -lf -)',
        normalise: (s) => s.replace(/=$/, ''),
      }),
    },
    connectTimeoutSeconds: {
      key: 'connect_timeout',
      parse: (field, ctx) => (field.value === undefined ? undefined : integer(1, 300, 10)(field, ctx)),
      show: (value) => value ?? 10,
    },
  },
  // the reference chose the OpenSSH binary over paramiko with it; this server always uses its own SSH client
  ignored: { prefer_ssh_client: { before: 'connect_timeout', check: flag(false) } },
};

// ---- safety: the kill switch and protected guests (src/security/safety) ----

/** Guest IDs: a JSON array of integers (or numeric strings) in the file, comma-separated in the environment. */
const vmidList: Parse<number[]> = (field, { problems }) => {
  if (field.value === undefined) return [];
  if (!field.fromEnv && !Array.isArray(field.value)) {
    problems.bad(field, 'a JSON array of guest IDs, e.g. [100, 101]');
    return [];
  }
  const items: unknown[] = Array.isArray(field.value) ? field.value : splitCsv(textOf(field.value));
  const out: number[] = [];
  items.forEach((value, i) => {
    const item = typeof value === 'string' ? value.trim() : value;
    if (isVmid(item)) out.push(Number(item));
    else {
      const label = field.fromEnv ? field.label : `${field.label}[${i}]`;
      problems.bad({ ...field, label, value }, 'a guest ID (100-999999999)');
    }
  });
  return [...new Set(out)];
};

export const SAFETY: SectionSpec<SafetyConfig> = {
  name: 'safety',
  envOverFile: true,
  fields: {
    freeze: { key: 'freeze', env: 'PROXMOX_SAFETY_FREEZE', parse: flag(false) },
    freezeReason: {
      key: 'freeze_reason',
      env: 'PROXMOX_SAFETY_FREEZE_REASON',
      parse: text({ expected: 'a short text shown to callers while frozen', maxLength: 500 }),
    },
    freezeFile: {
      key: 'freeze_file',
      env: 'PROXMOX_SAFETY_FREEZE_FILE',
      parse: (field, ctx) =>
        path({ expected: 'a file path whose presence freezes every change' })(field, ctx) ??
        expandPath(DEFAULT_FREEZE_FILE, ctx.paths),
    },
    protectedTag: {
      key: 'protected_tag',
      env: 'PROXMOX_SAFETY_PROTECTED_TAG',
      parse: (field, ctx) =>
        text({ expected: 'a PVE tag such as protected (letters, digits, _ - + .)', pattern: PVE_TAG_RE })(
          field,
          ctx,
        ) ?? DEFAULT_PROTECTED_TAG,
    },
    protectedVmids: { key: 'protected_vmids', env: 'PROXMOX_SAFETY_PROTECTED_VMIDS', parse: vmidList },
    protectAllMutations: {
      key: 'protect_all_mutations',
      env: 'PROXMOX_SAFETY_PROTECT_ALL_MUTATIONS',
      parse: flag(false),
    },
  },
};

/** `api_tunnel`, from the reference: validated so its configs load, but an enabled tunnel is refused. */
interface ApiTunnelSettings {
  enabled: boolean;
  sshHost: string | undefined;
  localHost: string | undefined;
  localPort: number;
  remoteHost: string | undefined;
  remotePort: number;
  connectTimeout: number;
}

const TUNNEL_NOT_IMPLEMENTED =
  'the SSH API tunnel is not implemented by this server yet; open it yourself ' +
  '(ssh -N -L 8006:127.0.0.1:8006 root@<node>) and point proxmox.host/port at the local end, or set it to false';

const tunnelHost: Parse<string | undefined> = (field, { problems }) => {
  if (field.value === undefined) return undefined;
  if (typeof field.value !== 'string' || normaliseHost(field.value) === undefined) {
    problems.bad(field, 'a host name or IP address');
    return undefined;
  }
  return field.value;
};

export const API_TUNNEL: SectionSpec<ApiTunnelSettings> = {
  name: 'api_tunnel',
  fields: {
    enabled: {
      key: 'enabled',
      env: 'PROXMOX_API_TUNNEL_ENABLED',
      parse: (field, { problems }) => {
        const enabled = parseBoolean(problems, field, false);
        if (enabled) {
          const seen = field.fromEnv ? `"${textOf(field.value)}"` : 'true';
          problems.add(field.label, `got ${seen}; ${TUNNEL_NOT_IMPLEMENTED}`);
        }
        return enabled;
      },
    },
    sshHost: {
      key: 'ssh_host',
      parse: (field, ctx) => {
        // without a config file only the switch exists (PROXMOX_API_TUNNEL_ENABLED)
        if (field.value === undefined && !field.fromEnv) {
          ctx.problems.missing(field.label, 'the SSH host that forwards to the API, e.g. pve1.example.com');
        }
        return text({ expected: 'host or user@host', pattern: /^([a-z_][a-z0-9_.-]{0,31}@)?[^\s@/]+$/i })(
          field,
          ctx,
        );
      },
    },
    localHost: { key: 'local_host', parse: tunnelHost },
    localPort: { key: 'local_port', parse: integer(1, 65535, 8006) },
    remoteHost: { key: 'remote_host', parse: tunnelHost },
    remotePort: { key: 'remote_port', parse: integer(1, 65535, 8006) },
    connectTimeout: { key: 'connect_timeout', parse: integer(1, 600, 15) },
  },
};

/** The top-level sections of the config file, in the order the "unknown section" message lists them. */
export const FILE_SECTIONS = [
  'proxmox',
  'auth',
  'logging',
  'mcp',
  'http',
  'security',
  'jobs',
  'command_policy',
  'files',
  'ssh',
  'api_tunnel',
  'targets',
  'audit',
  'downloads',
  'metrics',
  'safety',
] as const;

/** Every table, for the key lists and the environment variable maps. */
export const ALL_SECTIONS: readonly AnySectionSpec[] = [
  PROXMOX,
  AUTH,
  TARGET,
  LOGGING,
  MCP,
  HTTP,
  SECURITY,
  JOBS,
  COMMAND_POLICY,
  FILES,
  AUDIT,
  DOWNLOADS,
  METRICS,
  SAFETY,
  SSH,
  NODE_COMMANDS,
  API_TUNNEL,
];

/** Every TargetConfig property comes from one of the target tables; `name` is the key of `targets`. */
type TargetTableProps =
  | 'name'
  | keyof typeof PROXMOX.fields
  | keyof typeof AUTH.fields
  | keyof typeof TARGET.fields
  | keyof typeof NODE_COMMANDS.fields;
export const _targetTablesCoverTargetConfig: [keyof TargetConfig] extends [TargetTableProps]
  ? [TargetTableProps] extends [keyof TargetConfig]
    ? true
    : never
  : never = true;

/** `postgres://user:pw@host:5432/db?sslpassword=x` → `postgres://user:<redacted>@host:5432/db?<redacted>`. */
function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    const user = url.username ? `${url.username}${url.password ? `:${REDACTED}` : ''}@` : '';
    return `${url.protocol}//${user}${url.host}${url.pathname}${url.search ? `?${REDACTED}` : ''}`;
  } catch {
    return REDACTED;
  }
}
