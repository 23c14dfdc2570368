import { Inject, Injectable } from '@nestjs/common';
import { currentCall } from '../../common/context/call-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import type { Principal, ToolDefinition } from '../../common/tools/tool-definition.js';
import { TOOL_TABLE, type ToolTable } from '../../common/tools/tool-table.js';
import { COMPACT_TOOLS, TOOLSETS } from '../../common/tools/toolsets.js';
import { ToolInvoker } from '../../mcp/registry/tool-invoker.js';
import { ToolAccessService } from '../../security/tool-access.service.js';
import type {
  SearchToolsQueryDto,
  ToolCallResultDto,
  ToolDescriptionDto,
  ToolHitDto,
  ToolSearchDto,
} from './dto/tool-catalog.dto.js';
import { rankTools } from './tool-search.js';

/** The caller as both paths hand it over: the Express request (REST) or the tool invoker's request (MCP). */
export interface CatalogCaller {
  principal?: Principal;
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
}

/** Where call_tool keeps the texts of the tool it ran (the MCP text items; not part of the JSON result). */
export const CALLED_TOOL_TEXTS = Symbol('calledToolTexts');
export type ToolCallResult = ToolCallResultDto & { [CALLED_TOOL_TEXTS]?: readonly string[] };

const DEFAULT_LIMIT = 10;

/**
 * The compact mode's three tools. They see exactly the tools the caller may call (toolsets, exposure lists, scope,
 * key limits: ToolAccessService.callableTools), and call_tool runs one through the ToolInvoker, the path a direct
 * MCP tools/call takes, so its guards, approvals, audit, rate limit, jobs and progress are the tool's own.
 */
@Injectable()
export class ToolCatalogService {
  constructor(
    @Inject(TOOL_TABLE) private readonly table: ToolTable,
    private readonly access: ToolAccessService,
    private readonly invoker: ToolInvoker,
  ) {}

  search(query: SearchToolsQueryDto, caller: CatalogCaller): ToolSearchDto {
    const tools = this.callable(caller).filter(
      (t) => !COMPACT_TOOLS.has(t.name) && (!query.toolset || t.toolset === query.toolset),
    );
    const limit = query.limit ?? DEFAULT_LIMIT;
    const byName = new Map(tools.map((t) => [t.name, t]));
    if (!query.query?.trim()) {
      // no words: browse (the toolset's tools, or every tool), by toolset then name
      const sorted = [...tools].sort(
        (a, b) => (a.toolset ?? '').localeCompare(b.toolset ?? '') || a.name.localeCompare(b.name),
      );
      return { total: sorted.length, tools: sorted.slice(0, limit).map((t) => hit(t, 0, [])) };
    }
    const hits = rankTools(
      query.query,
      tools.map((t) => ({
        name: t.name,
        title: t.title,
        description: t.description,
        args: Object.keys(t.slots),
        toolset: t.toolset ? `${t.toolset} ${TOOLSETS[t.toolset]}` : '',
      })),
    );
    return {
      total: hits.length,
      tools: hits.slice(0, limit).map((h) => hit(byName.get(h.name)!, h.score, h.matched)),
    };
  }

  describe(name: string, caller: CatalogCaller): ToolDescriptionDto {
    const tool = this.find(name, caller);
    return {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      toolset: tool.toolset ?? 'none',
      risk: tool.risk,
      input_schema: tool.inputSchema,
      output_schema: tool.outputSchema,
    };
  }

  async call(
    name: string,
    args: Record<string, unknown> | undefined,
    caller: CatalogCaller,
  ): Promise<ToolCallResult> {
    if (COMPACT_TOOLS.has(name)) {
      throw new DomainError(
        'VALIDATION',
        `Invalid arguments: name: call_tool does not run ${name}; call it directly`,
        {
          hint: 'call_tool runs the tools search_tools finds.',
        },
      );
    }
    // an unknown tool is NOT_FOUND here; one the caller may not use goes to the invoker, whose guard refuses it
    // (FORBIDDEN naming why) and audits the refusal under the tool's own name, as a direct call would
    const tool = this.table.get(name);
    if (!tool) throw unknownTool(name);
    const call = currentCall();
    const outcome = await this.invoker.invoke(tool, args ?? {}, {
      headers: caller.headers,
      ip: caller.ip,
      principal: caller.principal,
      signal: call.signal,
      progress: call.progress,
      log: call.log,
    });
    if (!outcome.ok) throw outcome.error;
    const result: ToolCallResult = { tool: tool.name, result: outcome.structured };
    Object.defineProperty(result, CALLED_TOOL_TEXTS, { value: outcome.texts, enumerable: false });
    return result;
  }

  private callable(caller: CatalogCaller): ToolDefinition[] {
    const names = this.access.callableTools(caller.principal);
    return this.table.all().filter((t) => names.has(t.name));
  }

  /** A tool the caller may use; any other name reads as unknown (a hidden tool is not revealed). */
  private find(name: string, caller: CatalogCaller): ToolDefinition {
    const tool = this.table.get(name);
    if (!tool || !this.access.callableTools(caller.principal).has(name)) throw unknownTool(name);
    return tool;
  }
}

const hit = (t: ToolDefinition, score: number, matched: string[]): ToolHitDto => ({
  name: t.name,
  title: t.title,
  description: t.description,
  toolset: t.toolset ?? 'none',
  risk: t.risk,
  score,
  matched,
});

const unknownTool = (name: string) =>
  new DomainError('NOT_FOUND', `No tool '${name}' is available to this caller`, {
    hint: 'search_tools lists the tools you may use, by words or by toolset.',
  });
