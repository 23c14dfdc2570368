/**
 * The validated, typed configuration. `loadConfig()` (config.loader.ts) builds it once at boot from
 * proxmox-config/config.json (PROXMOX_MCP_CONFIG) or from the environment, using the reference project's keys.
 * Nothing else in the program reads process.env for settings. Every property here has its entry in a field table
 * of config-schema.ts (key, variable, parser): a property without one does not compile.
 */
import type { OAuthConfig } from './oauth-config.js';

export type McpTransport = 'STDIO' | 'STREAMABLE' | 'SSE';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type CommandPolicyMode = 'deny_all' | 'allowlist' | 'audit_only';
export type HighRiskMode = 'disabled' | 'audit_only' | 'enforce';
export type ApiKeyScope = 'read' | 'operate' | 'admin';

/** One Proxmox VE cluster (or standalone node) this server talks to. */
export interface TargetConfig {
  /** `default` for the legacy single-target layout; the key of `targets` otherwise. */
  name: string;
  description?: string;
  host: string;
  port: number;
  service: string;
  /** Per-call deadline toward PVE, from `proxmox.timeout` (seconds). */
  timeoutMs: number;
  /**
   * How long one /cluster/resources answer serves the inventory calls that follow, in ms
   * (`proxmox.inventory_cache_seconds`, default 2 s); 0 = no cache. Our own mutations drop it at once.
   */
  inventoryCacheMs: number;
  verifySsl: boolean;
  /** PEM file with the CA that signed the PVE certificate (e.g. /etc/pve/pve-root-ca.pem). */
  caFile?: string;
  /** Pinned SHA-256 fingerprint of the PVE leaf certificate, normalised to upper-case colon hex. */
  fingerprint?: string;
  user: string;
  tokenName: string;
  tokenValue: string;
  /** Mutating tools are refused on a read-only target. */
  readOnly: boolean;
  /**
   * `allow_e2e`: the end-to-end scenario suite (`npm run test:live`) may create, change and delete its own test
   * guests here. Absent (= false) on every target that does not say so; the server itself never reads it.
   */
  allowE2e?: boolean;
  /**
   * execute_node_command on this target's nodes (`ssh.allow_node_commands` + `ssh.node_command_patterns`, per
   * target). Absent = off. Every command must FULLY match one of `allowPatterns` (regex sources, case-sensitive).
   */
  nodeCommands?: { allowPatterns: string[] };
}

export interface ApiKeyConfig {
  name: string;
  secret: string;
  scope: ApiKeyScope;
  /** Only these targets (names); absent = every target. */
  targets?: string[];
  /** Only these tools (names), further narrowed by the scope; absent = every tool the scope allows. */
  tools?: string[];
  /** Only the tools of these toolsets, within the server's own selection; absent = every exposed toolset. */
  toolsets?: string[];
}

export interface SshConfig {
  user: string;
  port: number;
  keyFile?: string;
  /** `ssh.key_passphrase`: decrypts an encrypted key_file (a secret). */
  keyPassphrase?: string;
  password?: string;
  hostOverrides: Record<string, string>;
  useSudo: boolean;
  knownHostsFile?: string;
  strictHostKeyChecking: boolean;
  hostKeyFingerprints: Record<string, string>;
  /** `ssh.connect_timeout`: seconds for connect, key exchange and login (default 10 when absent). */
  connectTimeoutSeconds?: number;
}

export interface CommandPolicyConfig {
  mode: CommandPolicyMode;
  allowPatterns: string[];
  denyPatterns: string[];
  requireApprovalToken: boolean;
  approvalToken?: string;
  highRiskMode: HighRiskMode;
  highRiskOperations: string[];
  highRiskRequireApprovalToken: boolean;
  highRiskApprovalToken?: string;
  /**
   * The operator set both `high_risk_mode: enforce` and `high_risk_require_approval_token: false` explicitly (file
   * or environment): as in the reference, high-risk tools then run without any approval (loudly warned about).
   * Absent or false keeps single-use operator approvals, the default.
   */
  highRiskApprovalWaived?: boolean;
  /** `shell: true` on exec tools (sh -c) is refused unless this is on. */
  allowShell: boolean;
  /** Exec tools need a single-use operator approval, like destroy tools. */
  execRequireApproval: boolean;
  /** Lifetime of a pending approval request, and of an approval token from the moment it is granted. */
  approvalTtlSeconds: number;
  /**
   * Risks (power, mutate, destroy, exec) of gated calls the MCP user may approve in the client by elicitation
   * (command_policy.elicitation_approval_risks). Absent: power, mutate and exec; destroy needs a second key.
   */
  elicitationApprovalRisks?: string[];
  /**
   * Tools that take a safety snapshot of their guest before they change it even without `safety_snapshot: true`
   * (command_policy.safety_snapshot_default): risk names (destroy, exec, mutate) or tool names. Absent: none.
   */
  safetySnapshotDefault?: string[];
  /**
   * The command an operator runs on this host to approve, as APPROVAL_REQUIRED's hint names it. Not a config key:
   * the demo sets its own (`… approve --demo`); otherwise `proxmox-mcp-plus approve`.
   */
  approveCommand?: string;
}

/**
 * The `safety` section (src/security/safety): the kill switch and protected guests. Absent in a hand-built config =
 * the defaults (safetyDefaults() in src/config/safety.defaults.ts).
 */
