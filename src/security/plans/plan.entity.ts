import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from '../../common/persistence/column-transformers.js';

/**
 * A plan answered by a dry run, kept for plans.ttl so a real call can name it (`plan_digest`): the server plans
 * again and compares. Keyed by the digest; the plan JSON is what the caller was shown (secrets already redacted).
 */
@Entity({ name: 'plans' })
@Index('idx_plans_expires_at', ['expiresAt'])
export class PlanEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) digest: string;
  @Column({ name: 'tool_name', type: 'varchar', length: 64 }) toolName: string;
  @Column({ type: 'varchar', length: 128 }) target: string;
  @Column({ name: 'plan_json', type: 'text', transformer: jsonText }) plan: Record<string, unknown>;
  @Column({ name: 'created_by', type: 'varchar', length: 128, nullable: true }) createdBy: string | null;
  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs }) createdAt: number;
  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMs }) expiresAt: number;
}
