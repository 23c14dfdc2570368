import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from '../../common/persistence/column-transformers.js';

/**
 * pending: waiting for an operator; approved: a token exists (only its hash is stored); used: consumed once;
 * denied: an operator refused it on the approvals page (no token ever exists).
 */
export type ApprovalStatus = 'pending' | 'approved' | 'used' | 'denied';

/**
 * One approval request for one exact high-risk call: the tool, the canonical arguments and the target are bound
 * by `digest`, the caller by `requested_by`. The token itself is never stored, only its SHA-256; it is consumed
 * with one conditional UPDATE (`used_at IS NULL AND expires_at > now`), so concurrent use wins exactly once.
 */
@Entity({ name: 'approvals' })
@Index('idx_approvals_token_hash', ['tokenHash'], { unique: true })
@Index('idx_approvals_requester_digest', ['requestedBy', 'digest', 'status'])
@Index('idx_approvals_created_at', ['createdAt'])
export class ApprovalEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'tool_name', type: 'varchar', length: 64 }) toolName: string;
  @Column({ type: 'varchar', length: 128 }) target: string;
  /** SHA-256 (hex) of tool + canonical arguments + target; see approval-digest.ts. */
  @Column({ type: 'varchar', length: 64 }) digest: string;
  /** The arguments, redacted, for the operator who decides (never used for matching). */
  @Column({ name: 'arguments_json', type: 'text', transformer: jsonText }) arguments: Record<string, unknown>;
  /** Why approval is needed, e.g. "delete_vm is high-risk (destroy)". */
  @Column({ type: 'text' }) reason: string;
  /** The API key name (or `stdio`) of the caller; only this caller can use the token. */
  @Column({ name: 'requested_by', type: 'varchar', length: 128 }) requestedBy: string;
  @Column({ type: 'varchar', length: 16 }) status: ApprovalStatus;
  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs }) createdAt: number;
  /** Until when an operator can approve the request. */
  @Column({ name: 'request_expires_at', type: 'bigint', transformer: epochMs }) requestExpiresAt: number;
  @Column({ name: 'approved_by', type: 'varchar', length: 128, nullable: true }) approvedBy: string | null;
  @Column({ name: 'approved_at', type: 'bigint', nullable: true, transformer: epochMs }) approvedAt:
    number | null;
  @Column({ name: 'token_hash', type: 'varchar', length: 64, nullable: true }) tokenHash: string | null;
  /** Until when the token can be used (set on approval). */
  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: epochMs }) expiresAt:
    number | null;
  @Column({ name: 'used_at', type: 'bigint', nullable: true, transformer: epochMs }) usedAt: number | null;
  /** The plan the call was bound to (it carried plan_digest), for the approver; null otherwise. */
  @Column({ name: 'plan_json', type: 'text', nullable: true, transformer: jsonText }) plan: Record<
    string,
    unknown
  > | null;
}
