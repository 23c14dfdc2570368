import type { AppConfig } from '../config/app-config.js';

const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/** Settings an operator should know are weakening the deployment (startup log and /health). */
export function securityWarnings(config: AppConfig): string[] {
  const warnings: string[] = [];
  if (config.http.apiKeys.length === 0) {
    warnings.push(
      'PROXMOX_ALLOW_NO_AUTH=true is set: HTTP callers are not authenticated (loopback bind only).',
    );
  }
  if (config.targets.some((t) => !t.verifySsl)) {
    warnings.push(
      'TLS verification toward Proxmox is disabled (security.dev_mode); do not use this in production.',
    );
  }
  if (WILDCARD.has(config.mcp.host) && config.mcp.allowedHosts.length === 0) {
    warnings.push(
      'Listening on all interfaces without mcp.allowed_hosts: the Host header of /mcp is not checked.',
    );
  }
  return warnings;
}
