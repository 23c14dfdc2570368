import { createHash } from 'node:crypto';
import { canonicalArguments } from '../approvals/approval-digest.js';
import type { PlanCheck, PlannedRequest } from '../../common/context/plan-recorder.js';

/** What a plan digest binds: the call and everything the plan found (requests in order, checks and outcomes). */
export interface PlanMaterial {
  tool: string;
  target: string;
  args: Record<string, unknown>;
  requests: readonly PlannedRequest[];
  checks: readonly PlanCheck[];
  would_succeed: boolean;
  error?: { code: string; message: string };
}

/** SHA-256 (hex) over the canonical plan; the same call against the same world gives the same digest. */
export function planDigest(plan: PlanMaterial): string {
  const material = JSON.stringify([
    'proxmox-mcp-plus/plan/v1',
    plan.tool,
    plan.target,
    canonicalArguments(plan.args),
    plan.requests.map((r) => [r.method, r.path, canonicalArguments(r.params ?? {})]),
    // the named checks: plain reads are shown but not bound (a cached read is not made twice)
    plan.checks.filter((c) => c.name !== 'read').map((c) => [c.name, c.ok, c.detail]),
    plan.would_succeed,
    plan.error ? [plan.error.code, plan.error.message] : null,
  ]);
  return createHash('sha256').update(material).digest('hex');
}

/** What differs between a stored plan and a new one, in words an operator reads. */
export function planChanges(
  before: Pick<PlanMaterial, 'requests' | 'checks' | 'would_succeed' | 'error'>,
  after: Pick<PlanMaterial, 'requests' | 'checks' | 'would_succeed' | 'error'>,
): string[] {
  const out: string[] = [];
  const checkKey = (c: PlanCheck) => `${c.name}: ${c.detail} (${c.ok ? 'ok' : 'failed'})`;
  const reqKey = (r: PlannedRequest) =>
    `${r.method} ${r.path} ${JSON.stringify(canonicalArguments(r.params ?? {}))}`;
  const named = (checks: readonly PlanCheck[]) => checks.filter((c) => c.name !== 'read');
  const was = new Set(named(before.checks).map(checkKey));
  const now = new Set(named(after.checks).map(checkKey));
  for (const c of named(before.checks)) if (!now.has(checkKey(c))) out.push(`check was: ${checkKey(c)}`);
  for (const c of named(after.checks)) if (!was.has(checkKey(c))) out.push(`check now: ${checkKey(c)}`);
  const wasR = new Set(before.requests.map(reqKey));
  const nowR = new Set(after.requests.map(reqKey));
  for (const r of before.requests)
    if (!nowR.has(reqKey(r))) out.push(`request no longer planned: ${reqKey(r)}`);
  for (const r of after.requests) if (!wasR.has(reqKey(r))) out.push(`request now planned: ${reqKey(r)}`);
  if (after.error && after.error.message !== before.error?.message)
    out.push(`now fails: ${after.error.code}: ${after.error.message}`);
  if (before.would_succeed !== after.would_succeed)
    out.push(`would ${after.would_succeed ? 'now succeed' : 'no longer succeed'}`);
  return out;
}
