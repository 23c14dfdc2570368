import { Global, Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TOOL_INPUT_ARGUMENTS } from '../common/tools/tool-input-argument.js';
import { TOOL_TABLE } from '../common/tools/tool-table.js';
import { ApprovalTokenArgument } from '../security/approvals/approval-argument.js';
import { SafetySnapshotArgument } from '../jobs/safety/safety-argument.js';
import { PlanArguments } from '../security/plans/plan-argument.js';
import { ToolAccessService } from '../security/tool-access.service.js';
import { ToolInvoker } from './registry/tool-invoker.js';
import { ToolRegistry } from './registry/tool-registry.js';
import { readServerInfo, SERVER_INFO } from './server-info.js';
import { McpHttpController } from './transport/mcp-http.controller.js';
import { McpHttpEndpoint } from './transport/mcp-http.endpoint.js';
import { McpServerFactory } from './transport/mcp-server.factory.js';
import { ElicitationApprovals } from './transport/elicitation-approvals.js';
import { McpCatalog } from './transport/mcp-catalog.js';
import { ToolRouteEndpoint } from './transport/tool-route.endpoint.js';
import { McpEventBus } from './transport/mcp-event-bus.js';
import { TaskListen } from './transport/task-listen.js';

/** Tool discovery, invocation and the MCP transports. Domain modules only use the @McpTool decorator. */
@Global()
@Module({
  imports: [DiscoveryModule],
  controllers: [McpHttpController],
  providers: [
    ToolRegistry,
    // the layers below read the table through this token (src/common/tools/tool-table.ts)
    { provide: TOOL_TABLE, useExisting: ToolRegistry },
    // the arguments cross-cutting features add to tools' input schemas, applied by the registry at boot
    ApprovalTokenArgument,
    SafetySnapshotArgument,
    PlanArguments,
    {
      provide: TOOL_INPUT_ARGUMENTS,
      // order matters for output schemas: the safety snapshot extends the tool's own result, then plans add theirs
      useFactory: (
        approvalToken: ApprovalTokenArgument,
        safety: SafetySnapshotArgument,
        plans: PlanArguments,
      ) => [approvalToken, safety, plans],
      inject: [ApprovalTokenArgument, SafetySnapshotArgument, PlanArguments],
    },
    ToolInvoker,
    ElicitationApprovals,
    McpServerFactory,
    McpCatalog,
    // subscriptions/listen: the SDK's event bus over the change feed, and task status streams
    McpEventBus,
    TaskListen,
    // here (not in a security module) so its boot check runs after the registry it depends on has built the table
    ToolAccessService,
    { provide: SERVER_INFO, useFactory: readServerInfo },
  ],
  exports: [ToolRegistry, TOOL_TABLE, ToolInvoker, McpServerFactory, ToolAccessService, SERVER_INFO],
})
export class McpModule implements NestModule {
  /**
   * The two routes that carry tool calls are route middleware, not controller methods: the global guards,
   * interceptors and pipes then run once per tool call (ToolInvoker), not a second time around the HTTP request.
   * POST /mcp first: it would otherwise match /{tool}.
   */
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(McpHttpEndpoint)
      .forRoutes({ path: 'mcp', method: RequestMethod.POST })
      .apply(ToolRouteEndpoint)
      .forRoutes({ path: ':tool', method: RequestMethod.POST });
  }
}
