import type { Type } from '@nestjs/common';
import type { McpToolOptions, ToolRisk } from './mcp-tool.decorator.js';
import type { Toolset } from './toolsets.js';

/** A JSON Schema node as the tool table serves it (MCP inputSchema/outputSchema, Swagger). */
export type JsonSchema = Record<string, unknown>;

/** Where an argument of a tools/call goes when the controller method runs. */
export type ArgumentSlot = 'param' | 'query' | 'body';

export interface ToolAnnotations {
  title: string;
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** One tool, discovered once at boot and frozen; shared by every transport and request. */
export interface ToolDefinition {
  name: string;
  title: string;
  description: string;
  risk: ToolRisk;
  /** @McpToolset of the method or its controller; absent only on a tool that lacks one (a contract test fails). */
  toolset?: Toolset;
  inputSchema: JsonSchema;
  outputSchema: JsonSchema;
  annotations: ToolAnnotations;
  /** Argument name → the slot (route param, query, body) it belongs to. */
  slots: Record<string, ArgumentSlot>;
  /** The resource-shaped REST route of the same method, e.g. GET /nodes/{node}/status. */
  route: { method: string; path: string };
  options: McpToolOptions;
  /** Runs the controller method through Nest's guards, interceptors and pipes. */
  handler: (request: ToolRequest) => Promise<unknown>;
  output: Type<unknown>;
}

/** The synthetic request a tool call runs with; guards read it like an HTTP request. */
export interface ToolRequest {
  method: 'MCP';
  url: string;
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  /** Who is calling: set by the HTTP API-key check, or the local stdio user. */
  principal?: Principal;
  toolName: string;
  signal?: AbortSignal;
}

export interface Principal {
  name: string;
  scope: 'read' | 'operate' | 'admin';
  via: 'api-key' | 'stdio' | 'no-auth' | 'oauth';
  /** OAuth: the token's `sub` (the name is `oauth:<sub>`) and its client (`client_id`/`azp`), for audit. */
  subject?: string;
  clientId?: string;
  /** OAuth: the token maps to the approve role; it may approve other principals' gated calls. */
  approver?: boolean;
  /** The key's `targets` limit (security.api_keys[].targets); absent = every target. */
  targets?: readonly string[];
  /** The key's `tools` limit (security.api_keys[].tools); absent = every tool its scope allows. */
  tools?: readonly string[];
  /** The key's `toolsets` limit (security.api_keys[].toolsets); absent = every toolset the server exposes. */
  toolsets?: readonly string[];
}

const ANNOTATIONS: Record<ToolRisk, Omit<ToolAnnotations, 'title'>> = {
  read: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  power: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  mutate: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  destroy: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  exec: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
};

export const annotationsFor = (risk: ToolRisk, title: string): ToolAnnotations => ({
  title,
  ...ANNOTATIONS[risk],
});
