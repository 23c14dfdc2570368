import { redactValue } from '../redaction/redactor.js';

/** One change a planned call would have sent (a PVE request, an SSH command, a row of our own database). */
export interface PlannedRequest {
  method: string;
  path: string;
  params?: Record<string, unknown>;
}

/** A read-only check a planned call made, with its outcome; `facts` are what the outcome was decided on. */
export interface PlanCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * What a call in plan mode (`dry_run: true`) did instead of changing anything: the changes it would have made, in
 * order, and the read-only checks it ran. Lives in the call context (CallContext.plan); the layers that change
 * things (ProxmoxClient, JobsService, SshExecutor) record here instead of acting.
 */
export class PlanRecorder {
  readonly requests: PlannedRequest[] = [];
  readonly checks: PlanCheck[] = [];
  readonly warnings: string[] = [];
  /** Jobs a planned call 'started' (never stored), so a wait on one returns at once. */
  readonly jobs = new Map<string, unknown>();
  private upids = 0;

  /** A change that would have been sent; parameters with secrets are redacted. */
  change(method: string, path: string, params?: Record<string, unknown>): void {
    const kept = params ? dropUndefined(params) : undefined;
    this.requests.push({
      method,
      path,
      ...(kept && Object.keys(kept).length ? { params: redactValue(kept) } : {}),
    });
  }

  /** A named check with its outcome (one per name: a repeated check keeps its latest outcome). */
  check(name: string, ok: boolean, detail: string): void {
    const existing = this.checks.find((c) => c.name === name && c.detail === detail);
    if (!existing) this.checks.push({ name, ok, detail });
  }

  warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  /** A well-formed placeholder UPID for a planned task (node taken from the path), never a real one. */
  placeholderUpid(path: string): string {
    const node = /^\/nodes\/([a-zA-Z0-9-]+)\//.exec(path)?.[1] ?? 'planned';
    const n = (++this.upids).toString(16).toUpperCase().padStart(8, '0');
    return `UPID:${node}:${n}:00000000:00000000:dryrun::planned@pve:`;
  }
}

/** Thrown by planned(): the call reached a change of our own database, and the plan is complete. */
export class PlanStop extends Error {
  constructor(readonly change: PlannedRequest) {
    super('plan complete');
  }
}

function dropUndefined(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = v;
  return out;
}
