import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { AuditEventEntity } from '../audit/audit-event.entity.js';
import { AuditChainStore } from '../audit/audit-chain.store.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { dataSourceOptions } from '../database/data-source.options.js';
import { openDatabase } from '../database/database-bootstrap.js';
import { ApprovalsService, viewOf, type ApprovalView } from '../security/approvals/approvals.service.js';
import { PolicyAudit } from '../security/approvals/policy-audit.js';
import { UsageError } from './cli-errors.js';

export const APPROVE_USAGE = `proxmox-mcp-plus approve <request-id> [--json]   approve one request; prints its single-use token once
proxmox-mcp-plus approve --list [--json]          the requests waiting for approval
  --demo   use the running demo's job store instead of the server configuration`;

/**
 * `approve`: the operator's side of the approval flow, on the server host. Opens the server's database from the
 * same configuration (jobs.sqlite_path / jobs.database_url), grants the request and prints the token once.
 * Exit codes: 0 approved/listed, 1 unknown, already approved or expired request, 2 bad usage or configuration.
 */
export async function runApprove(config: AppConfig, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      list: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      // read by the CLI, which then passes the demo's configuration
      demo: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.list ? positionals.length !== 0 : positionals.length !== 1) {
    throw new UsageError(`approve takes one request id, or --list\n${APPROVE_USAGE}`);
  }
  const id = positionals[0];
  if (!values.list && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw new UsageError(`approve: "${id}" is not a request id (a UUID from the APPROVAL_REQUIRED answer)`);
  }
  const { jobs } = config;
  if (!jobs.databaseUrl) {
    // the server's own file, never a new empty one: approving into another database would silently do nothing
    if (jobs.sqlitePath === ':memory:' || jobs.sqlitePath === '') {
      throw new UsageError(
        'approve needs the server database, but jobs.sqlite_path is :memory: (it lives only inside the server)',
      );
    }
    if (!existsSync(jobs.sqlitePath)) {
      throw new UsageError(
        `approve: no database at ${jobs.sqlitePath}; run it with the server's configuration (PROXMOX_MCP_CONFIG / PROXMOX_JOBS_SQLITE_PATH)`,
      );
    }
  }

  const dataSource = await openDatabase(dataSourceOptions(jobs));
  try {
    const audit = new PolicyAudit(
      new AuditService(dataSource.getRepository(AuditEventEntity), config, new AuditChainStore(dataSource)),
    );
    const approvals = new ApprovalsService(dataSource, config, audit);
    if (values.list) {
      const views = (await approvals.store.pending()).map((a) => viewOf(a, Date.now()));
      process.stdout.write(values.json ? `${JSON.stringify(views)}\n` : listText(views, values.demo));
      return 0;
    }
    const before = await approvals.describe(id).catch(() => undefined);
    try {
      const granted = await approvals.approve(id, `cli:${userInfo().username}`);
      if (values.json) {
        process.stdout.write(`${JSON.stringify(granted)}\n`);
      } else {
        process.stdout.write(
          `${before ? requestText(before) : ''}Approved. Single-use token, shown only now, valid until ${granted.expires_at}:\n` +
            `${granted.approval_token}\n` +
            `Give it to the caller (${granted.requested_by}); they repeat exactly the same call with approval_token set to it.\n`,
        );
      }
      return 0;
    } catch (error) {
      if (error instanceof DomainError) {
        process.stderr.write(`${error.message}${error.hint ? `\n${error.hint}` : ''}\n`);
        return 1;
      }
      throw error;
    }
  } finally {
    await dataSource.destroy();
  }
}

function requestText(v: ApprovalView): string {
  return (
    `Request ${v.request_id} (${v.status})\n` +
    `  tool:         ${v.tool}\n` +
    `  target:       ${v.target || '-'}\n` +
    `  arguments:    ${JSON.stringify(v.arguments)}\n` +
    `  requested by: ${v.requested_by} at ${v.created_at}\n` +
    `  why:          ${v.reason}\n`
  );
}

function listText(views: ApprovalView[], demo: boolean): string {
  if (!views.length) return 'No approval requests are waiting.\n';
  const command = `proxmox-mcp-plus approve${demo ? ' --demo' : ''}`;
  return views.map((v) => `${requestText(v)}  approve with: ${command} ${v.request_id}\n`).join('\n');
}
