import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../../common/persistence/column-transformers.js';

/** The one row id of the tool freeze: a row exists while `freeze_changes` holds, and is deleted by unfreeze. */
export const TOOL_FREEZE_ID = 'tools';

/**
 * The freeze set by `freeze_changes` (admin), in the shared job store so every replica sees it. The config and
 * file freezes are not stored here: they belong to the operator of each host (see freeze.service.ts).
 */
@Entity({ name: 'freeze_state' })
export class FreezeStateEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 }) id: string;
  @Column({ type: 'text' }) reason: string;
  /** The API key name (or `stdio`) that froze. */
  @Column({ name: 'frozen_by', type: 'varchar', length: 128 }) frozenBy: string;
  @Column({ name: 'frozen_at', type: 'bigint', transformer: epochMs }) frozenAt: number;
}
