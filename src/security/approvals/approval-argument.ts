import { Inject, Injectable, Optional } from '@nestjs/common';
import type { McpToolOptions } from '../../common/tools/mcp-tool.decorator.js';
import type { ArgumentSlot, JsonSchema } from '../../common/tools/tool-definition.js';
import type { ToolInputArgument } from '../../common/tools/tool-input-argument.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { APPROVAL_TOKEN_ARG } from './approval-digest.js';
import { acceptsApprovalToken } from './approval-gate.js';

/** The schema of the `approval_token` argument every high-risk tool advertises (MCP inputSchema and Swagger). */
export const APPROVAL_TOKEN_SCHEMA: JsonSchema = Object.freeze({
  type: 'string',
  minLength: 1,
  maxLength: 512,
  description:
    'Operator approval for exactly this call. Leave it out first: the answer APPROVAL_REQUIRED names a request ' +
    'id for an operator, who returns a single-use token; repeat the identical call with it. On REST routes it may ' +
    'also be sent as the X-Approval-Token header; never in the query string.',
});

/**
 * Adds `approval_token` to a tool's flat input schema and argument slots (as a body argument, so the invoker
 * hands it to the ApprovalGuard in the request body). Tool DTOs never declare it: the guard removes it before the
 * ValidationPipe runs.
 */
export function addApprovalTokenArgument(
  inputSchema: JsonSchema,
  slots: Record<string, ArgumentSlot>,
  where: string,
): void {
  const properties = (inputSchema.properties ?? {}) as Record<string, JsonSchema>;
  if (APPROVAL_TOKEN_ARG in properties) {
    throw new Error(`${where}: '${APPROVAL_TOKEN_ARG}' is reserved for approvals; remove it from the DTO`);
  }
  properties[APPROVAL_TOKEN_ARG] = { ...APPROVAL_TOKEN_SCHEMA };
  inputSchema.properties = properties;
  slots[APPROVAL_TOKEN_ARG] = 'body';
}

/** Contributes `approval_token` to every tool an approval setting could gate (see acceptsApprovalToken). */
@Injectable()
export class ApprovalTokenArgument implements ToolInputArgument {
  constructor(@Optional() @Inject(APP_CONFIG) private readonly config?: AppConfig) {}

  extend(
    tool: McpToolOptions,
    inputSchema: JsonSchema,
    slots: Record<string, ArgumentSlot>,
    where: string,
  ): void {
    if (this.config && acceptsApprovalToken(tool, this.config.commandPolicy)) {
      addApprovalTokenArgument(inputSchema, slots, where);
    }
  }
}
