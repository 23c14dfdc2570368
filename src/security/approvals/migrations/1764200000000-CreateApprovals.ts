import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Single-use approvals of high-risk calls (hashes only; see approval.entity.ts). */
export class CreateApprovals1764200000000 implements MigrationInterface {
  name = 'CreateApprovals1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const epoch = (name: string, isNullable = true) => ({ name, type: 'bigint', isNullable });
    const varchar = (name: string, length: number, isNullable = false) => ({
      name,
      type: 'varchar',
      length: String(length),
      isNullable,
    });
    await queryRunner.createTable(
      new Table({
        name: 'approvals',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          varchar('tool_name', 64),
          varchar('target', 128),
          varchar('digest', 64),
          { name: 'arguments_json', type: 'text', isNullable: false },
          { name: 'reason', type: 'text', isNullable: false },
          varchar('requested_by', 128),
          varchar('status', 16),
          epoch('created_at', false),
          epoch('request_expires_at', false),
          varchar('approved_by', 128, true),
          epoch('approved_at'),
          varchar('token_hash', 64, true),
          epoch('expires_at'),
          epoch('used_at'),
        ],
        indices: [
          new TableIndex({ name: 'idx_approvals_token_hash', columnNames: ['token_hash'], isUnique: true }),
          new TableIndex({
            name: 'idx_approvals_requester_digest',
            columnNames: ['requested_by', 'digest', 'status'],
          }),
          new TableIndex({ name: 'idx_approvals_created_at', columnNames: ['created_at'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('approvals');
  }
}
