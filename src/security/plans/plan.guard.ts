import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '../../common/errors/domain-error.js';
import { PlanRecorder } from '../../common/context/plan-recorder.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../../common/tools/mcp-tool.decorator.js';
import type { DeferredApproval } from '../approvals/deferred-approval.js';
import { DRY_RUN_ARG, PLAN_DIGEST_ARG, plannable } from './plan-argument.js';

/** The parts of a request (HTTP or the invoker's synthetic one) plans read and set. */
export interface PlannedRequestLike {
  query?: Record<string, unknown>;
  body?: unknown;
  /** Set by the ApprovalGuard for a gated call; a dry run drops it (a plan is not a change). */
  approval?: DeferredApproval;
  /** Set here for a dry run: the PlanInterceptor runs the call in plan mode with it. */
  plan?: PlanRecorder;
  /** Set by the FreezeGuard on a dry run while changes are frozen: the plan warns that the real call would be refused. */
  frozenWarning?: string;
  /** Set here for a call that carried plan_digest: the PlanInterceptor re-plans and compares first. */
  planDigest?: string;
}

/**
 * Global, after the ApprovalGuard (which has bound `plan_digest`, still in the arguments, into the approval
 * digest): takes `dry_run` and `plan_digest` out of the body (and the query string of REST routes) before the
 * ValidationPipe, so tool DTOs never declare them. A dry run needs no approval: the pending one is dropped and the
 * plan says it would be needed.
 */
@Injectable()
export class PlanGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<PlannedRequestLike>();
    const options = this.reflector.get<McpToolOptions | undefined>(MCP_TOOL_METADATA, context.getHandler());
    if (!options || !plannable(options)) return true;
    const dryRun = take(req, DRY_RUN_ARG);
    const digest = take(req, PLAN_DIGEST_ARG);
    if (dryRun !== undefined && typeof dryRun !== 'boolean' && dryRun !== 'true' && dryRun !== 'false') {
      throw new DomainError('VALIDATION', 'Invalid arguments: dry_run must be a boolean (true or false)');
    }
    if (digest !== undefined && (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest))) {
      throw new DomainError(
        'VALIDATION',
        'Invalid arguments: plan_digest must be the 64 lowercase hex characters a dry run answered',
      );
    }
    if (isDryRunValue(dryRun)) {
      req.plan = new PlanRecorder();
      const approval = req.approval;
      delete req.approval;
      if (approval?.needsApproval) {
        req.plan.warn(
          `needs approval: ${options.name} is gated (risk ${options.risk}); the real call asks for it`,
        );
      }
      if (options.risk === 'destroy') req.plan.warn('destroy risk: this cannot be undone');
      if (req.frozenWarning) req.plan.warn(req.frozenWarning); // FreezeGuard let the dry run through
    } else if (typeof digest === 'string') {
      req.planDigest = digest;
    }
    return true;
  }
}

/** `dry_run` as sent: a JSON boolean, or the string of a REST query. */
const isDryRunValue = (value: unknown): boolean => value === true || value === 'true';

/**
 * Whether the call asks for a dry run, read without taking the argument (PlanGuard takes it later). For the
 * guards before this one that let a dry run through where they would refuse the change (FreezeGuard).
 */
export function asksForDryRun(req: { body?: unknown; query?: unknown }): boolean {
  const argument = (bag: unknown) =>
    bag && typeof bag === 'object' && !Array.isArray(bag)
      ? (bag as Record<string, unknown>)[DRY_RUN_ARG]
      : undefined;
  return isDryRunValue(argument(req.body) ?? argument(req.query));
}

function take(req: PlannedRequestLike, key: string): unknown {
  let value: unknown;
  const body = req.body;
  if (body && typeof body === 'object' && !Array.isArray(body) && key in body) {
    const record = body as Record<string, unknown>;
    value = record[key];
    delete record[key];
  }
  const query = req.query;
  if (query && typeof query === 'object' && key in query) {
    value ??= query[key];
    const rest: Record<string, unknown> = { ...query };
    delete rest[key];
    // Express 5 computes req.query on every read: replace it with the query without this key
    Object.defineProperty(req, 'query', {
      value: rest,
      writable: true,
      configurable: true,
      enumerable: true,
    });
  }
  return value ?? undefined;
}
