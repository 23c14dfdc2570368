import { parseArgs } from 'node:util';
import { createApp } from '../../app.setup.js';
import { createLogger } from '../../common/logging/logger.js';
import { ConfigError, type AppConfig } from '../../config/app-config.js';
import { loadConfig } from '../../config/config.loader.js';
import { ToolRegistry } from '../../mcp/registry/tool-registry.js';
import { HIGH_RISK_WAIVED_WARNING } from '../../security/policy/policy-warnings.js';
import { ToolAccessService } from '../../security/tool-access.service.js';
import { buildReport, renderTable, type DoctorRow } from './report.js';
import { checkSsh } from './ssh-checks.js';
import { checkJobStore } from './store-checks.js';
import { checkTarget, messageOf, type EnabledTool } from './target-checks.js';

export const DOCTOR_USAGE = 'proxmox-mcp-plus doctor [--json]';

/**
 * `doctor`: checks a configuration end to end before (or beside) `serve` and prints one PASS/WARN/FAIL row per
 * finding, each non-pass with its fix: the config loads; every target answers over verified TLS with the token;
 * its PVE version; the token's privileges against what every enabled tool needs; SSH to every node (when the
 * container exec tools are configured); the job store. Same configuration sources as `serve`.
 *
 * Exit codes: 0 nothing failed (warnings alone included, the summary says so), 1 a check failed (a configuration
 * that does not load is a FAIL row, not a crash), 2 bad usage (unknown flag). No row ever contains a secret.
 */
export async function runDoctor(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: false,
  });
  const report = buildReport(await diagnose(env));
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderTable(report));
  return report.exit_code;
}

async function diagnose(env: NodeJS.ProcessEnv): Promise<DoctorRow[]> {
  let config: AppConfig;
  let tools: DoctorTool[];
  try {
    config = loadConfig(env);
    tools = await toolTable(config);
  } catch (error) {
    return [configFailure(error)];
  }
  const exposed = tools.filter((t) => t.exposed);
  const source = config.source.kind === 'file' ? `file ${config.source.path}` : 'environment variables';
  const rows: DoctorRow[] = [
    {
      check: 'config',
      status: 'pass',
      message: `loaded from ${source}: ${config.targets.length} target(s) (${config.targets.map((t) => t.name).join(', ')}), ${exposed.length} of ${tools.length} tools enabled`,
    },
  ];

  const waiver = approvalWaiverRow(config);
  if (waiver) rows.push(waiver);

  const perTarget = await Promise.all(
    config.targets.map(async (target) => {
      // what a caller can run on this target: exposed tools, and only read tools on a read-only target
      const enabled: EnabledTool[] = exposed.filter((t) => !target.readOnly || t.risk === 'read');
      const { rows: targetRows, client } = await checkTarget(target, enabled);
      if (!client) return targetRows;
      try {
        return [...targetRows, ...(await checkSsh(config, target, client))];
      } finally {
        await client.close();
      }
    }),
  );
  rows.push(...perTarget.flat(), await checkJobStore(config));
  return rows;
}

/** A registered tool, whether this configuration exposes it, and the privileges it declares (`@McpTool`). */
interface DoctorTool extends EnabledTool {
  exposed: boolean;
}

/**
 * The server's tool table, built the way `serve` builds it (so allow/deny lists are checked against the real
 * names, and each tool's privileges come from its own declaration), with nothing contacted: an in-memory job
 * store, no poller, no log output.
 */
async function toolTable(config: AppConfig): Promise<DoctorTool[]> {
  const bootConfig: AppConfig = {
    ...config,
    logging: { ...config.logging, level: 'silent', file: undefined },
    jobs: { sqlitePath: ':memory:', pollIntervalMs: 0 },
  };
  const { app } = await createApp(bootConfig, { logger: createLogger('silent') });
  try {
    const access = app.get(ToolAccessService);
    return app
      .get(ToolRegistry)
      .all()
      .map((t) => ({
        name: t.name,
        risk: t.risk,
        requirements: t.options.privileges,
        exposed: access.isExposed(t.name),
      }));
  } finally {
    await app.close();
  }
}

/** WARN when the operator turned the single-use approvals of high-risk tools off (the reference's meaning). */
function approvalWaiverRow(config: AppConfig): DoctorRow | undefined {
  const policy = config.commandPolicy;
  if (!policy.highRiskApprovalWaived || policy.highRiskMode !== 'enforce') return undefined;
  return {
    check: 'security',
    status: 'warn',
    message: HIGH_RISK_WAIVED_WARNING,
    fix: "Remove command_policy.high_risk_require_approval_token (or set it to true) so every high-risk call waits for an operator's single-use approval.",
  };
}

function configFailure(error: unknown): DoctorRow {
  if (error instanceof ConfigError) {
    return {
      check: 'config',
      status: 'fail',
      message: error.message,
      fix: 'Fix the keys named above; proxmox-config/README.md lists every key and environment variable.',
    };
  }
  return {
    check: 'config',
    status: 'fail',
    message: `The server cannot start with this configuration: ${messageOf(error)}`,
    fix: 'Fix the problem named above; proxmox-config/README.md lists every key and environment variable.',
  };
}
