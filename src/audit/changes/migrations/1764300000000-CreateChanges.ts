import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** `changes`: the change journal (config edits with their before and after values; list_changes, revert_change). */
export class CreateChanges1764300000000 implements MigrationInterface {
  name = 'CreateChanges1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'changes',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'at', type: 'bigint' },
          { name: 'tool', type: 'varchar', length: '96', isNullable: true },
          { name: 'actor', type: 'varchar', length: '128', isNullable: true },
          { name: 'target', type: 'varchar', length: '128' },
          { name: 'kind', type: 'varchar', length: '32' },
          { name: 'method', type: 'varchar', length: '8' },
          { name: 'path', type: 'varchar', length: '512' },
          { name: 'node', type: 'varchar', length: '128', isNullable: true },
          { name: 'vmid', type: 'integer', isNullable: true },
          { name: 'fields_json', type: 'text' },
          { name: 'before_json', type: 'text' },
          { name: 'after_json', type: 'text' },
          { name: 'request_json', type: 'text' },
          { name: 'revert_of', type: 'integer', isNullable: true },
          { name: 'reverted_by', type: 'integer', isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'idx_changes_at', columnNames: ['at'] }),
          new TableIndex({ name: 'idx_changes_vmid_at', columnNames: ['vmid', 'at'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('changes');
  }
}
