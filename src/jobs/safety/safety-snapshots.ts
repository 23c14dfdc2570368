import type { PlanRecorder } from '../../common/context/plan-recorder.js';
import { currentPlan } from '../../common/plan/plan-mode.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type OnModuleInit,
} from '@nestjs/common';
import { map, Observable } from 'rxjs';
import { setFirstChangeHook } from '../../common/context/call-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../../common/tools/mcp-tool.decorator.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { JobsService } from '../jobs.service.js';
import { SAFETY_SNAPSHOT_ARG, SAFETY_SNAPSHOT_TOOLS, safetySnapshotName } from './safety-tools.js';

/** One call that wants a safety snapshot: which guest, and (once taken) its name. */
interface SafetyScope {
  tool: string;
  target?: string;
  node: string;
  vmid: number;
  type: 'qemu' | 'lxc' | 'auto';
  owner: SafetySnapshots;
  /** Settles once the snapshot is taken (or refused); every later checkpoint of the call awaits the same one. */
  taking?: Promise<void>;
  name?: string;
  /** Set inside the snapshot's own requests, whose checkpoints must not wait for themselves. */
  inside?: boolean;
}

const storage = new AsyncLocalStorage<SafetyScope>();

/** The first-change hook (call-context.ts): a call with a pending safety snapshot takes it now, once. */
async function atFirstChange(): Promise<void> {
  const scope = storage.getStore();
  if (!scope || scope.inside) return;
  scope.taking ??= storage.run({ ...scope, inside: true }, () => scope.owner.take(scope));
  await scope.taking;
}

type RequestLike = {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  safetySnapshotAsked?: boolean;
  /** A dry run's recorder (PlanGuard): the plan lists the snapshot it would take first. */
  plan?: PlanRecorder;
};

/**
 * `safety_snapshot` (SAFETY_SNAPSHOT_TOOLS): global interceptor and snapshot taker. The interceptor takes the
 * argument out of the call (before validation) and, when the call wants one (the argument, else
 * command_policy.safety_snapshot_default by tool name or risk), runs the handler in a safety scope. The snapshot is
 * taken at the call's first change (approvalCheckpoint, after its read-only checks and its approval) as a job that
 * is waited for; if it fails, the call is refused before anything else is sent. The result names it.
 */
