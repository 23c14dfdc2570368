import { applyDecorators, SetMetadata, type Type } from '@nestjs/common';
import { ApiExtension, ApiOperation } from '@nestjs/swagger';
import type { PrivilegeRequirement } from './pve-privileges.js';

/**
 * How dangerous a tool is. This one switch sets the MCP annotations (readOnlyHint, destructiveHint,
 * idempotentHint), the least API-key scope (security/scopes.ts), whether an approval is needed by default (every
 * destroy tool; exec ones when configured) and whether a call is audited (every one that is not a read).
 */
export type ToolRisk = 'read' | 'power' | 'mutate' | 'destroy' | 'exec';

export interface McpToolOptions<R = unknown> {
  /** The reference project's tool name (`get_vms`, `start_vm`, ...); also the REST operationId. */
  name: string;
  title: string;
  /** What the tool does and when to use it; models choose tools from this text. */
  description: string;
  risk: ToolRisk;
  /**
   * The Proxmox privileges the tool needs (pve-privileges.ts), from the PVE schema `permissions` of every endpoint
   * it calls; `proxmox-mcp-plus doctor` checks the token against them. `[]` = the tool calls no endpoint that
   * checks a privilege (local job store, or endpoints open to every user, like the tasks a token started itself).
   */
  privileges: readonly PrivilegeRequirement[];
  /** The response DTO class: its schema is the MCP outputSchema and the REST 200 schema. */
  output: Type<R>;
  /**
   * The text sent beside structuredContent (defaults to compact JSON): a short human summary, or, for the tools
   * whose reference text was JSON that scripts parse, that JSON. An array becomes several text items, in order
   * (the JSON first, the human summary after it).
   */
  text?: (result: R) => string | readonly string[];
  /**
   * The least API-key scope that may call the tool, when more than its risk implies (e.g. `admin` for
   * list_audit_events and approvals). By default: read tools need `read`, destroy tools `admin`, others `operate`.
   */
  scope?: 'read' | 'operate' | 'admin';
  /**
   * On the tool's own REST route (not MCP, not POST /{tool_name}), answer with this array property of the result
   * as the JSON body, the reference's list shape, with the paging in headers (X-Total-Count, X-Limit, X-Offset).
   * The result must carry `total`, `limit` and `offset` beside it.
   */
  restList?: string;
  /**
   * What the command-policy guard judges for an `exec` tool: `command` (default; command_policy on the `command`
   * argument), or `file_read` / `file_write` (the `files` path rules on the `path` argument).
   */
  execPolicy?: 'command' | 'file_read' | 'file_write';
  /**
   * call_tool only: it runs another tool through the tool invoker, so its own call is not audited (the tool it runs
   * is, under its own name, refusals included); the rate limit skips it the same way (NoRateLimit).
   */
  runsTools?: boolean;
  /**
   * MCP annotation hints that differ from what the risk implies. Only for call_tool (risk read: it needs no scope of
   * its own, the tool it runs is checked), which is not read-only for a client deciding what to confirm.
   */
  annotations?: {
    readOnlyHint?: boolean;
    destructiveHint?: boolean;
    idempotentHint?: boolean;
    openWorldHint?: boolean;
  };
}

export const MCP_TOOL_METADATA = 'proxmox-mcp:tool';

/** Marks a controller method as an MCP tool. The method stays an ordinary REST route. */
export function McpTool<R>(options: McpToolOptions<R>): MethodDecorator {
  return applyDecorators(
    SetMetadata(MCP_TOOL_METADATA, options),
    ApiOperation({ operationId: options.name, summary: options.title, description: options.description }),
    ApiExtension('x-mcp-tool', { name: options.name, risk: options.risk }),
  );
}
