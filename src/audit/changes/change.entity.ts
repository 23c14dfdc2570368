import { Column, Entity, Index } from 'typeorm';
import { epochMs, jsonText } from '../../common/persistence/column-transformers.js';
import type { ObjectValues } from './revertable.js';

/**
 * One successful config change the server made (the change journal): which tool, who, which PVE object, its
 * settings before and after, and the request (secrets redacted). revert_change builds the inverse from it.
 */
@Entity({ name: 'changes' })
@Index('idx_changes_at', ['at'])
@Index('idx_changes_vmid_at', ['vmid', 'at'])
export class ChangeEntity {
  @Column({ type: 'integer', primary: true, generated: 'increment' }) id: number;
  @Column({ type: 'bigint', transformer: epochMs }) at: number;
  @Column({ type: 'varchar', length: 96, nullable: true }) tool: string | null;
  @Column({ type: 'varchar', length: 128, nullable: true }) actor: string | null;
  /** The Proxmox target (configured name). */
  @Column({ type: 'varchar', length: 128 }) target: string;
  /** vm_config, container_config, firewall_rule, firewall_options, ha_resource, backup_job. */
  @Column({ type: 'varchar', length: 32 }) kind: string;
  @Column({ type: 'varchar', length: 8 }) method: string;
  /** The PVE object path, as sent (percent-encoded segments). */
  @Column({ type: 'varchar', length: 512 }) path: string;
  @Column({ type: 'varchar', length: 128, nullable: true }) node: string | null;
  @Column({ type: 'integer', nullable: true }) vmid: number | null;
  /** The fields the change changed. */
  @Column({ name: 'fields_json', type: 'text', transformer: jsonText }) fields: string[];
  @Column({ name: 'before_json', type: 'text', transformer: jsonText }) before: ObjectValues;
  @Column({ name: 'after_json', type: 'text', transformer: jsonText }) after: ObjectValues;
  @Column({ name: 'request_json', type: 'text', transformer: jsonText }) request: Record<string, unknown>;
  /** This change put back change N (revert_change). */
  @Column({ name: 'revert_of', type: 'integer', nullable: true }) revertOf: number | null;
  /** Change N put this one back. */
  @Column({ name: 'reverted_by', type: 'integer', nullable: true }) revertedBy: number | null;
}
