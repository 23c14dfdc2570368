import { Inject, Injectable, Optional, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  CLIENT_CAPABILITIES_META_KEY,
  SERVER_INFO_META_KEY,
  SUBSCRIPTION_ID_META_KEY,
  type ServerEvent,
} from '@modelcontextprotocol/server';
import type { Request, Response } from 'express';
import { ChangeFeed, JOB_TOPIC } from '../../jobs/change-feed.js';
import { JobsService } from '../../jobs/jobs.service.js';
import { SERVER_CAPABILITIES, SERVER_INFO, serverIdentity, type ServerInfo } from '../server-info.js';
import { McpEventBus } from './mcp-event-bus.js';
import { McpServerFactory } from './mcp-server.factory.js';
import { isTaskListen, MODERN, type ListenRequest, type ListenWire } from './listen-wire.js';
import type { McpCallerContext, TaskListener } from './mcp-server.js';
import { TASKS_EXTENSION, taskOf } from './mcp-tasks.js';

/** How many task ids one listen may name. */
export const MAX_LISTEN_TASK_IDS = 100;
/** Open task listens per process (the SDK's router has the same default for its own). */
const MAX_OPEN_LISTENS = 1024;
const KEEP_ALIVE_MS = 15_000;
const ENDED: ReadonlySet<unknown> = new Set(['completed', 'cancelled', 'failed']);

interface Filter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
  taskIds?: string[];
}

/**
 * `subscriptions/listen` with `notifications.taskIds` (the Tasks extension's "Task Status Notifications").
 *
 * The SDK's listen router (createMcpHandler) serves the four core change types from the bus but drops `taskIds`
 * from the filter and has no way to send `notifications/tasks`, so the HTTP endpoint hands such a listen here
 * (every other listen, and anything malformed at the protocol level, stays with the SDK):
 * - a client that did not declare `io.modelcontextprotocol/tasks` gets -32021 with the required capability;
 * - each task id is checked as tasks/get would be (get_job as this caller, through the guards); the ack lists
 *   the ids this server agreed to watch (unknown or forbidden ones are left out);
 * - right after the ack, each watched task's current state, then one `notifications/tasks` per status change
 *   (the full Task, as tasks/get returns it), from the job store's change feed, so a job finished by another
 *   replica's poller reaches a stream open on this one (PostgreSQL LISTEN/NOTIFY);
 * - the core types asked for in the same listen are served too, from the same bus as the SDK's router;
 * - when every watched task has ended and nothing else was asked for, the stream ends gracefully.
 */
@Injectable()
export class TaskListen implements TaskListener, OnModuleDestroy {
  private readonly logger = new Logger('TaskListen');
  private readonly open = new Set<() => void>();

  constructor(
    private readonly factory: McpServerFactory,
    private readonly bus: McpEventBus,
    @Inject(SERVER_INFO) private readonly info: ServerInfo,
    // absent only where the job store is not loaded (the registry's unit harness): then no task listen is served
    @Optional() private readonly jobs?: JobsService,
    @Optional() private readonly feed?: ChangeFeed,
  ) {
    // stdio reaches task listens through the caller's handlers (McpToolHandlers.listenTasks)
    factory.serveTaskListens(this);
  }

  /** A single 2026-07-28 subscriptions/listen that names taskIds, with consistent routing headers. */
  wants(body: unknown, headers: Request['headers']): boolean {
    return (
      this.feed !== undefined &&
      isTaskListen(body) &&
      headers['mcp-protocol-version'] === MODERN &&
      headers['mcp-method'] === 'subscriptions/listen'
    );
  }

