import type { JsonSchema } from '../tools/tool-definition.js';
import type { PlanCheck, PlannedRequest } from '../context/plan-recorder.js';

/** An object a plan would change, derived from a request path (e.g. `vm` 100 on node pve1). */
export interface PlanAffected {
  kind: string;
  id: string;
  node?: string;
}

/**
 * The answer of a dry run (`dry_run: true`): what the call would do, what it checked, and whether it would
 * succeed. A class so transports recognise it (instanceof) and render it with planText().
 */
export class PlanDto {
  /** Always true: tells a plan apart from the tool's normal answer. */
  dry_run = true as const;
  tool!: string;
  target!: string;
  requests!: PlannedRequest[];
  affected!: PlanAffected[];
  checks!: PlanCheck[];
  warnings!: string[];
  would_succeed!: boolean;
  error?: { code: string; message: string; hint?: string };
  /** SHA-256 over tool, target, arguments, requests and check outcomes; pass it as `plan_digest` to run this plan. */
  plan_digest!: string;
  /** When the stored plan stops being accepted as `plan_digest` (ISO 8601). */
  expires_at?: string;
}

const str = { type: 'string' } as const;

/** The JSON schema of PlanDto, offered next to a tool's own output schema (anyOf) on every tool with dry_run. */
export const PLAN_OUTPUT_SCHEMA: JsonSchema = Object.freeze({
  type: 'object',
  description: 'The plan of a dry run (dry_run: true): nothing was changed.',
  properties: {
    dry_run: { type: 'boolean', const: true },
    tool: str,
    target: str,
    requests: {
      type: 'array',
      items: {
        type: 'object',
        properties: { method: str, path: str, params: { type: 'object' } },
        required: ['method', 'path'],
      },
    },
    affected: {
      type: 'array',
      items: { type: 'object', properties: { kind: str, id: str, node: str }, required: ['kind', 'id'] },
    },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: str, ok: { type: 'boolean' }, detail: str },
        required: ['name', 'ok', 'detail'],
      },
    },
    warnings: { type: 'array', items: str },
    would_succeed: { type: 'boolean' },
    error: {
      type: 'object',
      properties: { code: str, message: str, hint: str },
      required: ['code', 'message'],
    },
    plan_digest: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    expires_at: str,
  },
  required: [
    'dry_run',
    'tool',
    'target',
    'requests',
    'affected',
    'checks',
    'warnings',
    'would_succeed',
    'plan_digest',
  ],
});

/** A tool's output schema that also admits its plan: `{type: object, anyOf: [own, plan]}` (MCP needs type object). */
export function withPlanOutput(own: JsonSchema): JsonSchema {
  return { type: 'object', anyOf: [own, PLAN_OUTPUT_SCHEMA] };
}

/** The objects the requests would change, from their paths (PVE's own URL scheme). */
export function affectedBy(requests: readonly PlannedRequest[]): PlanAffected[] {
  const out: PlanAffected[] = [];
  const add = (a: PlanAffected) => {
    if (!out.some((o) => o.kind === a.kind && o.id === a.id && o.node === a.node)) out.push(a);
  };
  for (const r of requests) {
    const path = r.path.replace(/^server:/, '');
    const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
    const node = seg[0] === 'nodes' ? seg[1] : undefined;
    const at = (i: number) => seg[i] ?? '';
    if (seg[0] === 'nodes' && (at(2) === 'qemu' || at(2) === 'lxc')) {
      const kind = at(2) === 'qemu' ? 'vm' : 'container';
      const vmid = at(3) || param(r, 'vmid');
      if (vmid) add({ kind, id: vmid, node });
      if (at(4) === 'snapshot' && at(5)) add({ kind: 'snapshot', id: `${vmid}/${at(5)}`, node });
      if (at(4) === 'firewall') add({ kind: 'firewall', id: `${kind} ${vmid}`, node });
      if (at(4) === 'move_disk' || at(4) === 'resize' || at(4) === 'move_volume')
        add({ kind: 'disk', id: `${vmid}/${param(r, 'disk') || param(r, 'volume')}`, node });
      if (at(4) === 'migrate' && typeof r.params?.target === 'string')
        add({ kind: 'node', id: r.params.target });
    } else if (seg[0] === 'nodes' && at(2) === 'storage' && at(4) === 'content') {
      add({ kind: 'volume', id: at(5) || `${at(3)}:`, node });
    } else if (seg[0] === 'nodes' && at(2) === 'tasks') {
      add({ kind: 'task', id: at(3), node });
    } else if (seg[0] === 'nodes' && at(2) === 'vzdump') {
      add({ kind: 'backup', id: param(r, 'vmid') || 'all', node });
    } else if (seg[0] === 'nodes') {
      add({ kind: 'node', id: at(1) });
    } else if (seg[0] === 'cluster' && at(1) === 'ha' && at(2) === 'resources') {
      add({ kind: 'ha_resource', id: at(3) || param(r, 'sid') });
    } else if (seg[0] === 'cluster' && at(1) === 'backup') {
      add({ kind: 'backup_job', id: at(2) || param(r, 'id') });
    } else if (seg[0] === 'cluster' && at(1) === 'firewall') {
      add({ kind: 'firewall', id: seg.slice(2).join('/') || 'cluster' });
    } else if (seg[0] === 'pools') {
      add({ kind: 'pool', id: at(1) || param(r, 'poolid') });
    } else if (seg[0] === 'jobs') {
      add({ kind: 'job', id: at(1) });
    } else if (seg.length) {
      add({ kind: seg.slice(0, 2).join('/'), id: seg.slice(2).join('/') || seg[0] });
    }
  }
  return out;
}

/** A request parameter as text ('' when absent or not a scalar). */
function param(r: PlannedRequest, key: string): string {
  const value = r.params?.[key];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** The plan in a few lines, for MCP text content. */
export function planText(plan: PlanDto): string {
  const lines = [
    `Plan for ${plan.tool}${plan.target ? ` on ${plan.target}` : ''} (dry run, nothing changed): ` +
      (plan.would_succeed ? 'would succeed' : `would FAIL: ${plan.error?.code}: ${plan.error?.message}`),
  ];
  for (const r of plan.requests)
    lines.push(`  would send ${r.method} ${r.path}${r.params ? ` ${JSON.stringify(r.params)}` : ''}`);
  if (!plan.requests.length) lines.push('  would send nothing');
  for (const c of plan.checks) lines.push(`  check ${c.ok ? 'ok' : 'FAILED'}: ${c.name}: ${c.detail}`);
  for (const w of plan.warnings) lines.push(`  warning: ${w}`);
  lines.push(`Plan digest: ${plan.plan_digest} (pass it as plan_digest to run exactly this plan)`);
  return lines.join('\n');
}

/** What the audit log records of a dry run (it changed nothing): undefined for any other result. */
export function planAuditFacts(
  result: unknown,
): { reason: string; details: Record<string, unknown> } | undefined {
  if (!(result instanceof PlanDto)) return undefined;
  return {
    reason: 'dry run: planned, nothing changed',
    details: { dry_run: true, plan_digest: result.plan_digest, would_succeed: result.would_succeed },
  };
}
