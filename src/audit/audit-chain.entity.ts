import { Column, Entity } from 'typeorm';
import { epochMs } from '../common/persistence/column-transformers.js';

/**
 * The chain's one bookkeeping row (id 1), locked by every audit insert: the head (last sequence number and hash,
 * so a truncated tail is detected), the checkpoint where verification starts (the last pruned row, or the
 * genesis), and the highest row id from before the chain existed (those rows are not verified).
 */
@Entity({ name: 'audit_chain' })
export class AuditChainEntity {
  @Column({ type: 'integer', primary: true }) id: number;
  @Column({ name: 'legacy_max_id', type: 'bigint', transformer: epochMs }) legacyMaxId: number;
  @Column({ name: 'checkpoint_seq', type: 'bigint', transformer: epochMs }) checkpointSeq: number;
  @Column({ name: 'checkpoint_hash', type: 'varchar', length: 64 }) checkpointHash: string;
  @Column({ name: 'head_seq', type: 'bigint', transformer: epochMs }) headSeq: number;
  @Column({ name: 'head_hash', type: 'varchar', length: 64 }) headHash: string;
  /** Epoch ms of the last pruning that moved the checkpoint. */
  @Column({ name: 'pruned_at', type: 'bigint', nullable: true, transformer: epochMs }) prunedAt:
    number | null;
}
