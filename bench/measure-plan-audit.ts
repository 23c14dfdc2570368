import { performance } from 'node:perf_hooks';
import { Client } from 'undici';
import { DataSource } from 'typeorm';
import { AuditChainStore, type ChainedInsert } from '../src/audit/audit-chain.store.js';
import { argsDigest } from '../src/audit/args-digest.js';
import { AuditService } from '../src/audit/audit.service.js';
import { PlanRecorder } from '../src/common/context/plan-recorder.js';
import { affectedBy, PlanDto } from '../src/common/plan/plan.dto.js';
import { planDigest } from '../src/security/plans/plan-digest.js';
import { PlanStore } from '../src/security/plans/plan.store.js';
import { BENCH_API_KEY } from './config.js';
import type { BenchContext } from './context.js';
import type { InProcessServer } from './in-process.js';
import { mcpHeaders, parseMcpResponse, toolsCallBody } from './mcp-wire.js';
import { median, p99 } from './stats.js';

/** Labels of the figures these measurements fill (declared by planSafety in measure-safety.ts). */
export interface PlanAuditLabels {
  dryRun: string;
  auditChain: string;
  auditPlain: string;
}

const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

/** One tools/call over Streamable HTTP; the tool's structuredContent, or an error naming the tool. */
async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const res = await client.request({
    method: 'POST',
    path: '/mcp',
    headers: mcpHeaders(BENCH_API_KEY),
    body: toolsCallBody(name, args),
  });
  const text = await res.body.text();
  const answer = parseMcpResponse(text);
  const result = answer.result as
    { isError?: boolean; structuredContent?: Record<string, unknown> } | undefined;
  if (res.statusCode !== 200 || !result || result.isError || !result.structuredContent) {
    throw new Error(`${name}: ${res.statusCode} ${text.slice(0, 300)}`);
  }
  return result.structuredContent;
}

/**
 * dry_run: the server-side cost a plan adds to a call, over the tool's own reads. Timed directly, per call, on
 * the server's own objects: recording the changes and checks of a real `start_vm` dry run (PlanRecorder, with
 * its redaction), building the PlanDto (affected objects), its SHA-256 plan digest, and the plan store write
 * (PlanStore.save: expired plans deleted, the plan upserted) on the server's SQLite file. Each call has its own
 * arguments, so every plan is a new row. For scale, the whole dry-run call over MCP is timed too (server
 * latency, and the part of it spent waiting for PVE's reads), and printed in the detail column.
 */
export async function measureDryRun(
  ctx: BenchContext,
  server: InProcessServer,
  calls: number,
  labels: PlanAuditLabels,
): Promise<void> {
  const client = new Client(new URL(server.server.url).origin);
  let template: PlanDto;
  let guest: { node: string; vmid: string };
  const whole: number[] = [];
  const reads: number[] = [];
  try {
    const listed = await callTool(client, 'get_vms', {});
    const vms = listed.vms as Array<{ vmid: number; node: string; status: string }>;
    const stopped = vms.find((v) => v.status === 'stopped');
    if (!stopped) throw new Error('dry run: the simulator has no stopped VM');
    guest = { node: stopped.node, vmid: String(stopped.vmid) };
    const args = { ...guest, dry_run: true };
    const warmup = Math.min(5, calls);
    let last: Record<string, unknown> = {};
    for (let i = 0; i < warmup + calls; i++) {
      server.invalidateCache?.();
      server.timer.reset();
      last = await callTool(client, 'start_vm', args);
      const sample = server.timer.samples.at(-1);
      if (i < warmup || !sample) continue;
      whole.push(sample.serverMs);
      reads.push(sample.upstreamMs);
    }
    if (last.would_succeed !== true || typeof last.plan_digest !== 'string') {
      throw new Error(`dry run: start_vm did not answer a plan that would succeed: ${JSON.stringify(last)}`);
    }
    template = last as unknown as PlanDto;
  } finally {
    await client.close();
  }

  const store = server.server.app.get(PlanStore);
  const samples: number[] = [];
  const warmup = Math.min(10, calls);
  for (let i = 0; i < warmup + calls; i++) {
    const args = { ...guest, bench_call: i };
    const t0 = performance.now();
    const recorder = new PlanRecorder();
    for (const r of template.requests) recorder.change(r.method, r.path, r.params);
    for (const c of template.checks) recorder.check(c.name, c.ok, c.detail);
    const plan = Object.assign(new PlanDto(), {
      tool: template.tool,
      target: template.target,
      requests: [...recorder.requests],
      affected: affectedBy(recorder.requests),
      checks: [...recorder.checks],
      warnings: [...recorder.warnings],
      would_succeed: true,
    });
    plan.plan_digest = planDigest({ ...plan, args });
    const expires = await store.save(plan, 'bench-agent');
    plan.expires_at = new Date(expires).toISOString();
    const t1 = performance.now();
    if (!(await store.get(plan.plan_digest))) throw new Error('dry run: the plan was not stored');
    if (i >= warmup) samples.push(t1 - t0);
  }
  ctx.report.set(labels.dryRun, {
    median: median(samples),
    p99: p99(samples),
    detail:
      `${samples.length} plans of a start_vm dry run (${template.requests.length} change(s), ` +
      `${template.checks.length} check(s)): recording + PlanDto + digest + plan store write, SQLite file; ` +
      `for scale, the whole dry-run call over MCP: server p50 ${fmt(median(whole))}, ` +
      `of which PVE reads p50 ${fmt(median(reads))} (${whole.length} calls)`,
  });
}

