import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** `audit_events`: who did what to which target, with what outcome (bounded by audit.retention_days). */
export class CreateAuditEvents1764100000000 implements MigrationInterface {
  name = 'CreateAuditEvents1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'at', type: 'bigint' },
          { name: 'actor', type: 'varchar', length: '128', isNullable: true },
          { name: 'action', type: 'varchar', length: '96' },
          { name: 'target', type: 'varchar', length: '128', isNullable: true },
          { name: 'outcome', type: 'varchar', length: '24' },
          { name: 'reason', type: 'text', isNullable: true },
          { name: 'args_digest', type: 'varchar', length: '64', isNullable: true },
          { name: 'details_json', type: 'text', isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'idx_audit_events_at', columnNames: ['at'] }),
          new TableIndex({ name: 'idx_audit_events_actor_at', columnNames: ['actor', 'at'] }),
          new TableIndex({ name: 'idx_audit_events_action_at', columnNames: ['action', 'at'] }),
          new TableIndex({ name: 'idx_audit_events_outcome_at', columnNames: ['outcome', 'at'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_events');
  }
}
