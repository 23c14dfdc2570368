import type { ExecutionContext } from '@nestjs/common';
import type { Principal } from '../common/tools/tool-definition.js';
import { argsDigest } from './args-digest.js';

/** What an audit event says about a call, taken the same way on the MCP path and on REST routes. */
export interface ToolCallFacts {
  actor?: string;
  target?: string;
  args_digest: string;
  /** `mcp` for tools/call and POST /{tool}; `rest` for the resource routes. */
  via: 'mcp' | 'rest';
  /** An OAuth principal's client (`client_id`/`azp`). */
  client_id?: string;
}

interface RequestLike {
  principal?: Principal;
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
}

/** The arguments as the tool sees them: route params, query and JSON body, flat. */
export function callArguments(request: RequestLike): Record<string, unknown> {
  const body =
    request.body && typeof request.body === 'object' && !Array.isArray(request.body)
      ? (request.body as Record<string, unknown>)
      : {};
  return { ...(request.params ?? {}), ...(request.query ?? {}), ...body };
}

/** For guards and interceptors (and the approvals code): who calls, on which target, with which arguments. */
export function toolCallFacts(context: ExecutionContext): ToolCallFacts {
  const request = context.switchToHttp().getRequest<RequestLike>();
  const args = callArguments(request);
  return {
    ...(request.principal ? { actor: request.principal.name } : {}),
    ...(typeof args.target === 'string' ? { target: args.target } : {}),
    args_digest: argsDigest(args),
    via: context.getType<string>() === 'mcp' ? 'mcp' : 'rest',
    ...(request.principal?.clientId ? { client_id: request.principal.clientId } : {}),
  };
}
