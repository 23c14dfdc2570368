import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThanOrEqual, type FindOptionsWhere, type Repository } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { redactText, redactValue } from '../common/redaction/redactor.js';
import { AuditEventEntity, type AuditOutcome } from './audit-event.entity.js';
import { AUDIT_PAGE_DEFAULT, type AuditEventDto, type AuditEventListDto } from './dto/audit.dto.js';
import { AuditChainStore } from './audit-chain.store.js';
import { chainRecordOf, type RawAuditRow } from './audit-chain.js';
import { verifyChain, type ChainVerification } from './audit-verifier.js';
import { EXPORT_PAGE_DEFAULT, type AuditChainRecordDto, type AuditExportDto } from './dto/audit-chain.dto.js';

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
    private readonly chain: AuditChainStore,
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
      // serialised once: the size check and the stored column use the same text
      let detailsJson = event.details ? JSON.stringify(redactValue(event.details, redact)) : null;
      if (detailsJson !== null && detailsJson.length > MAX_DETAILS_JSON)
        detailsJson = JSON.stringify({ truncated: true, original_size: detailsJson.length });
      // one chained insert (src/audit/audit-chain.store.ts): the row links to the previous one by its hash
      await this.chain.append({
        at: Date.now(),
        actor: event.actor?.slice(0, 128) ?? null,
        action: event.action.slice(0, 96),
        target: event.target?.slice(0, 128) ?? null,
        outcome: event.outcome,
        reason,
        args_digest: event.args_digest ?? null,
        details_json: detailsJson,
      });
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

  /**
   * Deletes events older than audit.retention_days (the oldest part of the hash chain, up to the first newer
   * row) and records the last deleted row's hash as the chain's checkpoint; returns how many.
   */
  async prune(now = Date.now()): Promise<number> {
    try {
      const cutoff = now - this.config.audit.retentionDays * DAY_MS;
      return await this.chain.prune(cutoff, now);
    } catch (error) {
      this.logger.warn(`audit pruning failed: ${error instanceof Error ? error.message : String(error)}`);
      return 0;
    }
  }

  /** verify_audit_log: walks the hash chain from the checkpoint to the head. */
  verify(): Promise<ChainVerification> {
    return this.chain.snapshot((reader) => verifyChain(reader));
  }

  /** export_audit_log: one page of the chain in id order, after `afterId` (default: from the checkpoint). */
  exportPage(afterId?: number, limit = EXPORT_PAGE_DEFAULT): Promise<AuditExportDto> {
    return this.chain.snapshot(async (reader) => {
      const state = await reader.state();
      const from = Math.max(afterId ?? 0, state.legacyMaxId);
      const raw = await reader.page(from, limit + 1);
      const more = raw.length > limit;
      const records: AuditChainRecordDto[] = [];
      for (const r of raw.slice(0, limit)) {
        const record = chainRecordOf(r);
        // a row outside the chain is exported as it is (no hash): the external verifier reports it
        records.push(record ?? unchained(r));
      }
      const first = records[0];
      const last = records.at(-1);
      return {
        records,
        count: records.length,
        ...(first ? { first_id: first.id, first_seq: first.seq, prev_hash: first.prev_hash } : {}),
        ...(last ? { last_id: last.id, last_seq: last.seq, last_hash: last.hash } : {}),
        checkpoint: { seq: state.checkpointSeq, hash: state.checkpointHash },
        head: { seq: state.headSeq, hash: state.headHash },
        ...(more && last ? { next_after_id: last.id } : {}),
        truncated: more,
      };
    });
  }

  /** Every chained row from the checkpoint, page by page, for the JSON-lines download. */
  async *exportAll(afterId?: number): AsyncGenerator<AuditChainRecordDto> {
    let after = afterId;
    for (;;) {
      const page = await this.exportPage(after, 1000);
      yield* page.records;
      if (page.next_after_id === undefined) return;
      after = page.next_after_id;
    }
  }
}

function unchained(r: RawAuditRow): AuditChainRecordDto {
  return {
    id: Number(r.id),
    seq: r.chain_seq === null ? null : Number(r.chain_seq),
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    reason: r.reason,
    args_digest: r.args_digest,
    details_json: r.details_json,
    prev_hash: r.prev_hash,
    hash: r.hash,
  };
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
