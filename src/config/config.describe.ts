import type { AppConfig } from './app-config.js';
import { REDACTED } from './config-fields.js';

/**
 * The effective configuration in the config file's own key names, safe to show (/health, list_targets, `doctor`):
 * token values, API keys, passwords and approval tokens are replaced by "<redacted>", and the password in a
 * database URL too. Whether a secret is set stays visible, which is what an operator needs when debugging.
 */
export function describeConfig(config: AppConfig): object {
  const secret = (value: string | undefined) => (value === undefined ? null : REDACTED);
  const { commandPolicy: policy, ssh } = config;
  return {
    source: config.source,
    targets: config.targets.map((t) => ({
      name: t.name,
      description: t.description ?? null,
      read_only: t.readOnly,
      allow_e2e: t.allowE2e ?? false,
      proxmox: {
        host: t.host,
        port: t.port,
        service: t.service,
        timeout: t.timeoutMs / 1000,
        inventory_cache_seconds: t.inventoryCacheMs / 1000,
        verify_ssl: t.verifySsl,
        ca_file: t.caFile ?? null,
        fingerprint: t.fingerprint ?? null,
      },
      auth: { user: t.user, token_name: t.tokenName, token_value: secret(t.tokenValue) },
      ssh: {
        allow_node_commands: t.nodeCommands !== undefined,
        node_command_patterns: t.nodeCommands?.allowPatterns ?? [],
      },
    })),
    logging: {
      level: config.logging.level,
      file: config.logging.file ?? null,
      log_commands: config.logging.logCommands,
    },
    mcp: {
      host: config.mcp.host,
      port: config.mcp.port,
      transport: config.mcp.transport,
      stateful: config.mcp.stateful,
      allowed_hosts: config.mcp.allowedHosts,
      allowed_origins: config.mcp.allowedOrigins,
      tool_allowlist: config.mcp.toolAllowlist,
      tool_denylist: config.mcp.toolDenylist,
      max_body_bytes: config.mcp.maxBodyBytes,
      dns_rebinding_protection: config.mcp.dnsRebindingProtection,
    },
    http: {
      api_keys: config.http.apiKeys.map((k) => ({
        name: k.name,
        scope: k.scope,
        key: REDACTED,
        ...(k.targets ? { targets: k.targets } : {}),
        ...(k.tools ? { tools: k.tools } : {}),
      })),
      allow_no_auth: config.http.allowNoAuth,
      cors_origins: config.http.corsOrigins,
      rate_limit_rpm: config.http.rateLimitRpm,
      headers_timeout_seconds: config.http.headersTimeoutMs / 1000,
      request_timeout_seconds: config.http.requestTimeoutMs / 1000,
    },
    security: {
      dev_mode: config.security.devMode,
      auth_failure_limit: config.http.authFailureLimit,
      auth_failure_window_seconds: config.http.authFailureWindowMs / 1000,
    },
    audit: { retention_days: config.audit.retentionDays },
    downloads: { allowed_hosts: config.downloads?.allowedHosts ?? [] },
    metrics: { enabled: config.metrics?.enabled ?? true },
    jobs: {
      sqlite_path: config.jobs.sqlitePath,
      database_url: config.jobs.databaseUrl === undefined ? null : redactUrl(config.jobs.databaseUrl),
      poll_interval_seconds: (config.jobs.pollIntervalMs ?? 2000) / 1000,
      retention_days: config.jobs.retentionDays ?? 30,
      max_events_per_job: config.jobs.maxEventsPerJob ?? 200,
    },
    command_policy: {
      mode: policy.mode,
      allow_patterns: policy.allowPatterns,
      deny_patterns: policy.denyPatterns,
      require_approval_token: policy.requireApprovalToken,
      approval_token: secret(policy.approvalToken),
      high_risk_mode: policy.highRiskMode,
      high_risk_operations: policy.highRiskOperations,
      high_risk_require_approval_token: policy.highRiskRequireApprovalToken,
      high_risk_approval_token: secret(policy.highRiskApprovalToken),
      allow_shell: policy.allowShell,
      exec_require_approval: policy.execRequireApproval,
      approval_ttl_seconds: policy.approvalTtlSeconds,
    },
    ssh: ssh
      ? {
          user: ssh.user,
          port: ssh.port,
          key_file: ssh.keyFile ?? null,
          key_passphrase: secret(ssh.keyPassphrase),
          password: secret(ssh.password),
          host_overrides: ssh.hostOverrides,
          use_sudo: ssh.useSudo,
          known_hosts_file: ssh.knownHostsFile ?? null,
          strict_host_key_checking: ssh.strictHostKeyChecking,
          host_key_fingerprints: ssh.hostKeyFingerprints,
          connect_timeout: ssh.connectTimeoutSeconds ?? 10,
        }
      : null,
  };
}

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