/** The better-sqlite3 handle under TypeORM (what AuditChainStore writes with). */
interface SqliteDb {
  prepare(sql: string): { get(...p: unknown[]): unknown; all(): unknown[]; run(...p: unknown[]): unknown };
  exec(sql: string): void;
}

const PLAIN_TABLE = 'bench_audit_unchained';

/**
 * The audit hash chain: one chained audit write (AuditService.record: redaction, then AuditChainStore.append, an
 * IMMEDIATE transaction that reads the head, hashes the row, inserts it and moves the head) on the server's
 * SQLite file, as shipped. Against it, the same row without the chain: one plain INSERT (autocommit) on the same
 * connection into a twin of audit_events (same columns and indexes, chain columns empty), so the chain itself
 * stays intact and is verified at the end. The detail also gives the chain step alone (append) for comparison.
 */
export async function measureAuditChain(
  ctx: BenchContext,
  server: InProcessServer,
  calls: number,
  labels: PlanAuditLabels,
): Promise<void> {
  const app = server.server.app;
  const audit = app.get(AuditService);
  const chain = app.get(AuditChainStore);
  const dataSource = app.get(DataSource);
  if (dataSource.options.type !== 'better-sqlite3') {
    throw new Error(`audit chain: expected SQLite, the server uses ${dataSource.options.type}`);
  }
  const db = (dataSource.driver as unknown as { databaseConnection: SqliteDb }).databaseConnection;
  createTwin(db);
  const plainInsert = db.prepare(
    `INSERT INTO ${PLAIN_TABLE} (at, actor, action, target, outcome, reason, args_digest, details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const headSeq = () =>
    Number((db.prepare('SELECT head_seq AS s FROM audit_chain WHERE id = 1').get() as { s: number }).s);

  const recorded: number[] = [];
  const appended: number[] = [];
  const plain: number[] = [];
  const warmup = Math.min(10, calls);
  const before = headSeq();
  for (let i = 0; i < warmup + calls; i++) {
    // a mutating call's row as the audit interceptor writes it: actor, tool, target, args digest, small details
    const args = { node: 'pve1', vmid: String(100 + (i % 800)), bench_call: i };
    const details = { via: 'mcp', job_id: `bench-${i}`, upid: `UPID:pve1:${i.toString(16)}:qmstart:` };
    const t0 = performance.now();
    await audit.record({
      actor: 'bench-agent',
      action: 'start_vm',
      target: 'default',
      outcome: 'succeeded',
      args_digest: argsDigest(args),
      details,
    });
    const t1 = performance.now();
    const row: ChainedInsert = {
      at: Date.now(),
      actor: 'bench-agent',
      action: 'start_vm',
      target: 'default',
      outcome: 'succeeded',
      reason: null,
      args_digest: argsDigest(args),
      details_json: JSON.stringify(details),
    };
    const t2 = performance.now();
    await chain.append(row);
    const t3 = performance.now();
    plainInsert.run(
      row.at,
      row.actor,
      row.action,
      row.target,
      row.outcome,
      row.reason,
      row.args_digest,
      row.details_json,
    );
    const t4 = performance.now();
    if (i < warmup) continue;
    recorded.push(t1 - t0);
    appended.push(t3 - t2);
    plain.push(t4 - t3);
  }
  // AuditService.record never fails a call (it logs a store error): only rows really chained count
  const chained = headSeq() - before;
  if (chained < 2 * (warmup + calls)) {
    throw new Error(`audit chain: ${chained} rows chained, expected ${2 * (warmup + calls)}`);
  }
  const verified = await audit.verify();
  if (!verified.ok) throw new Error(`audit chain: verify_audit_log failed: ${JSON.stringify(verified)}`);
  const delta = median(appended) - median(plain);
  const pragma = (name: string) => String(Object.values(db.prepare(`PRAGMA ${name}`).get() as object)[0]);
  const mode = `journal_mode ${pragma('journal_mode')}, synchronous ${pragma('synchronous')}`;
  ctx.report.set(labels.auditChain, {
    median: median(recorded),
    p99: p99(recorded),
    detail:
      `${recorded.length} rows, AuditService.record (redaction + chained insert), SQLite file; ` +
      `the chain step alone (AuditChainStore.append) p50 ${fmt(median(appended))} p99 ${fmt(p99(appended))}, ` +
      `${fmt(delta)} over the plain insert; chain verified (${verified.rows_checked} rows)`,
  });
  ctx.report.set(labels.auditPlain, {
    median: median(plain),
    p99: p99(plain),
    detail: `${plain.length} rows, the same row as one plain INSERT (autocommit), same connection and file (${mode})`,
  });
}

/** A copy of audit_events (columns and indexes, no rows) that no chain covers. */
function createTwin(db: SqliteDb): void {
  const rows = db
    .prepare("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'audit_events' AND sql IS NOT NULL")
    .all() as Array<{ type: string; name: string; sql: string }>;
  const table = rows.find((r) => r.type === 'table');
  if (!table) throw new Error('audit chain: no audit_events table');
  db.exec(`DROP TABLE IF EXISTS ${PLAIN_TABLE}`);
  db.exec(table.sql.replace(/audit_events/, PLAIN_TABLE));
  for (const index of rows.filter((r) => r.type === 'index')) {
    db.exec(
      index.sql
        .replace(/INDEX\s+("?)([A-Za-z0-9_]+)\1/i, (_m, q: string, n: string) => `INDEX ${q}bench_${n}${q}`)
        .replace(/ON\s+("?)audit_events\1/i, (_m, q: string) => `ON ${q}${PLAIN_TABLE}${q}`),
    );
  }
}
