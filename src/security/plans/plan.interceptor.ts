import {
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { firstValueFrom, from, Observable } from 'rxjs';
import { callArguments } from '../../audit/tool-call-facts.js';
import { currentCall, runWithCallContext } from '../../common/context/call-context.js';
import { DomainError, isDomainError } from '../../common/errors/domain-error.js';
import { affectedBy, PlanDto } from '../../common/plan/plan.dto.js';
import { PlanRecorder, PlanStop } from '../../common/context/plan-recorder.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../../common/tools/mcp-tool.decorator.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { callTarget } from '../approvals/approval-digest.js';
import { planChanges, planDigest } from './plan-digest.js';
import type { PlannedRequestLike } from './plan.guard.js';
import { PlanStore } from './plan.store.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';

/**
 * Global, innermost (inside the ApprovalInterceptor, around the ValidationPipe and the handler). A dry run runs the
 * call in plan mode (CallContext.plan: ProxmoxClient, JobsService and SshExecutor record instead of acting) and
 * answers the PlanDto, also when the call fails (would_succeed false with the error). A call carrying plan_digest
 * is planned again first and refused with PLAN_CHANGED if the new plan differs from the stored one.
 */
@Injectable()
export class PlanInterceptor implements NestInterceptor {
  private readonly logger = new Logger('PlanInterceptor');

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: PlanStore,
    private readonly gateway: ProxmoxGateway,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<PlannedRequestLike>();
    if (!req.plan && !req.planDigest) return next.handle();
    const options = this.reflector.get<McpToolOptions>(MCP_TOOL_METADATA, context.getHandler());
    const args = callArguments(req);
    const call = { tool: options.name, target: callTarget(this.config.targets, args.target), args };
    if (req.plan) {
      const recorder = req.plan;
      if (context.getType() === 'http') answerWith200(context.switchToHttp().getResponse<StatusSetter>());
      return from(
        this.plan(call, recorder, next).then(async (plan) => {
          await this.save(plan);
          return plan;
        }),
      );
    }
    const digest = req.planDigest as string;
    return from(
      (async () => {
        const stored = await this.store.get(digest);
        if (!stored) {
          throw new DomainError(
            'CONFLICT',
            `PLAN_CHANGED: no plan with digest ${digest.slice(0, 12)}… is stored (never made, or expired)`,
            {
              hint: 'Run the identical call with dry_run: true for a fresh plan and its digest.',
              details: {
                policy_code: 'PLAN_CHANGED',
                plan_digest: digest,
                changes: ['the plan is unknown or expired'],
              },
            },
          );
        }
        const fresh = await this.plan(call, new PlanRecorder(), next);
        if (fresh.plan_digest !== digest) {
          const changes = planChanges(stored, fresh);
          throw new DomainError(
            'CONFLICT',
            `PLAN_CHANGED: the world changed since plan ${digest.slice(0, 12)}…: ${changes.join('; ') || 'the call differs'}`,
            {
              hint: 'Review the new plan (dry_run: true) and run it with its plan_digest; an approval bound to the old plan is not used.',
              details: {
                policy_code: 'PLAN_CHANGED',
                plan_digest: digest,
                new_plan_digest: fresh.plan_digest,
                changes,
              },
            },
          );
        }
        return firstValueFrom<unknown, undefined>(next.handle(), { defaultValue: undefined });
      })(),
    );
  }

  /** Runs the handler in plan mode (no approval in its context: nothing is settled) and builds the plan. */
  private async plan(
    call: { tool: string; target: string; args: Record<string, unknown> },
    recorder: PlanRecorder,
    next: CallHandler,
  ): Promise<PlanDto> {
    let error: PlanDto['error'];
    try {
      await runWithCallContext({ ...currentCall(), approval: undefined, plan: recorder }, () =>
        firstValueFrom(next.handle(), { defaultValue: undefined }),
      );
    } catch (e) {
      if (e instanceof PlanStop) {
        // the call reached a change of this server's own state: the plan is complete
      } else if (recorder.requests.length && isDomainError(e)) {
        // past its first change a call reads back what it changed; a dry run changed nothing, so it cannot follow
        recorder.warn(
          `planned up to its first change only: what follows depends on that change (${e.code}: ${e.message})`,
        );
      } else {
        error = isDomainError(e)
          ? { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) }
          : { code: 'INTERNAL', message: 'the call failed unexpectedly while planning' };
        if (!isDomainError(e)) this.logger.error(`planning ${call.tool} failed: ${String(e)}`);
      }
    }
    if (!error) error = await this.quorum(call.target, recorder);
    const plan = Object.assign(new PlanDto(), {
      tool: call.tool,
      target: call.target,
      requests: [...recorder.requests],
      affected: affectedBy(recorder.requests),
      checks: [...recorder.checks],
      warnings: [...recorder.warnings],
      would_succeed: !error,
      ...(error ? { error } : {}),
    });
    plan.plan_digest = planDigest({ ...call, ...plan, error });
    return plan;
  }

  /**
   * Every plan that would change something in PVE: is the cluster quorate? Without quorum PVE refuses every
   * configuration change (/etc/pve is read-only), whichever tool asks, so this is checked here once for all.
   */
  private async quorum(target: string, recorder: PlanRecorder): Promise<PlanDto['error']> {
    if (!recorder.requests.some((r) => !r.path.startsWith('server:'))) return undefined;
    try {
      const status = await this.gateway
        .client(target)
        .get<Array<{ type?: string; name?: string; quorate?: number }>>('/cluster/status');
      const cluster = status.find((entry) => entry.type === 'cluster');
      if (!cluster) {
        recorder.check('quorum', true, 'a standalone node: no quorum needed');
        return undefined;
      }
      if (Number(cluster.quorate) === 1) {
        recorder.check('quorum', true, `cluster ${cluster.name ?? ''} is quorate`.replace('  ', ' '));
        return undefined;
      }
      const message = `cluster ${cluster.name ?? ''} has no quorum: Proxmox refuses configuration changes until enough nodes are back`;
      recorder.check('quorum', false, message);
      return { code: 'CONFLICT', message };
    } catch (e) {
      const message = `the cluster status could not be read: ${isDomainError(e) ? e.message : String(e)}`;
      recorder.check('quorum', false, message);
      return { code: isDomainError(e) ? e.code : 'UPSTREAM_ERROR', message };
    }
  }

  private async save(plan: PlanDto): Promise<void> {
    try {
      const expires = await this.store.save(plan, currentCall().principal?.name ?? null);
      plan.expires_at = new Date(expires).toISOString();
    } catch (e) {
      // a plan is still worth showing; only binding a real call to it needs the store
      this.logger.warn(`plan ${plan.plan_digest} not stored: ${String(e)}`);
      plan.warnings.push('this plan could not be stored: plan_digest will not be accepted');
    }
  }
}

interface StatusSetter {
  statusCode: number;
}

/**
 * A plan is answered 200 on every REST route, also where the route's own @HttpCode says 201/202 (Nest sets that
 * status when it replies, after the interceptors): this response's status is pinned to 200.
 */
function answerWith200(res: StatusSetter): void {
  Object.defineProperty(res, 'statusCode', { get: () => 200, set: () => undefined, configurable: true });
}
