import { planAuditFacts } from '../common/plan/plan.dto.js';
import {
  HttpException,
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { catchError, from, mergeMap, tap, throwError, type Observable } from 'rxjs';
import { DomainError } from '../common/errors/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../common/tools/mcp-tool.decorator.js';
import type { AuditOutcome } from './audit-event.entity.js';
import { AuditService } from './audit.service.js';
import { redactValue } from '../common/redaction/redactor.js';
import { callArguments, toolCallFacts } from './tool-call-facts.js';

/** How a thrown error reads in the audit log. */
export function outcomeOf(error: unknown): { outcome: AuditOutcome; code: string; message: string } {
  if (error instanceof DomainError) {
    const outcome: AuditOutcome =
      error.code === 'APPROVAL_REQUIRED'
        ? 'approval_required'
        : ['POLICY_DENIED', 'FORBIDDEN', 'UNAUTHORIZED', 'FROZEN', 'PROTECTED'].includes(error.code)
          ? 'denied'
          : 'failed';
    return { outcome, code: error.code, message: error.message };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    return {
      outcome: status === 401 || status === 403 ? 'denied' : 'failed',
      code: `HTTP_${status}`,
      message: error.message,
    };
  }
  return { outcome: 'failed', code: 'INTERNAL', message: 'unexpected error' };
}

/**
 * Global: every call of a mutating tool (risk other than read) becomes an audit event with its outcome, on MCP,
 * POST /{tool} and the REST route alike. Read tools are audited only when refused. Refusals by guards happen
 * before this runs; the guards record those themselves (ToolAccessGuard, the approval and policy checks).
 * At log level debug every tool call is also logged, with its arguments redacted (command text only with
 * logging.log_commands).
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('ToolCall');

  constructor(
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const tool = Reflect.getMetadata(MCP_TOOL_METADATA, context.getHandler()) as McpToolOptions | undefined;
    // call_tool: the tool it runs is audited under its own name (McpToolOptions.runsTools)
    if (!tool || tool.runsTools) return next.handle();
    const mutating = tool.risk !== 'read';
    const record = (outcome: AuditOutcome, reason: string | undefined, details: Record<string, unknown>) => {
      const facts = toolCallFacts(context);
      const single = this.config.targets.length === 1 ? this.config.targets[0].name : undefined;
      return this.audit.record({
        actor: facts.actor,
        action: tool.name,
        target: facts.target ?? single,
        outcome,
        reason,
        args_digest: facts.args_digest,
        details: {
          via: facts.via,
          ...(facts.client_id ? { client_id: facts.client_id } : {}),
          risk: tool.risk,
          ...details,
        },
      });
    };
    const started = Date.now();
    const log = (outcome: string) => {
      const request = context.switchToHttp().getRequest<Parameters<typeof callArguments>[0]>();
      const args = redactValue(callArguments(request), { keepCommands: this.config.logging.logCommands });
      this.logger.debug(
        `${tool.name} ${outcome} by ${request.principal?.name ?? '-'} in ${Date.now() - started} ms; arguments ${JSON.stringify(args)}`,
      );
    };
    return next.handle().pipe(
      tap({ next: () => log('succeeded'), error: (error: unknown) => log(outcomeOf(error).outcome) }),
      mergeMap(async (result: unknown) => {
        // a dry run is recorded as what it was: a plan (src/common/plan)
        const planned = planAuditFacts(result);
        if (mutating) await record('succeeded', planned?.reason, planned?.details ?? jobFacts(result));
        return result;
      }),
      catchError((error: unknown) => {
        const { outcome, code, message } = outcomeOf(error);
        if (!mutating && outcome === 'failed') return throwError(() => error);
        // the approval service audited the refusal and the request it created (settled inside the handler)
        if (outcome === 'approval_required') return throwError(() => error);
        return from(record(outcome, `${code}: ${message}`, { code })).pipe(
          mergeMap(() => throwError(() => error)),
        );
      }),
    );
  }
}

/** A mutating tool returns a job: its id and task link the audit event to the job history. */
function jobFacts(result: unknown): Record<string, unknown> {
  if (!result || typeof result !== 'object') return {};
  const r = result as Record<string, unknown>;
  return {
    ...(typeof r.job_id === 'string' ? { job_id: r.job_id } : {}),
    ...(typeof r.task_id === 'string' ? { task_id: r.task_id } : {}),
    ...(typeof r.status === 'string' ? { status: r.status } : {}),
  };
}
