import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const GENESIS_HASH = '0'.repeat(64);

/**
 * The tamper-evident audit chain: `chain_seq`, `prev_hash`, `hash` on audit_events and the `audit_chain` head
 * row. Rows already present are not rewritten: the chain starts after them (legacy_max_id) from the genesis hash.
 */
export class AuditHashChain1765400000000 implements MigrationInterface {
  name = 'AuditHashChain1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('audit_events', [
      new TableColumn({ name: 'chain_seq', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'prev_hash', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'hash', type: 'varchar', length: '64', isNullable: true }),
    ]);
    await queryRunner.createIndex(
      'audit_events',
      new TableIndex({ name: 'idx_audit_events_chain_seq', columnNames: ['chain_seq'] }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'audit_chain',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true },
          { name: 'legacy_max_id', type: 'bigint' },
          { name: 'checkpoint_seq', type: 'bigint' },
          { name: 'checkpoint_hash', type: 'varchar', length: '64' },
          { name: 'head_seq', type: 'bigint' },
          { name: 'head_hash', type: 'varchar', length: '64' },
          { name: 'pruned_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    const [row] = (await queryRunner.query('SELECT MAX(id) AS max_id FROM audit_events')) as Array<{
      max_id: number | string | null;
    }>;
    const legacy = Number(row?.max_id ?? 0);
    const pg = queryRunner.connection.options.type === 'postgres';
    await queryRunner.query(
      pg
        ? 'INSERT INTO audit_chain (id, legacy_max_id, checkpoint_seq, checkpoint_hash, head_seq, head_hash) VALUES (1, $1, 0, $2, 0, $2)'
        : 'INSERT INTO audit_chain (id, legacy_max_id, checkpoint_seq, checkpoint_hash, head_seq, head_hash) VALUES (1, ?, 0, ?, 0, ?)',
      pg ? [legacy, GENESIS_HASH] : [legacy, GENESIS_HASH, GENESIS_HASH],
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_chain');
    await queryRunner.dropIndex('audit_events', 'idx_audit_events_chain_seq');
    await queryRunner.dropColumns('audit_events', ['chain_seq', 'prev_hash', 'hash']);
  }
}
