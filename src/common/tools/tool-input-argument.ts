import type { McpToolOptions } from './mcp-tool.decorator.js';
import type { ArgumentSlot, JsonSchema } from './tool-definition.js';

/**
 * An argument a cross-cutting feature adds to tools it applies to (approvals add `approval_token`). The registry
 * calls every one provided under TOOL_INPUT_ARGUMENTS once per tool at boot, so the tool table never needs to
 * know the features.
 */
export interface ToolInputArgument {
  /** Adds the argument to the tool's flat input schema and slots when it applies; `where` names the tool in errors. */
  extend(
    tool: McpToolOptions,
    inputSchema: JsonSchema,
    slots: Record<string, ArgumentSlot>,
    where: string,
  ): void;
  /** Optionally widens the tool's output schema (plans add their own shape); returns it unchanged otherwise. */
  output?(tool: McpToolOptions, outputSchema: JsonSchema): JsonSchema;
}

export const TOOL_INPUT_ARGUMENTS = Symbol('ToolInputArguments');