  /** Over HTTP: the stream is this response (SSE, with keep-alives); the client ends it by hanging up. */
  async serve(req: Request, res: Response, caller: McpCallerContext): Promise<void> {
    const abort = new AbortController();
    const onClose = () => abort.abort();
    res.on('close', onClose);
    let keepAlive: NodeJS.Timeout | undefined;
    const wire: ListenWire = {
      refuse: (httpStatus, response) => {
        res.off('close', onClose);
        res.status(httpStatus).json(response);
      },
      open: () => {
        res.writeHead(200, {
          'Content-Type': 'text/event-stream',
          'Cache-Control': 'no-cache, no-transform',
          Connection: 'keep-alive',
          'X-Accel-Buffering': 'no',
        });
        keepAlive = setInterval(() => res.write(': keepalive\n\n'), KEEP_ALIVE_MS);
        keepAlive.unref();
      },
      send: (message) => void res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`),
      end: () => {
        clearInterval(keepAlive);
        res.off('close', onClose);
        res.end();
      },
    };
    await this.listen(req.body as ListenRequest, caller, wire, abort.signal);
  }

  /**
   * One task listen on any wire: refused before anything is sent, or opened, acknowledged and fed until every
   * watched task ended (nothing else asked), `signal` aborts (the client hung up or cancelled) or shutdown.
   */
  async listen(
    request: ListenRequest,
    caller: McpCallerContext,
    wire: ListenWire,
    signal: AbortSignal,
  ): Promise<void> {
    const { id, params } = request;
    const { jobs, feed } = this;
    if (!jobs || !feed) {
      wire.refuse(200, {
        jsonrpc: '2.0',
        id,
        error: { code: -32603, message: 'Task listens are not served here' },
      });
      return;
    }
    const capabilities = params._meta[CLIENT_CAPABILITIES_META_KEY] as
      { extensions?: Record<string, unknown> } | undefined;
    const declared = capabilities?.extensions?.[TASKS_EXTENSION];
    if (typeof declared !== 'object' || declared === null) {
      wire.refuse(400, {
        jsonrpc: '2.0',
        id,
        error: {
          code: -32021,
          message:
            `Missing required client capability: task notifications (notifications.taskIds) need the ` +
            `${TASKS_EXTENSION} extension declared in _meta["${CLIENT_CAPABILITIES_META_KEY}"].extensions`,
          data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
        },
      });
      return;
    }
    const filter = filterOf(params.notifications);
    if (typeof filter === 'string') {
      wire.refuse(200, { jsonrpc: '2.0', id, error: { code: -32602, message: `Invalid params: ${filter}` } });
      return;
    }
    if (this.open.size >= MAX_OPEN_LISTENS) {
      this.logger.warn(`subscriptions/listen refused: ${MAX_OPEN_LISTENS} task listens are open`);
      wire.refuse(200, {
        jsonrpc: '2.0',
        id,
        error: { code: -32603, message: 'Subscription limit reached' },
      });
      return;
    }

    // listen first, read second: a change between the two is seen twice at worst, never missed
    const pending: string[] = [];
    let deliver: (jobId: string) => void = (jobId) => void pending.push(jobId);
    const unsubscribeFeed = feed.subscribe((event) => {
      const jobId = event.topic === JOB_TOPIC ? event.data.job_id : undefined;
      if (typeof jobId === 'string') deliver(jobId);
    });
    try {
      await feed.ready();
    } catch {
      unsubscribeFeed();
      wire.refuse(200, {
        jsonrpc: '2.0',
        id,
        error: {
          code: -32603,
          message: 'The change feed is not available right now; poll tasks/get instead',
        },
      });
      return;
    }

    const watched = new Map<string, string>();
    const first: Record<string, unknown>[] = [];
    for (const taskId of filter.taskIds ?? []) {
      if (signal.aborted) break;
      try {
        const task = await this.factory.taskAs(caller, taskId, signal);
        watched.set(String(task.taskId), '');
        first.push(task);
      } catch (error) {
        this.logger.debug(`listen: task ${taskId.slice(0, 80)} not watched: ${(error as Error).message}`);
      }
    }
    if (signal.aborted) {
      unsubscribeFeed();
      return;
    }

    const honored = honoredCore(filter);
    const coreAsked = Object.keys(honored).length > 0;
    if (watched.size > 0) honored.taskIds = [...watched.keys()];

    let closed = false;
    let unsubscribeBus: (() => void) | undefined;
    const notify = (method: string, notificationParams: Record<string, unknown>) => {
      if (closed) return;
      wire.send({
        jsonrpc: '2.0',
        method,
        params: {
          ...notificationParams,
          _meta: {
            ...(notificationParams._meta as Record<string, unknown> | undefined),
            [SUBSCRIPTION_ID_META_KEY]: id,
          },
        },
      });
    };
    const teardown = (graceful: boolean) => {
      if (closed) return;
      if (graceful)
        wire.send({
          jsonrpc: '2.0',
          id,
          result: {
            resultType: 'complete',
            _meta: { [SUBSCRIPTION_ID_META_KEY]: id, [SERVER_INFO_META_KEY]: serverIdentity(this.info) },
          },
        });
      closed = true;
      unsubscribeFeed();
      unsubscribeBus?.();
      signal.removeEventListener('abort', onAbort);
      this.open.delete(end);
      wire.end();
    };
    const end = () => teardown(true);
    const onAbort = () => teardown(false);
    signal.addEventListener('abort', onAbort, { once: true });

    const sendTask = (task: Record<string, unknown>) => {
      const taskId = String(task.taskId);
      if (!watched.has(taskId)) return;
      const key = `${String(task.status)}\n${String(task.statusMessage)}\n${String(task.lastUpdatedAt)}`;
      if (watched.get(taskId) === key) return;
      watched.set(taskId, key);
      notify('notifications/tasks', task);
      if (ENDED.has(task.status)) {
        watched.delete(taskId);
        if (watched.size === 0 && !coreAsked) teardown(true);
      }
    };

    wire.open();
    notify('notifications/subscriptions/acknowledged', { notifications: honored });
    this.open.add(end);
    if (watched.size === 0 && !coreAsked) {
      teardown(true);
      return;
    }
    for (const task of first) sendTask(task);
    if (closed) return;

    // job changes, one at a time in arrival order: the job is read when its turn comes (the newest state)
    let queue = Promise.resolve();
    deliver = (jobId) => {
      if (closed || !watched.has(jobId)) return;
      queue = queue.then(async () => {
        if (closed || !watched.has(jobId)) return;
        try {
          sendTask(taskOf(await jobs.get(jobId), this.factory.taskTiming));
        } catch (error) {
          this.logger.debug(`listen: task ${jobId} not readable: ${(error as Error).message}`);
        }
      });
    };
    for (const jobId of pending.splice(0)) deliver(jobId);
    if (coreAsked)
      unsubscribeBus = this.bus.subscribe((event) => {
        if (closed || !accepts(honored, event)) return;
        const { method, params: eventParams } = notificationOf(event);
        notify(method, eventParams);
      });
  }

  onModuleDestroy(): void {
    for (const end of [...this.open]) end();
  }
}

/** The filter as sent, checked field by field; a string says what is wrong. */
function filterOf(notifications: Record<string, unknown>): Filter | string {
  const filter: Filter = {};
  for (const key of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const) {
    const value = notifications[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') return `notifications.${key} must be a boolean`;
    filter[key] = value;
  }
  for (const key of ['resourceSubscriptions', 'taskIds'] as const) {
    const value = notifications[key];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '' || v.length > 200))
      return `notifications.${key} must be an array of non-empty strings (at most 200 characters each)`;
    filter[key] = [...new Set(value as string[])];
  }
  if ((filter.taskIds?.length ?? 0) > MAX_LISTEN_TASK_IDS)
    return `notifications.taskIds names ${filter.taskIds!.length} tasks; at most ${MAX_LISTEN_TASK_IDS} per listen`;
  return filter;
}

/** The core types asked for that this server can deliver (as the SDK's router narrows them). */
function honoredCore(filter: Filter): Filter {
  const caps = SERVER_CAPABILITIES as {
    tools?: { listChanged?: boolean };
    prompts?: { listChanged?: boolean };
    resources?: { listChanged?: boolean; subscribe?: boolean };
  };
  const honored: Filter = {};
  if (filter.toolsListChanged && caps.tools?.listChanged) honored.toolsListChanged = true;
  if (filter.promptsListChanged && caps.prompts?.listChanged) honored.promptsListChanged = true;
  if (filter.resourcesListChanged && caps.resources?.listChanged) honored.resourcesListChanged = true;
  if (filter.resourceSubscriptions?.length && caps.resources?.subscribe)
    honored.resourceSubscriptions = filter.resourceSubscriptions;
  return honored;
}

function accepts(filter: Filter, event: ServerEvent): boolean {
  switch (event.kind) {
    case 'tools_list_changed':
      return filter.toolsListChanged === true;
    case 'prompts_list_changed':
      return filter.promptsListChanged === true;
    case 'resources_list_changed':
      return filter.resourcesListChanged === true;
    case 'resource_updated':
      return filter.resourceSubscriptions?.includes(event.uri) === true;
  }
}

function notificationOf(event: ServerEvent): { method: string; params: Record<string, unknown> } {
  const params = { ...event.params };
  switch (event.kind) {
    case 'tools_list_changed':
      return { method: 'notifications/tools/list_changed', params };
    case 'prompts_list_changed':
      return { method: 'notifications/prompts/list_changed', params };
    case 'resources_list_changed':
      return { method: 'notifications/resources/list_changed', params };
    case 'resource_updated':
      return { method: 'notifications/resources/updated', params: { ...params, uri: event.uri } };
  }
}
