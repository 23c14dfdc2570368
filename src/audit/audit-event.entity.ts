import { Column, Entity, Index } from 'typeorm';
import { epochMs, jsonText } from '../common/persistence/column-transformers.js';

export const AUDIT_OUTCOMES = ['succeeded', 'failed', 'denied', 'approval_required'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/**
 * One security-relevant event: a mutating tool call and how it ended, or a refusal (authentication, scope,
 * exposure, policy, approval). Rows are written redacted and pruned after audit.retention_days.
 */
@Entity({ name: 'audit_events' })
@Index('idx_audit_events_at', ['at'])
@Index('idx_audit_events_actor_at', ['actor', 'at'])
@Index('idx_audit_events_action_at', ['action', 'at'])
@Index('idx_audit_events_outcome_at', ['outcome', 'at'])
@Index('idx_audit_events_chain_seq', ['chainSeq'])
export class AuditEventEntity {
  @Column({ type: 'integer', primary: true, generated: 'increment' }) id: number;
  @Column({ type: 'bigint', transformer: epochMs }) at: number;
  /** API key name (`env:MCP_API_KEY`, `ci`, `stdio`); null when the caller could not be identified. */
  @Column({ type: 'varchar', length: 128, nullable: true }) actor: string | null;
  /** Tool name, or a dotted action such as `auth.failed` or `approval.approve`. */
  @Column({ type: 'varchar', length: 96 }) action: string;
  @Column({ type: 'varchar', length: 128, nullable: true }) target: string | null;
  @Column({ type: 'varchar', length: 24 }) outcome: AuditOutcome;
  @Column({ type: 'text', nullable: true }) reason: string | null;
  /** SHA-256 (hex) of the canonical, redacted arguments: proves which call it was without storing them. */
  @Column({ name: 'args_digest', type: 'varchar', length: 64, nullable: true }) argsDigest: string | null;
  @Column({ name: 'details_json', type: 'text', nullable: true, transformer: jsonText })
  details: Record<string, unknown> | null;
  /** Position in the hash chain (src/audit/audit-chain.ts); null on rows from before the chain. */
  @Column({ name: 'chain_seq', type: 'bigint', nullable: true, transformer: epochMs }) chainSeq:
    number | null;
  @Column({ name: 'prev_hash', type: 'varchar', length: 64, nullable: true }) prevHash: string | null;
  @Column({ type: 'varchar', length: 64, nullable: true }) hash: string | null;
}
