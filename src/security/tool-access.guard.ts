import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditService } from '../audit/audit.service.js';
import { callArguments, toolCallFacts } from '../audit/tool-call-facts.js';
import { DomainError } from '../common/errors/domain-error.js';
import { APP_CONFIG, type AppConfig, type ApiKeyScope } from '../config/app-config.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../common/tools/mcp-tool.decorator.js';
import type { Principal } from '../common/tools/tool-definition.js';
import { JobsStore } from '../jobs/jobs.store.js';

import { ToolAccessService, type AccessDenial } from './tool-access.service.js';
import { OAuthService } from './oauth/oauth.service.js';
import { REQUIRED_SCOPE_METADATA, requiredScope, scopeAllows } from './scopes.js';

interface GuardedRequest {
  principal?: Principal;
  method?: string;
  path?: string;
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
}

/**
 * Global, after PrincipalGuard: the caller's scope, key limits, the tool exposure lists and read-only targets,
 * read from the tool's @McpTool metadata, so MCP tools/call, POST /{tool} and the REST route are refused the
 * same way (FORBIDDEN naming what would allow the call). Every refusal is an audit event.
 */
@Injectable()
export class ToolAccessGuard implements CanActivate {
  constructor(
    private readonly access: ToolAccessService,
    private readonly audit: AuditService,
    private readonly reflector: Reflector,
    private readonly jobs: JobsStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly oauth: OAuthService,
  ) {
    this.anyReadOnlyTarget = config.targets.some((t) => t.readOnly);
  }

  private readonly anyReadOnlyTarget: boolean;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    const principal = request.principal;
    if (!principal) return true; // PrincipalGuard has already refused anything that needs one
    const tool = Reflect.getMetadata(MCP_TOOL_METADATA, context.getHandler()) as McpToolOptions | undefined;
    if (!tool) return this.checkRoute(context, request, principal);

    const args = callArguments(request);
    let target = typeof args.target === 'string' ? args.target : undefined;
    let denial = this.access.checkTool(principal, tool);
    if (!denial) {
      // job tools take a job id, not a target: the job's own target is what the call reaches
      if (target === undefined && typeof args.job_id === 'string' && this.targetMatters(principal, tool)) {
        target = await this.jobTarget(args.job_id);
      }
      denial = this.access.checkTarget(principal, tool, target);
    }
    if (!denial) return true;
    const facts = toolCallFacts(context);
    const single = this.config.targets.length === 1 ? this.config.targets[0].name : undefined;
    await this.audit.record({
      actor: principal.name,
      action: tool.name,
      target: target ?? single,
      outcome: 'denied',
      reason: `${denial.reason}: ${denial.message}`,
      args_digest: facts.args_digest,
      details: { via: facts.via, risk: tool.risk, scope: principal.scope },
    });
    if (principal.via === 'oauth' && denial.reason === 'scope') {
      const challenge = this.oauth.stepUp(requiredScope(tool.risk, tool.scope));
      const res = context.switchToHttp().getResponse<{ setHeader?: (name: string, value: string) => void }>();
      if (challenge && typeof res?.setHeader === 'function') res.setHeader('WWW-Authenticate', challenge);
    }
    throw forbidden(denial);
  }

  private targetMatters(principal: Principal, tool: McpToolOptions): boolean {
    return principal.targets !== undefined || (this.anyReadOnlyTarget && tool.risk !== 'read');
  }

  /** The target of a job (undefined when there is no such job: the tool then answers NOT_FOUND itself). */
  private async jobTarget(jobId: string): Promise<string | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(jobId)) return undefined;
    const job = await this.jobs.find(jobId).catch(() => null);
    return job?.target ?? undefined;
  }

  /** Routes that are not tools may still demand a scope with @RequireScope (e.g. approving a request). */
  private async checkRoute(
    context: ExecutionContext,
    request: GuardedRequest,
    principal: Principal,
  ): Promise<boolean> {
    const need = this.reflector.getAllAndOverride<ApiKeyScope | undefined>(REQUIRED_SCOPE_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!need || scopeAllows(principal.scope, need)) return true;
    const route = `${request.method ?? '?'} ${request.path ?? '?'}`;
    const denial: AccessDenial = {
      reason: 'scope',
      message: `${route} needs an API key with scope '${need}'; the key '${principal.name}' has scope '${principal.scope}'`,
      hint: `Ask an operator for a key with scope '${need}' if this caller should be able to do this.`,
    };
    await this.audit.record({
      actor: principal.name,
      action: 'route.access',
      outcome: 'denied',
      reason: `${denial.reason}: ${denial.message}`,
      details: { route, scope: principal.scope },
    });
    throw forbidden(denial);
  }
}

const forbidden = (denial: AccessDenial) =>
  new DomainError('FORBIDDEN', denial.message, { hint: denial.hint, details: { reason: denial.reason } });
