import { Inject, Injectable } from '@nestjs/common';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  type GaugeConfiguration,
  prometheusContentType,
  Registry,
} from 'prom-client';
import type { DomainError } from '../common/errors/domain-error.js';
import { httpStatusFor } from '../common/errors/http-error.mapper.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { TOOL_TABLE, type ToolTable } from '../common/tools/tool-table.js';
import type { UpstreamCall } from './upstream-call.js';
import {
  methodLabel,
  outcomeForStatus,
  pvePathTemplate,
  routeLabel,
  UNKNOWN_TOOL,
  type ApprovalDecision,
  type ToolOutcome,
} from './metric-labels.js';

export const METRICS_CONTENT_TYPE = prometheusContentType;

/** Seconds. Tool calls include `wait` for a PVE task, hence the long tail. */
const TOOL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const HTTP_BUCKETS = TOOL_BUCKETS;
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Where a tool call came in: `mcp` (tools/call, POST /{tool}, stdio) or `rest` (the resource route). */
export type ToolVia = 'mcp' | 'rest';

const LEGACY_LABELS = ['route', 'method', 'status'] as const;
type LegacyLabel = (typeof LEGACY_LABELS)[number];

interface LatencyStats {
  sum: number;
  count: number;
  max: number;
}

let processRegistry: Registry | undefined;

/**
 * prom-client's process and Node.js metrics (CPU, memory, event-loop lag, GC, handles) describe the process, not
 * an app instance, and their collectors (a GC observer, an event-loop monitor) are never removed: one registry for
 * the whole process, however many apps it starts (tests start many).
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Owns this app's Prometheus registry (its own, not prom-client's global one, so app instances in one process
 * do not share or collide) and the recorders the HTTP middleware, the tool invoker, the Proxmox client and the
 * approvals service call. With metrics.enabled=false every recorder does nothing and /metrics does not exist.
 */
@Injectable()
export class MetricsService {
  readonly enabled: boolean;
  private readonly registry = new Registry();
  private readonly legacyLatency = new Map<string, { labels: Record<string, string>; stats: LatencyStats }>();
  private toolRoutes?: Map<string, string>;

