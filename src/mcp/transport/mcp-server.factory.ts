import { Inject, Injectable } from '@nestjs/common';
import {
  ProtocolError,
  ProtocolErrorCode,
  type CallToolResult,
  type Result,
  type Server,
  type ServerContext,
  type Tool,
} from '@modelcontextprotocol/server';
import { toolErrorText } from '../../common/errors/mcp-error.mapper.js';
import { ElicitationApprovals, type ApprovalState } from './elicitation-approvals.js';
import { McpCatalog } from './mcp-catalog.js';
import { ToolInvoker, type ToolCallContext } from '../registry/tool-invoker.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import {
  clientAcceptsTasks,
  createTaskResult,
  jobOf,
  taskError,
  taskOf,
  type TaskTiming,
} from './mcp-tasks.js';
import { ToolRegistry } from '../registry/tool-registry.js';
import type { Principal } from '../../common/tools/tool-definition.js';
import { SERVER_INFO, type ServerInfo } from '../server-info.js';
import type { CheckedCallParams } from './call-tool-request.js';
import { redactText } from '../../common/redaction/redactor.js';
import { ToolAccessService } from '../../security/tool-access.service.js';
import { isSharedAnswer, shareAnswer } from '../../common/tools/shared-answer.js';
import {
  buildMcpServer,
  sharedSchemaValidator,
  type McpCallerContext,
  type McpServerExtension,
  type McpToolHandlers,
  type TaskListener,
} from './mcp-server.js';

/** Where a tools/call came from, as far as the call needs to know. */
export interface ToolCallSite {
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** A notification on this request's own response stream (progress, task log lines). */
  notify(notification: { method: string; params: Record<string, unknown> }): Promise<void>;
  /** The SDK's request context, when the SDK's server carried the call (elicitation, request state, tasks). */
  sdk?: ServerContext;
}

/**
 * Builds the SDK server object a transport talks to. The tool table is built once (by the registry) and only
 * referenced here, so a fresh server per stateless request costs a few closures.
 */
@Injectable()
export class McpServerFactory {
  private toolList?: Tool[];
  /** tools/list per visible-set (one per API key), filtered once from the shared table. */
  private readonly listsByVisibility = new WeakMap<ReadonlySet<string>, Tool[]>();

  /** Task ttl and poll interval from the job settings (jobs.retention_days, jobs.poll_interval_seconds). */
  readonly taskTiming: TaskTiming;

  private taskListener?: TaskListener;

