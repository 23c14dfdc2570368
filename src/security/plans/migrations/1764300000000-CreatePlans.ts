import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Plans answered by dry runs, by digest, with an expiry (see plan.entity.ts). SQLite and PostgreSQL alike. */
export class CreatePlans1764300000000 implements MigrationInterface {
  name = 'CreatePlans1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'plans',
        columns: [
          { name: 'digest', type: 'varchar', length: '64', isPrimary: true },
          { name: 'tool_name', type: 'varchar', length: '64', isNullable: false },
          { name: 'target', type: 'varchar', length: '128', isNullable: false },
          { name: 'plan_json', type: 'text', isNullable: false },
          { name: 'created_by', type: 'varchar', length: '128', isNullable: true },
          { name: 'created_at', type: 'bigint', isNullable: false },
          { name: 'expires_at', type: 'bigint', isNullable: false },
        ],
        indices: [new TableIndex({ name: 'idx_plans_expires_at', columnNames: ['expires_at'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('plans');
  }
}
