import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { argsDigest } from '../../audit/args-digest.js';
import { callArguments } from '../../audit/tool-call-facts.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../../mcp/decorators/mcp-tool.decorator.js';
import type { Principal } from '../../mcp/registry/tool-definition.js';
import { APPROVAL_TOKEN_ARG } from '../../security/approvals/approval-digest.js';
import { PolicyAudit } from '../../security/approvals/policy-audit.js';
import { ExecuteNodeCommandBodyDto } from './dto/node-command.dto.js';
import { NodeCommandsService } from './node-commands.service.js';

export const NODE_COMMAND_TOOL = 'execute_node_command';

/**
 * Global guard, just before the approval guard: execute_node_command's refusals (disabled for the target, no
 * matching pattern, shell syntax, unknown or offline node) are answered BEFORE an approval request exists, so an
 * operator is only ever asked to approve a command that would run. Arguments of the wrong type are left to the
 * ValidationPipe, which reports them after the guards. Policy refusals are audited without the command text.
 */
@Injectable()
export class NodeCommandGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly nodeCommands: NodeCommandsService,
    private readonly audit: PolicyAudit,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const options = this.reflector.get<McpToolOptions | undefined>(MCP_TOOL_METADATA, context.getHandler());
    if (options?.name !== NODE_COMMAND_TOOL) return true;
    const req = context.switchToHttp().getRequest<{ principal?: Principal; body?: unknown }>();
    const args = callArguments(req);
    const { node, command, target } = args;
    // the ValidationPipe runs after the guards: say here what it would say, before an approval is asked for
    if (typeof command !== 'string') {
      throw new DomainError('VALIDATION', 'Invalid arguments: command must be one string, e.g. "pveversion"');
    }
    if (typeof node !== 'string') {
      throw new DomainError('VALIDATION', 'Invalid arguments: node must be a Proxmox node name, e.g. "pve1"');
    }
    if (target !== undefined && typeof target !== 'string') return true;
    await assertValidBody(req.body);
    try {
      await this.nodeCommands.precheck(node, command, target);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'POLICY_DENIED') {
        await this.audit.record({
          actor: req.principal?.name ?? 'anonymous',
          action: NODE_COMMAND_TOOL,
          target,
          outcome: 'denied',
          reason: error.message,
          args_digest: argsDigest(args),
          details: error.details ?? {},
        });
      }
      throw error;
    }
    return true;
  }
}

/** The body as the ValidationPipe will judge it (approval_token aside: the approval guard takes it out). */
async function assertValidBody(body: unknown): Promise<void> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  const { [APPROVAL_TOKEN_ARG]: _token, ...rest } = body as Record<string, unknown>;
  const errors = await validate(plainToInstance(ExecuteNodeCommandBodyDto, rest), {
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  const messages = errors.flatMap((e) => Object.values(e.constraints ?? {}));
  if (messages.length) {
    throw new DomainError('VALIDATION', `Invalid arguments: ${messages.join('; ')}`, {
      details: { errors: messages },
      hint: 'Fix the named arguments and call again; the tool schema lists what each one accepts.',
    });
  }
}
