import { Injectable, Logger, Optional } from '@nestjs/common';
import { runWithCallContext, type CallContext } from '../../common/context/call-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { normalizeError } from '../../common/errors/error-normalizer.js';
import { safetySnapshotText } from '../../jobs/safety/safety-tools.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { PlanDto, planText } from '../../common/plan/plan.dto.js';
import type { Principal, ToolDefinition, ToolRequest } from '../../common/tools/tool-definition.js';
import { ToolRegistry } from './tool-registry.js';
import { isSharedAnswer } from '../../common/tools/shared-answer.js';

export interface ToolCallContext {
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  principal?: Principal;
  signal?: AbortSignal;
  /** From the transport when the client asked for progress (MCP progressToken). */
  progress?: CallContext['progress'];
  /** From the transport: log lines for the client (MCP notifications/message). */
  log?: CallContext['log'];
}

export type ToolCallOutcome =
  | { ok: true; tool: ToolDefinition; structured: Record<string, unknown>; texts: readonly string[] }
  | { ok: false; tool?: ToolDefinition; error: DomainError };

/**
 * Runs a tool by name with flat arguments: the path shared by MCP tools/call and the legacy POST /{tool} route.
 * Arguments are checked against the tool's schema keys, split back into route params, query and body, and the
 * controller method runs through Nest's global guards, interceptors and the ValidationPipe.
 */
@Injectable()
export class ToolInvoker {
  private readonly logger = new Logger('ToolInvoker');
  /**
   * The texts of shared answers (common/tools/shared-answer.ts: frozen, the same object for every caller while its
   * cache entry lives), rendered once per answer and tool rather than per call; dropped with the answer.
   */
  private readonly sharedTexts = new WeakMap<object, { tool: ToolDefinition; texts: readonly string[] }>();

  constructor(
    private readonly registry: ToolRegistry,
    // every call through here (MCP, POST /{tool}, stdio) is counted once; REST routes are counted by the HTTP metrics
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  /** By name (POST /{tool}): an unknown name is a NOT_FOUND outcome, counted like any other call. */
  async call(name: string, args: unknown, context: ToolCallContext): Promise<ToolCallOutcome> {
    const tool = this.registry.get(name);
    if (tool) return this.invoke(tool, args, context);
    const error = new DomainError('NOT_FOUND', `Unknown tool '${name}'`);
    this.metrics?.observeToolCall(undefined, error, 0);
    return { ok: false, error };
  }

  /** A tool the transport has already looked up (MCP tools/call answers an unknown name itself). */
  async invoke(tool: ToolDefinition, args: unknown, context: ToolCallContext): Promise<ToolCallOutcome> {
    const started = performance.now();
    const outcome = await this.run(tool, args, context);
    this.metrics?.observeToolCall(
      tool.name,
      outcome.ok ? undefined : outcome.error,
      (performance.now() - started) / 1000,
    );
    return outcome;
  }

  private async run(tool: ToolDefinition, args: unknown, context: ToolCallContext): Promise<ToolCallOutcome> {
    try {
      const request = this.buildRequest(tool, args ?? {}, context);
      // services deep below (a job wait) reach the caller's progress sink and abort signal through this
      const result = await runWithCallContext(
        {
          signal: context.signal,
          principal: context.principal,
          progress: context.progress,
          log: context.log,
        },
        () => tool.handler(request),
      );
      // Handed on as it is: the transport serialises it once (the SDK's JSON-RPC answer, Express for POST
      // /{tool}), which turns DTO instances into the same JSON as the REST route. A copy here (stringify and
      // parse) cost about a tenth of a large listing's CPU (npm run bench, profile of get_vms).
      const structured = (result instanceof PlanDto ? { ...result } : (result ?? {})) as Record<
        string,
        unknown
      >;
      if (!isSharedAnswer(result))
        return { ok: true, tool, structured, texts: this.texts(tool, result, structured) };
      const known = this.sharedTexts.get(result);
      if (known?.tool === tool) return { ok: true, tool, structured, texts: known.texts };
      const texts = Object.freeze(this.texts(tool, result, structured));
      this.sharedTexts.set(result, { tool, texts });
      return { ok: true, tool, structured, texts };
    } catch (error) {
      return {
        ok: false,
        tool,
        error: normalizeError(error, (ref, e) =>
          this.logger.error(`tool ${tool.name} failed unexpectedly (ref ${ref}): ${describe(e)}`),
        ),
      };
    }
  }

  /** The call's text content: the tool's renderer (or the JSON), and the safety snapshot it took, if any. */
  private texts(tool: ToolDefinition, result: unknown, structured: Record<string, unknown>): string[] {
    const text =
      result instanceof PlanDto
        ? planText(result)
        : tool.options.text
          ? tool.options.text(result)
          : JSON.stringify(structured);
    const texts = typeof text === 'string' ? [text] : [...text];
    // a safety snapshot taken first (src/jobs/safety) is named in the text too, for clients that read only text
    if (typeof structured.safety_snapshot === 'string')
      texts.push(safetySnapshotText(structured.safety_snapshot));
    return texts;
  }

  private buildRequest(tool: ToolDefinition, args: unknown, context: ToolCallContext): ToolRequest {
    if (typeof args !== 'object' || Array.isArray(args) || args === null) {
      throw new DomainError('VALIDATION', 'Invalid arguments: the arguments must be a JSON object');
    }
    const request: ToolRequest = {
      method: 'MCP',
      url: `/mcp/tools/${tool.name}`,
      headers: context.headers,
      ip: context.ip,
      params: {},
      query: {},
      body: {},
      principal: context.principal,
      toolName: tool.name,
      signal: context.signal,
    };
    const unknown: string[] = [];
    for (const [key, value] of Object.entries(args)) {
      const slot = Object.prototype.hasOwnProperty.call(tool.slots, key) ? tool.slots[key] : undefined;
      if (!slot) unknown.push(key);
      else if (value !== undefined && value !== null) request[slotKey(slot)][key] = value;
    }
    if (unknown.length) {
      const allowed = Object.keys(tool.slots).sort().join(', ') || 'none';
      throw new DomainError(
        'VALIDATION',
        `Invalid arguments: unknown argument${unknown.length > 1 ? 's' : ''} ${unknown
          .map((k) => `'${k}'`)
          .join(', ')}; ${tool.name} accepts: ${allowed}`,
      );
    }
    return request;
  }
}

const slotKey = (slot: 'param' | 'query' | 'body') => (slot === 'param' ? 'params' : slot);

const describe = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
