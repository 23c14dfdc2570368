import { Inject, Injectable } from '@nestjs/common';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolRequest,
  type CallToolResult,
  type ListToolsResult,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { toolErrorText } from '../../common/errors/mcp-error.mapper.js';
import { CheckedCallToolRequestSchema } from './call-tool-request.js';
import { ToolInvoker } from '../registry/tool-invoker.js';
import { ToolRegistry } from '../registry/tool-registry.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import {
  SERVER_CAPABILITIES,
  SERVER_INFO,
  SERVER_INSTRUCTIONS,
  serverIdentity,
  type ServerInfo,
} from '../server-info.js';
import { redactText } from '../../common/redaction/redactor.js';
import { ToolAccessService } from '../../security/tool-access.service.js';

export interface McpCallerContext {
  principal?: Principal;
  ip?: string;
}

/** The two tool methods for one caller; create() installs them, the stdio fast start calls them once booted. */
export interface McpToolHandlers {
  listTools(): ListToolsResult;
  callTool(
    request: CallToolRequest,
    extra: RequestHandlerExtra<ServerRequest, ServerNotification>,
  ): Promise<CallToolResult>;
}

/**
 * Builds the SDK server object a transport talks to. The tool table is built once (by the registry) and only
 * referenced here, so a fresh server per stateless request costs a few closures.
 */
@Injectable()
export class McpServerFactory {
  private toolList?: Tool[];
  /**
   * One JSON Schema validator for every per-request server: the SDK otherwise builds a new Ajv instance with all
   * its formats for each Server (~0.3 ms and a lot of garbage per stateless request, measured by `npm run bench`).
   */
  private readonly schemaValidator = new AjvJsonSchemaValidator();
  /** tools/list per visible-set (one per API key), filtered once from the shared table. */
  private readonly listsByVisibility = new WeakMap<ReadonlySet<string>, Tool[]>();

  constructor(
    private readonly registry: ToolRegistry,
    private readonly invoker: ToolInvoker,
    private readonly access: ToolAccessService,
    @Inject(SERVER_INFO) private readonly info: ServerInfo,
  ) {}

  create(caller: McpCallerContext): Server {
    const server = new Server(serverIdentity(this.info), {
      capabilities: SERVER_CAPABILITIES,
      jsonSchemaValidator: this.schemaValidator,
      instructions: SERVER_INSTRUCTIONS,
    });
    const handlers = this.handlers(caller);
    server.setRequestHandler(ListToolsRequestSchema, () => handlers.listTools());
    server.setRequestHandler(CheckedCallToolRequestSchema, (request, extra) =>
      handlers.callTool(request, extra),
    );
    return server;
  }

  handlers(caller: McpCallerContext): McpToolHandlers {
    return {
      listTools: () => ({ tools: this.toolsFor(caller.principal) }),
      callTool: async (request, extra) => {
        const { name, arguments: args } = request.params;
        const tool = this.registry.get(name);
        if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
        const progressToken = request.params._meta?.progressToken;
        const outcome = await this.invoker.invoke(tool, args ?? {}, {
          headers: extra.requestInfo?.headers ?? {},
          ip: caller.ip,
          principal: caller.principal,
          signal: extra.signal,
          // notifications ride on this request's own response stream (stateless Streamable HTTP, or stdio)
          progress:
            progressToken === undefined
              ? undefined
              : (update) =>
                  void extra
                    .sendNotification({
                      method: 'notifications/progress',
                      params: { progressToken, ...update },
                    })
                    .catch(() => undefined),
          log: (level, logger, data) =>
            void extra
              .sendNotification({ method: 'notifications/message', params: { level, logger, data } })
              .catch(() => undefined),
        });
        if (!outcome.ok)
          return {
            content: [{ type: 'text', text: redactText(toolErrorText(outcome.error)) }],
            ...(outcome.error.structured ? { structuredContent: outcome.error.structured } : {}),
            isError: true,
          };
        return {
          content: outcome.texts.map((text) => ({ type: 'text' as const, text })),
          structuredContent: outcome.structured,
        };
      },
    };
  }

  /** Only the tools this caller may call (exposure lists, toolsets, scope, key limits; compact mode: 3 tools). */
  private toolsFor(principal: Principal | undefined): Tool[] {
    const visible = this.access.listedTools(principal);
    let list = this.listsByVisibility.get(visible);
    if (!list) {
      list = this.tools().filter((t) => visible.has(t.name));
      this.listsByVisibility.set(visible, list);
    }
    return list;
  }

  /** Every tool as tools/list describes it, before any filtering; also what the build-time manifest holds. */
  tools(): Tool[] {
    this.toolList ??= this.registry.all().map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: t.inputSchema as Tool['inputSchema'],
      outputSchema: t.outputSchema as Tool['outputSchema'],
      annotations: t.annotations,
    }));
    return this.toolList;
  }
}