  private readonly httpRequests = new Counter({
    name: 'proxmox_mcp_http_requests_total',
    help: 'HTTP requests by route template, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpLatencySum = new Counter({
    name: 'proxmox_mcp_http_request_latency_ms_sum',
    help: 'Total HTTP request latency in milliseconds (reference series; prefer the duration histogram)',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'proxmox_mcp_http_request_duration_seconds',
    help: 'HTTP request duration by route template, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  private readonly toolCalls = new Counter({
    name: 'proxmox_mcp_tool_calls_total',
    help: 'Tool calls by tool, entry point (mcp or rest) and outcome',
    labelNames: ['tool', 'via', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly toolDuration = new Histogram({
    name: 'proxmox_mcp_tool_call_duration_seconds',
    help: 'Tool call duration by tool, entry point and outcome',
    labelNames: ['tool', 'via', 'outcome'] as const,
    buckets: TOOL_BUCKETS,
    registers: [this.registry],
  });
  private readonly upstreamDuration = new Histogram({
    name: 'proxmox_mcp_upstream_request_duration_seconds',
    help: 'Proxmox API calls (retries included) by target, method and path template',
    labelNames: ['target', 'method', 'path'] as const,
    buckets: UPSTREAM_BUCKETS,
    registers: [this.registry],
  });
  private readonly upstreamErrors = new Counter({
    name: 'proxmox_mcp_upstream_errors_total',
    help: 'Failed Proxmox API calls by target, method, path template and error code',
    labelNames: ['target', 'method', 'path', 'code'] as const,
    registers: [this.registry],
  });
  private readonly approvalDecisions = new Counter({
    name: 'proxmox_mcp_approval_decisions_total',
    help: 'Approvals of high-risk calls: approved, denied (refused approval or token) or expired',
    labelNames: ['decision'] as const,
    registers: [this.registry],
  });

  // gauges computed when scraped (collect runs with the gauge as `this`; arrows keep the service's)
  private readonly httpLatencyMax: Gauge<LegacyLabel> = new Gauge({
    name: 'proxmox_mcp_http_request_latency_ms_max',
    help: 'Largest HTTP request latency in milliseconds since start (reference series)',
    labelNames: LEGACY_LABELS,
    registers: [this.registry],
    collect: () => {
      for (const { labels, stats } of this.legacyLatency.values()) this.httpLatencyMax.set(labels, stats.max);
    },
  });
  private readonly httpLatencyAvg: Gauge<LegacyLabel> = new Gauge({
    name: 'proxmox_mcp_http_request_latency_ms_avg',
    help: 'Mean HTTP request latency in milliseconds since start (reference series)',
    labelNames: LEGACY_LABELS,
    registers: [this.registry],
    collect: () => {
      for (const { labels, stats } of this.legacyLatency.values()) {
        this.httpLatencyAvg.set(labels, stats.sum / stats.count);
      }
    },
  });

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(TOOL_TABLE) private readonly tools: ToolTable,
  ) {
    this.enabled = config.metrics?.enabled ?? true;
  }

  /** The exposition text: process metrics, then this app's. */
  async render(): Promise<string> {
    const [processText, appText] = await Promise.all([processMetrics().metrics(), this.registry.metrics()]);
    return `${processText}\n${appText}`;
  }

  /** One finished HTTP request; a request to a tool's REST route is also that tool's call. */
  observeHttp(request: { method?: string; route?: { path?: unknown } }, status: number, ms: number): void {
    if (!this.enabled) return;
    const labels = {
      route: routeLabel(request.route?.path, status),
      method: methodLabel(request.method),
      status: String(status),
    };
    this.httpRequests.inc(labels);
    this.httpLatencySum.inc(labels, ms);
    this.httpDuration.observe(labels, ms / 1000);
    const key = `${labels.route} ${labels.method} ${labels.status}`;
    const entry = this.legacyLatency.get(key) ?? { labels, stats: { sum: 0, count: 0, max: 0 } };
    entry.stats.sum += ms;
    entry.stats.count += 1;
    entry.stats.max = Math.max(entry.stats.max, ms);
    this.legacyLatency.set(key, entry);

    const tool = this.toolAt(labels.method, labels.route);
    if (tool) this.observeTool(tool, 'rest', outcomeForStatus(status), ms / 1000);
  }

  /** A call through the tool invoker (MCP tools/call, POST /{tool}, stdio); `tool` undefined = unknown name. */
  observeToolCall(tool: string | undefined, error: DomainError | undefined, seconds: number): void {
    if (!this.enabled) return;
    const outcome = error ? outcomeForStatus(httpStatusFor(error.code)) : 'success';
    this.observeTool(tool ?? UNKNOWN_TOOL, 'mcp', outcome, seconds);
  }

  observeUpstream(call: UpstreamCall): void {
    if (!this.enabled) return;
    const labels = {
      target: call.target,
      method: methodLabel(call.method),
      path: pvePathTemplate(call.path),
    };
    this.upstreamDuration.observe(labels, call.durationMs / 1000);
    if (call.errorCode) this.upstreamErrors.inc({ ...labels, code: call.errorCode });
  }

  approvalDecision(decision: ApprovalDecision): void {
    if (this.enabled) this.approvalDecisions.inc({ decision });
  }

  /**
   * A gauge computed when scraped, for series whose data a higher layer owns (the job store registers its job
   * counts): that layer keeps the query, this registry only exposes the result.
   */
  addGauge<L extends string>(configuration: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
    return new Gauge({ ...configuration, registers: [this.registry] });
  }

  private observeTool(tool: string, via: ToolVia, outcome: ToolOutcome, seconds: number): void {
    this.toolCalls.inc({ tool, via, outcome });
    this.toolDuration.observe({ tool, via, outcome }, seconds);
  }

  /** The tool whose REST route is `METHOD /template`; the table is built once the registry has discovered tools. */
  private toolAt(method: string, route: string): string | undefined {
    if (!this.toolRoutes) {
      const tools = this.tools.all();
      if (tools.length === 0) return undefined;
      this.toolRoutes = new Map(tools.map((t) => [`${t.route.method} ${t.route.path}`, t.name]));
    }
    return this.toolRoutes.get(`${method} ${route}`);
  }
}
