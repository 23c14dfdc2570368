import { performance } from 'node:perf_hooks';
import { Client } from 'undici';
import { DomainError } from '../src/common/errors/domain-error.js';
import { approvalDigest } from '../src/security/approvals/approval-digest.js';
import { ApprovalsService } from '../src/security/approvals/approvals.service.js';
import { BENCH_API_KEY } from './config.js';
import { stopSim, type BenchContext } from './context.js';
import { startInProcessServer, type InProcessServer } from './in-process.js';
import { jsonRpc, mcpHeaders, parseMcpResponse } from './mcp-wire.js';
import { atMost, type Report } from './report.js';
import { SimHandle } from './sim-handle.js';
import { median, p99 } from './stats.js';

export const SAFETY = {
  approval: 'approval-gated call: request + approve + consume, server-side',
  request: 'approval: request (digest, store, audit, APPROVAL_REQUIRED)',
  approve: 'approval: approve (token, store, audit)',
  consume: 'approval: consume the single-use token (lookup, store, audit)',
  dryRun: 'dry_run plan: per-call cost over the same call without it',
  auditChain: 'audit hash chain: per-row cost of the chained write',
};

/** What this build offers for the lines whose features other work adds (issue 17). */
export const NOT_IN_BUILD = 'not measured: feature not in this build';
export const HOOK_PENDING = 'not measured: feature present, its measurement is still a placeholder';

const AT_MOST_1MS = () => atMost(1, 'p50 ≤ 1 ms');

export function planSafety(report: Report): void {
  report.plan({ section: 7, label: SAFETY.approval, unit: 'ms', target: AT_MOST_1MS() });
  report.plan({ section: 7, label: SAFETY.request, unit: 'ms' });
  report.plan({ section: 7, label: SAFETY.approve, unit: 'ms' });
  report.plan({ section: 7, label: SAFETY.consume, unit: 'ms' });
  report.plan({ section: 7, label: SAFETY.dryRun, unit: 'ms', target: AT_MOST_1MS() });
  report.plan({ section: 7, label: SAFETY.auditChain, unit: 'ms', target: AT_MOST_1MS() });
}

/**
 * (7) The per-call cost of the safety machinery, server-side, in a server in this process (SQLite job and
 * approval store in memory, as the in-process servers of (1) and (3)):
 * - approval: for each call, what the approval path of one gated call adds: the call's digest and its
 *   APPROVAL_REQUIRED refusal with a stored, audited request (ApprovalsService.refuse), an operator's approval
 *   (approve: token, store, audit), and the retried call's consumption of the token (consume). Each call has its
 *   own arguments, so every request is a new one. The PVE work of the call itself is not included.
 * - dry_run plans and the audit hash chain: hooks (measureDryRun, measureAuditChain) that say "not in this
 *   build" while tools/list does not offer the feature; they are to be filled in when the features land.
 */
export async function measureSafety(ctx: BenchContext): Promise<void> {
  const calls = ctx.sizes.safety.calls;
  ctx.progress(`(7) safety features, per call (${calls} approval-gated calls)`);
  const sim = await SimHandle.start({ nodes: 3, guests: 12 }, ctx.schemaPath);
  let server: InProcessServer | undefined;
  try {
    server = await startInProcessServer(sim);
    await measureApproval(ctx, server, calls);
    const tools = await listToolSchemas(server.server.url);
    await measureDryRun(ctx, server, tools);
    await measureAuditChain(ctx, server, tools);
  } finally {
    await server?.close();
    await stopSim(ctx, sim);
  }
}

