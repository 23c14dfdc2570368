import { Injectable, Optional } from '@nestjs/common';
import { InMemoryServerEventBus, type ServerEvent, type ServerEventBus } from '@modelcontextprotocol/server';
import { ChangeFeed, JOB_TOPIC, type ChangeEvent } from '../../jobs/change-feed.js';

/** The feed topic of the SDK's list-change events. */
export const MCP_TOPIC = 'mcp';

/** The resource URI of a job (pve://jobs/{job_id}): a job status change is a `resource_updated` for it. */
export const jobResourceUri = (jobId: string): string => `pve://jobs/${jobId}`;

const SERVER_EVENT_KINDS: ReadonlySet<string> = new Set([
  'tools_list_changed',
  'prompts_list_changed',
  'resources_list_changed',
  'resource_updated',
]);

/**
 * The SDK's `subscriptions/listen` event seam (createMcpHandler's `bus`) over the job store's change feed, so a
 * stream open on one replica hears what another replica published (PostgreSQL LISTEN/NOTIFY; in-process on
 * SQLite):
 * - `publish()` (the handler's `notify.toolsChanged()` etc.) goes out on the feed's `mcp` topic;
 * - every job status change also arrives as `resource_updated` for `pve://jobs/<job_id>`. The SDK delivers it
 *   only to a listen that named that URI in `resourceSubscriptions`, and only once the server advertises
 *   `resources.subscribe` (the job resources); until then the SDK's filter drops it.
 * Task status (`notifications/tasks`, the Tasks extension) is not an SDK event: see task-listen.ts.
 */
@Injectable()
export class McpEventBus implements ServerEventBus {
  /** Where no job store is loaded (the registry's unit harness): this process's listeners only. */
  private readonly local = new InMemoryServerEventBus();

  constructor(@Optional() private readonly feed?: ChangeFeed) {}

  publish(event: ServerEvent): void {
    if (!this.feed) return this.local.publish(event);
    this.feed.publish(MCP_TOPIC, { ...event });
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    if (!this.feed) return this.local.subscribe(listener);
    return this.feed.subscribe((change) => {
      const event = serverEventOf(change);
      if (event) listener(event);
    });
  }
}

function serverEventOf(change: ChangeEvent): ServerEvent | undefined {
  if (change.topic === JOB_TOPIC) {
    const jobId = change.data.job_id;
    return typeof jobId === 'string' ? { kind: 'resource_updated', uri: jobResourceUri(jobId) } : undefined;
  }
  if (change.topic !== MCP_TOPIC) return undefined;
  const { kind, uri } = change.data;
  if (typeof kind !== 'string' || !SERVER_EVENT_KINDS.has(kind)) return undefined;
  if (kind === 'resource_updated') return typeof uri === 'string' ? { kind, uri } : undefined;
  return { kind } as ServerEvent;
}
