import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The tool freeze (freeze_changes / unfreeze_changes), shared by every replica; see freeze-state.entity.ts. */
export class CreateFreezeState1764310000000 implements MigrationInterface {
  name = 'CreateFreezeState1764310000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'freeze_state',
        columns: [
          { name: 'id', type: 'varchar', length: '16', isPrimary: true },
          { name: 'reason', type: 'text', isNullable: false },
          { name: 'frozen_by', type: 'varchar', length: '128', isNullable: false },
          { name: 'frozen_at', type: 'bigint', isNullable: false },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('freeze_state');
  }
}