async function measureApproval(ctx: BenchContext, server: InProcessServer, calls: number): Promise<void> {
  const approvals = server.server.app.get(ApprovalsService);
  const total: number[] = [];
  const phases = { request: [] as number[], approve: [] as number[], consume: [] as number[] };
  const warmup = Math.min(10, calls);
  for (let i = 0; i < warmup + calls; i++) {
    const args = { node: 'pve1', vmid: String(100 + (i % 800)), purge: true, bench_call: i };
    const call = { tool: 'delete_vm', target: 'default', args, caller: 'bench-agent' };
    const t0 = performance.now();
    const digest = approvalDigest(call);
    let requestId: string | undefined;
    try {
      await approvals.refuse({
        ...call,
        digest,
        code: 'OP_POLICY_APPROVAL_REQUIRED',
        message: 'delete_vm needs an approval',
        reason: 'delete_vm is high-risk (destroy)',
        risk: 'destroy',
      });
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'APPROVAL_REQUIRED') throw error;
      requestId = String(error.details?.request_id);
    }
    const t1 = performance.now();
    const granted = await approvals.approve(String(requestId), 'bench-operator');
    const t2 = performance.now();
    const outcome = await approvals.consume(granted.approval_token, { ...call, digest });
    const t3 = performance.now();
    if (!outcome.ok) throw new Error(`the approval token was refused: ${outcome.failure}`);
    if (i < warmup) continue;
    phases.request.push(t1 - t0);
    phases.approve.push(t2 - t1);
    phases.consume.push(t3 - t2);
    total.push(t3 - t0);
  }
  const stat = (samples: number[], detail?: string) => ({
    median: median(samples),
    p99: p99(samples),
    detail: detail ?? `${samples.length} calls`,
  });
  ctx.report.set(
    SAFETY.approval,
    stat(
      total,
      `${total.length} calls, each its own request; ApprovalsService in a server in this process, ` +
        'SQLite in memory; the gated call itself not included',
    ),
  );
  ctx.report.set(SAFETY.request, stat(phases.request));
  ctx.report.set(SAFETY.approve, stat(phases.approve));
  ctx.report.set(SAFETY.consume, stat(phases.consume));
}

/** A tools/list entry with its input schema. */
interface ListedTool {
  name: string;
  inputSchema?: { properties?: Record<string, unknown> };
  annotations?: { readOnlyHint?: boolean };
}

async function listToolSchemas(url: string): Promise<ListedTool[]> {
  const client = new Client(new URL(url).origin);
  try {
    const res = await client.request({
      method: 'POST',
      path: '/mcp',
      headers: mcpHeaders(BENCH_API_KEY),
      body: jsonRpc('tools/list', {}),
    });
    const answer = parseMcpResponse(await res.body.text());
    return answer.result?.tools ?? [];
  } finally {
    await client.close();
  }
}

/**
 * HOOK (issue 17, plans): the cost of `dry_run: true` on a mutating tool, e.g. start_vm on a stopped VM:
 * server latency with dry_run minus the read-only checks the call makes anyway, p50 over sizes.safety.calls.
 * Until then: "not in this build" when no tool takes dry_run, a placeholder note otherwise.
 */
async function measureDryRun(
  ctx: BenchContext,
  _server: InProcessServer,
  tools: ListedTool[],
): Promise<void> {
  const offered = tools.some((t) => t.inputSchema?.properties && 'dry_run' in t.inputSchema.properties);
  ctx.report.set(SAFETY.dryRun, { note: offered ? HOOK_PENDING : NOT_IN_BUILD });
}

/**
 * HOOK (issue 17, tamper-evident audit): the cost of chaining one audit row (reading the previous hash, hashing,
 * writing), e.g. PolicyAudit.record timed with the chain on against the same record without it.
 * Until then: "not in this build" when tools/list has no verify_audit_log, a placeholder note otherwise.
 */
async function measureAuditChain(
  ctx: BenchContext,
  _server: InProcessServer,
  tools: ListedTool[],
): Promise<void> {
  const offered = tools.some((t) => t.name === 'verify_audit_log');
  ctx.report.set(SAFETY.auditChain, { note: offered ? HOOK_PENDING : NOT_IN_BUILD });
}