export interface SafetyConfig {
  /** `safety.freeze`: every non-read tool is refused (FROZEN) while true. */
  freeze: boolean;
  /** `safety.freeze_reason`: shown to callers while `freeze` is on. */
  freezeReason?: string;
  /** `safety.freeze_file`: while this file exists every non-read tool is refused; its first line is the reason. */
  freezeFile: string;
  /** `safety.protected_tag`: guests carrying this PVE tag refuse destroy-level tools (PROTECTED). */
  protectedTag: string;
  /** `safety.protected_vmids`: guests protected by ID, whatever their tags. */
  protectedVmids: number[];
  /** `safety.protect_all_mutations`: protected guests refuse every non-read tool, not only destroy-level ones. */
  protectAllMutations: boolean;
}

/** The `files` section: what read_vm_file / write_vm_file may touch (globs) and how much they move. */
export interface FilesConfig {
  readAllowPaths: string[];
  readDenyPaths: string[];
  writeAllowPaths: string[];
  writeDenyPaths: string[];
  maxReadBytes: number;
  maxWriteBytes: number;
}

export interface AppConfig {
  /** Where the settings came from, for diagnostics (never includes secrets). */
  source: { kind: 'file' | 'env'; path?: string };
  targets: TargetConfig[];
  logging: {
    level: LogLevel;
    file?: string;
    /** `logging.log_commands`: command text of exec tools appears in logs and audit rows only when true. */
    logCommands: boolean;
  };
  mcp: {
    host: string;
    port: number;
    transport: McpTransport;
    /** Streamable HTTP sessions (MCP_STATEFUL); stateless by default. */
    stateful: boolean;
    /** Extra Host header values accepted on /mcp besides loopback names (e.g. the public hostname). */
    allowedHosts: string[];
    /** Origins accepted on /mcp; requests without Origin (non-browser clients) are not affected. */
    allowedOrigins: string[];
    toolAllowlist: string[];
    toolDenylist: string[];
    /** `mcp.toolsets` (MCP_TOOLSETS): only the tools of these sets (src/common/tools/toolsets.ts); [] = every set. */
    toolsets: string[];
    /** `mcp.tool_mode` (MCP_TOOL_MODE): `compact` lists only search_tools, describe_tool and call_tool over MCP. */
    toolMode: 'full' | 'compact';
    /** Host/Origin checks on /mcp (MCP_DNS_REBINDING_PROTECTION); off only when set explicitly. */
    dnsRebindingProtection: boolean;
    /** JSON body limit for every HTTP route, in bytes. */
    maxBodyBytes: number;
    /** HMAC key of MCP request state (mcp.request_state_secret); absent = a random key per process. */
    requestStateSecret?: string;
  };
  http: {
    /** API keys accepted on every HTTP route but /livez. */
    apiKeys: ApiKeyConfig[];
    /** PROXMOX_ALLOW_NO_AUTH=true: start without a key, but only on a loopback bind. */
    allowNoAuth: boolean;
    corsOrigins: string[];
    /** Tool calls per minute per API key and per client address (http.rate_limit_rpm, PROXMOX_RATE_LIMIT_RPM); 0 = off. */
    rateLimitRpm: number;
    /** Node's server.headersTimeout: a client must send all request headers within this (slowloris). */
    headersTimeoutMs: number;
    /** Node's server.requestTimeout: the whole request (headers and body) must arrive within this. */
    requestTimeoutMs: number;
    /** Failed API-key attempts per client address and window before further failures get 429. */
    authFailureLimit: number;
    authFailureWindowMs: number;
  };
  security: { devMode: boolean };
  jobs: {
    sqlitePath: string;
    databaseUrl?: string;
    /** Background poller period (jobs.poll_interval_seconds); 0 turns the poller off. Default 2000. */
    pollIntervalMs?: number;
    /** Finished jobs older than this are deleted (jobs.retention_days). Default 30. */
    retentionDays?: number;
    /** Audit events kept per job (jobs.max_events_per_job). Default 200. */
    maxEventsPerJob?: number;
  };
  commandPolicy: CommandPolicyConfig;
  /** Audit events (src/audit): rows older than retentionDays are pruned at start and hourly. */
  audit: { retentionDays: number };
  /**
   * download_iso / download_template (`downloads` section). allowedHosts: host names (or `*.example.org`) a download
   * URL may name; empty = any host whose addresses are all public. Optional so hand-built configs need not set it.
   */
  downloads?: { allowedHosts: string[] };
  /** read_vm_file / write_vm_file (`files` section); absent = the defaults (config/file-policy.defaults.ts). */
  files?: FilesConfig;
  /** GET /metrics and the recorders behind it (metrics.enabled, MCP_METRICS_ENABLED); absent = enabled. */
  metrics?: { enabled: boolean };
  /** The kill switch and protected guests (`safety` section); absent = safetyDefaults(). */
  safety?: SafetyConfig;
  /** Present only when the config has an `ssh` section (enables the SSH-backed container tools). */
  ssh?: SshConfig;
  /** `auth.oauth` (MCP_OAUTH_*): OAuth 2.1 resource server (src/security/oauth); absent = off. */
  oauth?: OAuthConfig;
}

/** Thrown by loadConfig: every problem names the key, the value seen and what is allowed. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Nest injection token for the AppConfig object. */
export const APP_CONFIG = Symbol('APP_CONFIG');
