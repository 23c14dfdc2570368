import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DomainError } from '../src/common/errors/domain-error.js';
import { approvalDigest } from '../src/security/approvals/approval-digest.js';
import { ApprovalsService } from '../src/security/approvals/approvals.service.js';
import { stopSim, type BenchContext } from './context.js';
import { startInProcessServer, type InProcessServer } from './in-process.js';
import { measureAuditChain, measureDryRun } from './measure-plan-audit.js';
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
  auditPlain: 'audit write without the chain (same row, plain insert)',
};

const AT_MOST_1MS = () => atMost(1, 'p50 ≤ 1 ms');

export function planSafety(report: Report): void {
  report.plan({ section: 7, label: SAFETY.approval, unit: 'ms', target: AT_MOST_1MS() });
  report.plan({ section: 7, label: SAFETY.request, unit: 'ms' });
  report.plan({ section: 7, label: SAFETY.approve, unit: 'ms' });
  report.plan({ section: 7, label: SAFETY.consume, unit: 'ms' });
  report.plan({ section: 7, label: SAFETY.dryRun, unit: 'ms', target: AT_MOST_1MS() });
  report.plan({ section: 7, label: SAFETY.auditChain, unit: 'ms', target: AT_MOST_1MS() });
  report.plan({ section: 7, label: SAFETY.auditPlain, unit: 'ms' });
}

/**
 * (7) The per-call cost of the safety machinery, server-side, in a server in this process (SQLite job and
 * approval store in memory, as the in-process servers of (1) and (3)):
 * - approval: for each call, what the approval path of one gated call adds: the call's digest and its
 *   APPROVAL_REQUIRED refusal with a stored, audited request (ApprovalsService.refuse), an operator's approval
 *   (approve: token, store, audit), and the retried call's consumption of the token (consume). Each call has its
 *   own arguments, so every request is a new one. The PVE work of the call itself is not included.
 * - dry_run plans and the audit hash chain (measure-plan-audit.ts), in a second server in this process whose
 *   store is a SQLite file, as shipped: what a plan adds over the call's own reads (recording, digest, plan
 *   store write), and one chained audit write against the same row written without the chain.
 */
export async function measureSafety(ctx: BenchContext): Promise<void> {
  const calls = ctx.sizes.safety.calls;
  ctx.progress(`(7) safety features, per call (${calls} approval-gated calls)`);
  const sim = await SimHandle.start({ nodes: 3, guests: 12 }, ctx.schemaPath);
  let server: InProcessServer | undefined;
  let fileServer: InProcessServer | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'pmp-bench-safety-'));
  try {
    server = await startInProcessServer(sim);
    await measureApproval(ctx, server, calls);
    await server.close();
    server = undefined;
    fileServer = await startInProcessServer(sim, { jobs: { sqlitePath: join(dir, 'bench-safety.sqlite3') } });
    ctx.progress(`(7) dry_run plans and chained audit writes, ${calls} each, SQLite file`);
    await measureDryRun(ctx, fileServer, calls, SAFETY);
    await measureAuditChain(ctx, fileServer, calls, SAFETY);
  } finally {
    await server?.close();
    await fileServer?.close();
    await stopSim(ctx, sim);
    rmSync(dir, { recursive: true, force: true });
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
