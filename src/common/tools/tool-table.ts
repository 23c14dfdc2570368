import type { ToolDefinition } from './tool-definition.js';

/**
 * The frozen table of tools, read by the layers below the MCP one (security, metrics) without importing it: the
 * MCP module's ToolRegistry builds the table and provides it under TOOL_TABLE.
 */
export interface ToolTable {
  all(): readonly ToolDefinition[];
  get(name: string): ToolDefinition | undefined;
}

export const TOOL_TABLE = Symbol('ToolTable');
