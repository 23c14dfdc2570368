import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { NoRateLimit } from '../../security/rate-limit.guard.js';
import {
  CallToolBodyDto,
  SearchToolsQueryDto,
  ToolCallResultDto,
  ToolDescriptionDto,
  ToolNameParamDto,
  ToolSearchDto,
} from './dto/tool-catalog.dto.js';
import {
  CALLED_TOOL_TEXTS,
  ToolCatalogService,
  type CatalogCaller,
  type ToolCallResult,
} from './tool-catalog.service.js';
import { searchText } from './tool-catalog.text.js';

/**
 * The compact mode (mcp.tool_mode: compact): tools/list over MCP shows only these three; they find, describe and
 * run every tool the caller may use. They are REST routes too, and listed in full mode like any other tool.
 */
@ApiTags('tools')
@McpToolset('catalog')
@Controller('tools')
export class ToolCatalogController {
  constructor(private readonly catalog: ToolCatalogService) {}

  @Get()
  @McpTool({
    name: 'search_tools',
    title: 'Search tools',
    description:
      'Find the tools for a task, best first (ranked on name, title, arguments, toolset, description). Then describe_tool and call_tool.',
    risk: 'read',
    privileges: [],
    output: ToolSearchDto,
    text: searchText,
  })
  search(@Query() q: SearchToolsQueryDto, @Req() req: CatalogCaller): ToolSearchDto {
    return this.catalog.search(q, req);
  }

  @Get(':name')
  @McpTool({
    name: 'describe_tool',
    title: 'Describe a tool',
    description: "A tool's description and its full input and output JSON Schemas.",
    risk: 'read',
    privileges: [],
    output: ToolDescriptionDto,
  })
  describe(@Param() p: ToolNameParamDto, @Req() req: CatalogCaller): ToolDescriptionDto {
    return this.catalog.describe(p.name, req);
  }

  @Post(':name/call')
  @HttpCode(200)
  @NoRateLimit()
  @McpTool({
    name: 'call_tool',
    title: 'Call a tool',
    description:
      'Run a tool by name with its arguments, exactly as calling it directly (same checks, approvals, audit, jobs).',
    // no scope of its own: the tool it runs is checked (scope, key limits, approvals) and audited by name
    risk: 'read',
    runsTools: true,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    privileges: [],
    output: ToolCallResultDto,
    text: (r: ToolCallResult) => r[CALLED_TOOL_TEXTS] ?? JSON.stringify(r.result),
  })
  call(
    @Param() p: ToolNameParamDto,
    @Body() b: CallToolBodyDto,
    @Req() req: CatalogCaller,
  ): Promise<ToolCallResult> {
    return this.catalog.call(p.name, b.arguments, req);
  }
}
