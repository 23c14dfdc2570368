import type { AppConfig } from '../config/app-config.js';
import { policyWarnings } from '../security/policy/policy-warnings.js';

const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/** Settings an operator should know are weakening the deployment (startup log and /health). */
export function securityWarnings(config: AppConfig): string[] {
  const warnings: string[] = [];
  // with auth.oauth, callers are authenticated by their tokens
  if (config.http.apiKeys.length === 0 && !config.oauth) {
    // the reference's two texts first (scripts and dashboards match them), then what it means here
    warnings.push(
      'OpenAPI proxy is running without PROXMOX_API_KEY.',
      'PROXMOX_ALLOW_NO_AUTH=true is set; OpenAPI proxy is running without an API key. HTTP callers are not authenticated (loopback bind only).',
    );
  }
  if (config.targets.some((t) => !t.verifySsl)) {
    warnings.push(
      'TLS verification toward Proxmox is disabled (security.dev_mode); do not use this in production.',
    );
  }
  if (!config.mcp.dnsRebindingProtection) {
    warnings.push(
      'MCP_DNS_REBINDING_PROTECTION is off: the Host and Origin headers of /mcp are not checked, so a web page can reach this server through DNS rebinding.',
    );
  }
  if (config.logging.logCommands) {
    warnings.push('logging.log_commands is on: command text is written to logs and audit events.');
  }
  if (
    config.mcp.dnsRebindingProtection &&
    WILDCARD.has(config.mcp.host) &&
    config.mcp.allowedHosts.length === 0
  ) {
    warnings.push(
      'Listening on all interfaces without mcp.allowed_hosts: the Host header of /mcp is not checked.',
    );
  }
  warnings.push(...policyWarnings(config.commandPolicy));
  return warnings;
}
