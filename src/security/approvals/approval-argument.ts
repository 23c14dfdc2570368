import type { ArgumentSlot } from '../../mcp/registry/tool-definition.js';
import type { JsonSchema } from '../../mcp/schema/tool-schema.factory.js';
import { APPROVAL_TOKEN_ARG } from './approval-digest.js';

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