  /**
   * The direct path's results for shared answers (common/tools/shared-answer.ts), keyed on the invoker's texts of
   * the answer (one frozen array per answer and tool): built once and shared too, so the direct path also keeps
   * their serialised JSON (direct-tool-call.ts). Dropped with the answer.
   */
  private readonly sharedResults = new WeakMap<readonly string[], CallToolResult>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly registry: ToolRegistry,
    private readonly invoker: ToolInvoker,
    private readonly access: ToolAccessService,
    private readonly elicitation: ElicitationApprovals,
    @Inject(SERVER_INFO) private readonly info: ServerInfo,
    private readonly catalog: McpCatalog,
  ) {
    this.taskTiming = {
      ttlMs: (config.jobs.retentionDays ?? 30) * 86_400_000,
      pollIntervalMs: config.jobs.pollIntervalMs || 2000,
    };
  }

  /** Set only by a test in the same process (extend()); nothing in config or the environment reaches it. */
  private extension?: McpServerExtension;

  /** TaskListen registers itself here (it builds on this factory, so it cannot be injected into it). */
  serveTaskListens(listener: TaskListener): void {
    this.taskListener = listener;
  }

  create(caller: McpCallerContext): Server {
    const ext = this.extension;
    if (!ext) return buildMcpServer(this.info, this.handlers(caller), sharedSchemaValidator);
    const server = buildMcpServer(this.info, ext.handlers(this.handlers(caller)), sharedSchemaValidator);
    ext.install(server);
    return server;
  }

  /**
   * Test-only: every server built from now on (Streamable HTTP, stdio) also serves what `extension` adds. The
   * official conformance suite's fixture tools, resources and prompts (test/helpers/conformance-fixture.ts) ride on
   * the real transport this way; production never calls it (the CLI, config and environment have no path to it).
   */
  extend(extension: McpServerExtension): void {
    this.extension = extension;
  }

  /** A tool the direct path may call (direct-tool-call.ts): one of ours, and no test extension wrapping the calls. */
  servesDirectly(name: string): boolean {
    return this.extension === undefined && this.registry.get(name) !== undefined;
  }

  handlers(caller: McpCallerContext): McpToolHandlers {
    return {
      ...this.catalog.handlers(caller),
      listTools: () => ({ tools: this.toolsFor(caller.principal) }),
      callTool: (params, ctx) =>
        this.callTool(caller, params, {
          signal: ctx.mcpReq.signal,
          notify: (notification) => ctx.mcpReq.notify(notification),
          sdk: ctx,
        }),
      getTask: (taskId, ctx) => this.taskAs(caller, taskId, ctx.mcpReq.signal),
      verifyRequestState: (state, ctx) => this.elicitation.verify(state, ctx),
      listenTasks: async (request, wire, signal) => {
        if (!this.taskListener)
          throw new Error('task listens are not served before the application has booted');
        await this.taskListener.listen(request, caller, wire, signal);
      },
      cancelTask: async (taskId, ctx) => {
        const outcome = await this.invoker.call(
          'cancel_job',
          { job_id: taskId },
          this.callContext(caller, ctx),
        );
        // a task that has already ended is acknowledged like any other: cancellation is cooperative
        if (!outcome.ok && outcome.error.code !== 'CONFLICT') throw taskError(taskId, outcome.error);
        return {};
      },
    };
  }

  /**
   * One tools/call for this caller, whichever path carried it: the SDK's server (`sdk` set: a request that may
   * carry an approval form's answer, ask for one, or take a task handle) or the direct 2025-era path
   * (direct-tool-call.ts), which has none of those.
   */
  async callTool(
    caller: McpCallerContext,
    params: CheckedCallParams,
    site: ToolCallSite,
  ): Promise<CallToolResult> {
    const { name } = params;
    let args = params.arguments;
    const tool = this.registry.get(name);
    if (!tool) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
    // a retry that carries the user's answer to an approval form: granted, it runs with the single-use token
    const approvalState = site.sdk?.mcpReq.requestState<ApprovalState>();
    if (site.sdk && approvalState !== undefined) {
      const elicited = await this.elicitation.answered(approvalState, params, site.sdk);
      if ('refused' in elicited) return elicited.refused;
      args = { ...args, approval_token: elicited.token };
    }
    const progressToken = params._meta?.progressToken;
    const outcome = await this.invoker.invoke(tool, args ?? {}, {
      headers: caller.headers ?? {},
      ip: caller.ip,
      principal: caller.principal,
      signal: site.signal,
      // notifications ride on this request's own response stream (stateless Streamable HTTP, or stdio)
      progress:
        progressToken === undefined
          ? undefined
          : (update) =>
              void site
                .notify({ method: 'notifications/progress', params: { progressToken, ...update } })
                .catch(() => undefined),
      log: (level, logger, data) =>
        void site
          .notify({ method: 'notifications/message', params: { level, logger, data } })
          .catch(() => undefined),
    });
    if (
      !outcome.ok &&
      outcome.error.code === 'APPROVAL_REQUIRED' &&
      site.sdk &&
      approvalState === undefined
    ) {
      const asked = await this.elicitation.ask(outcome.error, site.sdk);
      if (asked) return asked;
    }
    if (!outcome.ok)
      return {
        content: [{ type: 'text', text: redactText(toolErrorText(outcome.error)) }],
        ...(outcome.error.structured ? { structuredContent: outcome.error.structured } : {}),
        isError: true,
      };
    const job = site.sdk && clientAcceptsTasks(site.sdk) ? jobOf(outcome.structured) : undefined;
    if (job && taskOf(job, this.taskTiming).status === 'working')
      return createTaskResult(job, this.taskTiming);
    // the SDK's server gets its own object, as before; the direct path may share one (it only serialises it)
    const shared = !site.sdk && isSharedAnswer(outcome.structured);
    const known = shared ? this.sharedResults.get(outcome.texts) : undefined;
    if (known) return known;
    const result: CallToolResult = {
      content: outcome.texts.map((text) => ({ type: 'text' as const, text })),
      structuredContent: outcome.structured,
    };
    if (shared) this.sharedResults.set(outcome.texts, shareAnswer(result));
    return result;
  }

  /** The job tools behind tasks/get and tasks/cancel run as this caller, through the same guards. */
  private callContext(caller: McpCallerContext, ctx: ServerContext): ToolCallContext {
    return {
      headers: caller.headers ?? {},
      ip: caller.ip,
      principal: caller.principal,
      signal: ctx.mcpReq.signal,
    };
  }

  /** tasks/get as this caller (get_job through the guards), also for subscriptions/listen: the Task or the refusal. */
  async taskAs(caller: McpCallerContext, taskId: string, signal?: AbortSignal): Promise<Result> {
    const context = { headers: caller.headers ?? {}, ip: caller.ip, principal: caller.principal, signal };
    const outcome = await this.invoker.call('get_job', { job_id: taskId }, context);
    if (!outcome.ok) throw taskError(taskId, outcome.error);
    const job = jobOf(outcome.structured);
    if (!job) throw new ProtocolError(ProtocolErrorCode.InternalError, `Task '${taskId}' is not a job`);
    return taskOf(job, this.taskTiming);
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
      outputSchema: t.outputSchema,
      annotations: t.annotations,
    }));
    return this.toolList;
  }
}
