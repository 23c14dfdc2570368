import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { JobStatus } from './job.types.js';

/**
 * The change feed: small events ("job X is now Y", "the tool list changed") that any replica publishes and every
 * replica's listeners receive. Subscribers are the MCP `subscriptions/listen` streams (src/mcp/transport).
 *
 * - SQLite (one process owns the store): in-process, delivered synchronously to this process's listeners.
 * - PostgreSQL (replicas share the store): `pg_notify` on one channel; each replica that has listeners holds one
 *   dedicated connection that `LISTEN`s and fans out what arrives, its own events included (so a replica never
 *   delivers an event twice). A lost notification costs a client one status push, never state: the job store
 *   stays the truth (tasks/get, get_job).
 *
 * Events are hints, not state: a listener reads the current job before telling anyone about it.
 */
export interface ChangeEvent {
  /** `job` (data: { job_id, status }) or a topic of a higher layer (`mcp`). */
  topic: string;
  data: Record<string, unknown>;
}

export type ChangeListener = (event: ChangeEvent) => void;

/** The job event: published by JobsStore after each committed status change. */
export interface JobChange {
  job_id: string;
  status: JobStatus;
}

export const JOB_TOPIC = 'job';
/** The PostgreSQL channel (an unquoted identifier). */
export const CHANGE_CHANNEL = 'pmp_changes';
/** pg_notify refuses payloads of 8000 bytes and more; our events are a few dozen. */
const MAX_PAYLOAD = 7900;
const RECONNECT_MS = 1000;

@Injectable()
export class ChangeFeed implements OnModuleDestroy {
  private readonly logger = new Logger('ChangeFeed');
  private readonly listeners = new Set<ChangeListener>();
  private readonly databaseUrl?: string;
  private listener?: pg.Client;
  private listening?: Promise<void>;
  private closed = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    this.databaseUrl = config.jobs.databaseUrl || undefined;
  }

  /** Across replicas on PostgreSQL, this process only otherwise. Never throws: a feed outage is logged. */
  publish(topic: string, data: Record<string, unknown>): void {
    const event: ChangeEvent = { topic, data };
    if (!this.databaseUrl) {
      this.dispatch(event);
      return;
    }
    const payload = JSON.stringify(event);
    if (payload.length > MAX_PAYLOAD) {
      this.logger.warn(`change event on ${topic} too large for pg_notify (${payload.length} bytes); dropped`);
      return;
    }
    this.dataSource.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, payload]).catch((error: unknown) => {
      this.logger.warn(`pg_notify failed (${messageOf(error)}); delivering on this replica only`);
      this.dispatch(event);
    });
  }

  publishJob(change: JobChange): void {
    this.publish(JOB_TOPIC, { ...change });
  }

  /** Starts listening on PostgreSQL with the first subscriber; the returned function unsubscribes. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    if (this.databaseUrl) void this.ready();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Resolves once events published from now on reach this process's listeners (PostgreSQL: the LISTEN is in
   * place). A caller that reads state after ready() and then gets events misses no change in between.
   */
  ready(): Promise<void> {
    if (!this.databaseUrl || this.closed) return Promise.resolve();
    this.listening ??= this.listen(this.databaseUrl).catch((error: unknown) => {
      this.listening = undefined;
      this.logger.warn(`LISTEN ${CHANGE_CHANNEL} failed: ${messageOf(error)}; retrying`);
      this.retryLater();
      throw error;
    });
    return this.listening;
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
  }

  private async listen(url: string): Promise<void> {
    // the PostgreSQL driver loads only here: a SQLite server never needs it (issue 18, RSS)
    const { default: driver } = await import('pg');
    const client = new driver.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    client.on('notification', (message) => {
      if (message.channel !== CHANGE_CHANNEL || !message.payload) return;
      try {
        const event = JSON.parse(message.payload) as ChangeEvent;
        if (typeof event?.topic === 'string' && typeof event.data === 'object' && event.data !== null)
          this.dispatch(event);
      } catch {
        this.logger.warn(`ignored a malformed ${CHANGE_CHANNEL} notification`);
      }
    });
    const lost = (error?: Error) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.listening = undefined;
      if (this.closed) return;
      this.logger.warn(`change feed connection lost${error ? `: ${error.message}` : ''}; reconnecting`);
      this.retryLater();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    await client.query(`LISTEN ${CHANGE_CHANNEL}`);
  }

  private retryLater(): void {
    if (this.closed || this.listeners.size === 0) return;
    setTimeout(() => {
      if (!this.closed && this.listeners.size > 0) void this.ready().catch(() => undefined);
    }, RECONNECT_MS).unref();
  }

  private dispatch(event: ChangeEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn(`a change listener failed: ${messageOf(error)}`);
      }
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
