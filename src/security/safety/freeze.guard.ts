import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { toolCallFacts } from '../../audit/tool-call-facts.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../../common/tools/mcp-tool.decorator.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { FreezeService, type ActiveFreeze } from './freeze.service.js';
import { asksForDryRun } from '../plans/plan.guard.js';

/** The tools that still run while frozen besides the read tools: the switch itself. */
export const FREEZE_EXEMPT_TOOLS: ReadonlySet<string> = new Set(['freeze_changes', 'unfreeze_changes']);

/**
 * Global guard (after the caller's identity and scope checks, before the command policy and the approvals, so a
 * frozen call never creates an approval request): while any freeze holds (FreezeService), every tool whose risk is
 * not `read` is refused with FROZEN naming the reason, who froze and since when, on MCP, POST /{tool} and REST
 * alike. Every refusal is an audit event. Routes that are not tools are not affected.
 */
@Injectable()
export class FreezeGuard implements CanActivate {
  constructor(
    private readonly freeze: FreezeService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const tool = Reflect.getMetadata(MCP_TOOL_METADATA, context.getHandler()) as McpToolOptions | undefined;
    // call_tool (risk read) runs its tool through the invoker, which passes this guard under that tool's name
    if (!tool || tool.risk === 'read' || FREEZE_EXEMPT_TOOLS.has(tool.name)) return true;
    const status = await this.freeze.status();
    if (!status.frozen) return true;
    const active = status.freezes[0];
    // a dry run changes nothing: it is planned, and its plan says the real call would be refused (PlanGuard)
    const req = context.switchToHttp().getRequest<FrozenPlanRequest>();
    if (asksForDryRun(req)) {
      req.frozenWarning = `changes are frozen: the real call would be refused (${active.reason}, by ${active.frozen_by})`;
      return true;
    }
    const facts = toolCallFacts(context);
    const single = this.config.targets.length === 1 ? this.config.targets[0].name : undefined;
    await this.audit.record({
      actor: facts.actor,
      action: tool.name,
      target: facts.target ?? single,
      outcome: 'denied',
      reason: `FROZEN: ${active.reason}`,
      args_digest: facts.args_digest,
      details: { via: facts.via, risk: tool.risk, freeze_source: active.source, frozen_by: active.frozen_by },
    });
    throw frozenError(tool.name, active);
  }
}

/** What the freeze leaves on a dry run's request for its plan (read by PlanGuard). */
export interface FrozenPlanRequest {
  body?: unknown;
  query?: unknown;
  frozenWarning?: string;
}

export function frozenError(toolName: string, active: ActiveFreeze): DomainError {
  const lift =
    active.source === 'tool'
      ? 'an operator with an admin key calls unfreeze_changes'
      : active.source === 'file'
        ? `an operator removes ${active.frozen_by.replace(/^file /, '')}`
        : 'an operator turns safety.freeze off in the configuration and restarts the server';
  return new DomainError(
    'FROZEN',
    `Changes are frozen: ${toolName} is refused. Reason: ${active.reason} (frozen by ${active.frozen_by} since ${active.since})`,
    {
      hint: `Read tools still work. Nothing was sent to Proxmox. The freeze ends when ${lift}; do not retry before.`,
      details: {
        reason: active.reason,
        source: active.source,
        frozen_by: active.frozen_by,
        since: active.since,
      },
    },
  );
}
