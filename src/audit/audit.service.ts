import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, MoreThanOrEqual, type FindOptionsWhere, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { redactText, redactValue } from '../common/redaction/redactor.js';
import { AuditEventEntity, type AuditOutcome } from './audit-event.entity.js';
import { AUDIT_PAGE_DEFAULT, type AuditEventDto, type AuditEventListDto } from './dto/audit.dto.js';

/** What callers record; everything but action and outcome is optional. Text and details are redacted here. */
export interface AuditRecord {
  /** API key name. */
  actor?: string;
  /** Tool name, or e.g. `approval.approve`, `auth.failed`. */
  action: string;
  target?: string;
  outcome: AuditOutcome;
  reason?: string;
  /** sha256 of the canonical arguments (src/audit/args-digest.ts). */
  args_digest?: string;
  details?: Record<string, unknown>;
}

export interface AuditFilters {
  actor?: string;
  action?: string;
  outcome?: AuditOutcome;
  target?: string;
  /** Epoch ms. */
  since?: number;
  limit?: number;
  offset?: number;
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_REASON = 1000;
const MAX_DETAILS_JSON = 8 * 1024;

/**
 * The audit log: mutating tool calls and every refusal, in the audit_events table. Recording never fails the
 * call it describes (a store error is logged), and every row is redacted on the way in. The table is bounded by
 * audit.retention_days, pruned at start and hourly.
 */
@Injectable()
export class AuditService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AuditService');
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.prune();
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  onModuleDestroy(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
  }

  async record(event: AuditRecord): Promise<void> {
    try {
      const redact = { keepCommands: this.config.logging.logCommands };
      const reason = event.reason === undefined ? null : redactText(event.reason).slice(0, MAX_REASON);
      let details = event.details ? redactValue(event.details, redact) : null;
      const size = details ? JSON.stringify(details).length : 0;
      if (size > MAX_DETAILS_JSON) details = { truncated: true, original_size: size };
      const row: Partial<AuditEventEntity> = {
        at: Date.now(),
        actor: event.actor?.slice(0, 128) ?? null,
        action: event.action.slice(0, 96),
        target: event.target?.slice(0, 128) ?? null,
        outcome: event.outcome,
        reason,
        argsDigest: event.args_digest ?? null,
        details,
      };
      await this.events.insert(row as QueryDeepPartialEntity<AuditEventEntity>);
    } catch (error) {
      this.logger.warn(
        `audit event ${event.action}/${event.outcome} not stored: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  async list(filters: AuditFilters = {}): Promise<AuditEventListDto> {
    const limit = filters.limit ?? AUDIT_PAGE_DEFAULT;
    const offset = filters.offset ?? 0;
    const where: FindOptionsWhere<AuditEventEntity> = {
      ...(filters.actor !== undefined ? { actor: filters.actor } : {}),
      ...(filters.action !== undefined ? { action: filters.action } : {}),
      ...(filters.outcome !== undefined ? { outcome: filters.outcome } : {}),
      ...(filters.target !== undefined ? { target: filters.target } : {}),
      ...(filters.since !== undefined ? { at: MoreThanOrEqual(filters.since) } : {}),
    };
    const [rows, total] = await this.events.findAndCount({
      where,
      order: { id: 'DESC' },
      take: limit,
      skip: offset,
    });
    const more = offset + rows.length < total;
    return {
      events: rows.map(toDto),
      total,
      limit,
      offset,
      ...(more ? { next_offset: offset + rows.length } : {}),
      truncated: more,
    };
  }

  /** Deletes events older than audit.retention_days; returns how many. */
  async prune(now = Date.now()): Promise<number> {
    try {
      const cutoff = now - this.config.audit.retentionDays * DAY_MS;
      const result = await this.events.delete({ at: LessThan(cutoff) });
      return result.affected ?? 0;
    } catch (error) {
      this.logger.warn(`audit pruning failed: ${error instanceof Error ? error.message : String(error)}`);
      return 0;
    }
  }
}

function toDto(row: AuditEventEntity): AuditEventDto {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    reason: row.reason,
    args_digest: row.argsDigest,
    details: row.details,
  };
}