@Injectable()
export class SafetySnapshots implements NestInterceptor, OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobsService,
    private readonly gateway: ProxmoxGateway,
  ) {}

  onModuleInit(): void {
    setFirstChangeHook(atFirstChange);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const tool = Reflect.getMetadata(MCP_TOOL_METADATA, context.getHandler()) as McpToolOptions | undefined;
    const spec =
      tool && Object.hasOwn(SAFETY_SNAPSHOT_TOOLS, tool.name) ? SAFETY_SNAPSHOT_TOOLS[tool.name] : undefined;
    if (!tool || !spec) return next.handle();
    const request = context.switchToHttp().getRequest<RequestLike>();
    const body =
      request.body && typeof request.body === 'object' && !Array.isArray(request.body)
        ? (request.body as Record<string, unknown>)
        : undefined;
    // kept on the request: a call bound to a plan (plan_digest) runs its handler twice, planned then for real
    let asked = request.safetySnapshotAsked;
    if (body && SAFETY_SNAPSHOT_ARG in body) {
      const value = body[SAFETY_SNAPSHOT_ARG];
      delete body[SAFETY_SNAPSHOT_ARG];
      if (value !== undefined && value !== null && typeof value !== 'boolean') {
        throw new DomainError('VALIDATION', `${SAFETY_SNAPSHOT_ARG}: must be a boolean (true or false)`);
      }
      asked = typeof value === 'boolean' ? value : undefined;
      request.safetySnapshotAsked = asked;
    }
    const defaults = this.config.commandPolicy.safetySnapshotDefault ?? [];
    const wanted = asked ?? (defaults.includes(tool.name) || defaults.includes(tool.risk));
    const args = { ...(request.params ?? {}), ...(request.query ?? {}), ...(body ?? {}) };
    if (!wanted || spec.applies?.(args) === false) return next.handle();
    const scope: SafetyScope = {
      tool: tool.name,
      ...(typeof args.target === 'string' ? { target: args.target } : {}),
      node: String(args.node),
      vmid: Number(args.vmid),
      type: spec.type(args),
      owner: this,
    };
    // a dry run, or the re-plan of a call bound to a plan_digest (PlanInterceptor, in the call context)
    const plan = currentPlan() ?? request.plan;
    if (plan) {
      // planned, not taken: the snapshot is the first change the real call would make
      plan.change(
        'POST',
        `/nodes/${scope.node}/${scope.type === 'lxc' ? 'lxc' : scope.type === 'qemu' ? 'qemu' : '{qemu|lxc}'}/${scope.vmid}/snapshot`,
        // the name carries the time it is taken: a placeholder, so the plan's digest stays the same
        { snapname: `safety-${tool.name}-<time of the call>` },
      );
      plan.warn(`a safety snapshot is taken first; if it fails, ${tool.name} is not run`);
      return next.handle();
    }
    const named = (result: unknown) =>
      scope.name && result && typeof result === 'object' && !Array.isArray(result)
        ? { ...result, [SAFETY_SNAPSHOT_ARG]: scope.name }
        : result;
    return new Observable((subscriber) =>
      storage.run(scope, () => next.handle().pipe(map(named)).subscribe(subscriber)),
    );
  }

  /** Takes the snapshot and waits for it; throws the call's refusal when it cannot be taken. */
  async take(scope: SafetyScope): Promise<void> {
    const { tool, node, vmid } = scope;
    let type = scope.type;
    if (type === 'auto') {
      const client = this.gateway.client(scope.target);
      const guests = await client.get<{ vmid?: number; type?: string }[]>('/cluster/resources', {
        type: 'vm',
      });
      const guest = guests.find((g) => Number(g.vmid) === vmid);
      if (!guest) return; // no guest to protect: the operation creates it
      type = guest.type === 'lxc' ? 'lxc' : 'qemu';
    }
    const name = safetySnapshotName(tool, new Date());
    const what = `${type === 'qemu' ? 'VM' : 'container'} ${vmid}`;
    const refuse = (why: string, cause?: unknown) =>
      new DomainError(
        'CONFLICT',
        `Safety snapshot '${name}' of ${what} failed: ${why}. ${tool} was not run; nothing else was sent.`,
        {
          hint: 'Fix the cause (a lock, a storage that cannot snapshot) or repeat the call with safety_snapshot: false.',
          details: { safety_snapshot: name },
          ...(cause === undefined ? {} : { cause }),
        },
      );
    let job;
    try {
      job = await this.jobs.track(
        {
          toolName: 'create_snapshot',
          summary: `Safety snapshot '${name}' of ${what} on ${node} before ${tool}`,
          ...(scope.target ? { target: scope.target } : {}),
          node,
          request: {
            method: 'POST',
            path: pvePath`/nodes/${node}/${type}/${vmid}/snapshot`,
            params: {
              snapname: name,
              description: `Safety snapshot taken by proxmox-mcp-plus before ${tool}`,
            },
          },
          metadata: { vmid, snapname: name, safety_snapshot_for: tool },
          recipeKind: 'snapshot.create',
          expectedTask: { type: type === 'qemu' ? 'qmsnapshot' : 'vzsnapshot', id: String(vmid) },
        },
        { wait: true, timeoutSeconds: 600 },
      );
    } catch (error) {
      throw refuse(error instanceof Error ? error.message : String(error), error);
    }
    if (job.status !== 'completed') {
      throw refuse(job.last_error ?? `the snapshot job ${job.job_id} is ${job.status}`);
    }
    scope.name = name;
  }
}
