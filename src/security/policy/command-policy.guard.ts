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
import {
  compileFilePolicy,
  evaluateFileAccess,
  fileRefusalError,
  type CompiledFilePolicy,
} from './file-path.js';

interface PolicyRequest {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  principal?: Principal;
}

/**
 * Global guard for `exec` tools (file tools: the `files` path rules instead, file-path.ts) (after the principal, before approvals, so a refused command never produces an
 * approval request): reads `command` and `shell` from the call and applies command_policy (command-policy.ts).
 * A refusal is an error result (POLICY_DENIED with details.policy_code), never a successful answer, and is audited
 * without the command text.
 */
@Injectable()
export class CommandPolicyGuard implements CanActivate {
  private readonly policy: CompiledCommandPolicy;
  private readonly files: CompiledFilePolicy;

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: PolicyAudit,
  ) {
    this.policy = compileCommandPolicy(config.commandPolicy);
    this.files = compileFilePolicy(config.files);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const options = this.reflector.get<McpToolOptions | undefined>(MCP_TOOL_METADATA, context.getHandler());
    if (options?.risk !== 'exec') return true;
    const req = context.switchToHttp().getRequest<PolicyRequest>();
    const args = callArguments(req);
    if (options.execPolicy === 'file_read' || options.execPolicy === 'file_write') {
      return this.judgeFile(options, req, args);
    }

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

  /** read_vm_file / write_vm_file: the `files` path rules on `path`; a refusal names the rule, never the content. */
  private async judgeFile(
    options: McpToolOptions,
    req: PolicyRequest,
    args: Record<string, unknown>,
  ): Promise<boolean> {
    const access = options.execPolicy === 'file_read' ? 'read' : 'write';
    const decision = evaluateFileAccess(access, args.path, this.files);
    if (decision.allowed) return true;
    if (decision.error === 'VALIDATION') throw fileRefusalError(decision);
    await this.audit.record({
      actor: req.principal?.name ?? 'anonymous',
      action: options.name,
      target: callTarget(this.config.targets, args.target),
      outcome: 'denied',
      reason: `${decision.code}: ${decision.message}`,
      args_digest: argsDigest(args),
      details: { policy_code: decision.code },
    });
    throw fileRefusalError(decision);
  }
}
