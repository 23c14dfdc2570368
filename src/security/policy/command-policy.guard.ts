import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { argsDigest } from '../../audit/args-digest.js';
import { callArguments } from '../../audit/tool-call-facts.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../../common/tools/mcp-tool.decorator.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import { callTarget } from '../approvals/approval-digest.js';
import { PolicyAudit } from '../approvals/policy-audit.js';
import { compileCommandPolicy, evaluateCommand, type CompiledCommandPolicy } from './command-policy.js';
import { refusalError } from './exec-command.js';

interface PolicyRequest {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  principal?: Principal;
}

/**
 * Global guard for `exec` tools (after the principal, before approvals, so a refused command never produces an
 * approval request): reads `command` and `shell` from the call and applies command_policy (command-policy.ts).
 * A refusal is an error result (POLICY_DENIED with details.policy_code), never a successful answer, and is audited
 * without the command text.
 */
@Injectable()
export class CommandPolicyGuard implements CanActivate {
  private readonly policy: CompiledCommandPolicy;

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: PolicyAudit,
  ) {
    this.policy = compileCommandPolicy(config.commandPolicy);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const options = this.reflector.get<McpToolOptions | undefined>(MCP_TOOL_METADATA, context.getHandler());
    if (options?.risk !== 'exec') return true;
    const req = context.switchToHttp().getRequest<PolicyRequest>();
    const args = callArguments(req);

    const decision = evaluateCommand({ command: args.command, shell: args.shell }, this.policy);
    if (decision.allowed) return true;
    if (decision.error === 'VALIDATION') throw refusalError(decision);
    const target = callTarget(this.config.targets, args.target);
    await this.audit.record({
      actor: req.principal?.name ?? 'anonymous',
      action: options.name,
      target,
      outcome: 'denied',
      reason: `${decision.code}: ${decision.message}`,
      args_digest: argsDigest(args),
      details: { policy_code: decision.code, mode: this.policy.mode },
    });
    throw refusalError(decision);
  }
}
