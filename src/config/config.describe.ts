import type { AppConfig } from './app-config.js';
import {
  AUDIT,
  AUTH,
  COMMAND_POLICY,
  DOWNLOADS,
  FILES,
  HTTP,
  JOBS,
  LOGGING,
  MCP,
  METRICS,
  NODE_COMMANDS,
  PROXMOX,
  SAFETY,
  SECURITY,
  SSH,
  TARGET,
} from './config-schema.js';
import { describeSection } from './config-table.js';
import { defaultFilesConfig } from './file-policy.defaults.js';
import { safetyDefaults } from './safety.defaults.js';
import { describeOAuth } from './oauth-config.js';

/**
 * The effective configuration in the config file's own key names, safe to show (the field tables say how each
 * setting is shown): token values, API keys, passwords and approval tokens are replaced by "<redacted>", and the
 * password in a database URL too. Whether a secret is set stays visible, which is what an operator needs when
 * debugging.
 */
export function describeConfig(config: AppConfig): object {
  return {
    source: config.source,
    targets: config.targets.map((target) => ({
      name: target.name,
      ...describeSection(TARGET, target),
      proxmox: describeSection(PROXMOX, target),
      auth: describeSection(AUTH, target),
      ssh: describeSection(NODE_COMMANDS, target),
    })),
    logging: describeSection(LOGGING, config.logging),
    mcp: describeSection(MCP, config.mcp),
    http: describeSection(HTTP, config.http),
    security: describeSection(SECURITY, config.security),
    audit: describeSection(AUDIT, config.audit),
    downloads: describeSection(DOWNLOADS, config.downloads ?? { allowedHosts: [] }),
    metrics: describeSection(METRICS, config.metrics ?? { enabled: true }),
    safety: describeSection(SAFETY, config.safety ?? safetyDefaults()),
    jobs: describeSection(JOBS, config.jobs),
    command_policy: describeSection(COMMAND_POLICY, config.commandPolicy),
    files: describeSection(FILES, config.files ?? defaultFilesConfig()),
    ssh: config.ssh ? describeSection(SSH, config.ssh) : null,
    ...(config.oauth ? { auth: { oauth: describeOAuth(config.oauth) } } : {}),
  };
}
