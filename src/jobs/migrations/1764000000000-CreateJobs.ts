import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The job store: `jobs` (one row per tracked task) and `job_events` (their audit history, bounded). */
export class CreateJobs1764000000000 implements MigrationInterface {
  name = 'CreateJobs1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const text = (name: string, isNullable = true) => ({ name, type: 'text', isNullable });
    const int = (name: string, isNullable = true) => ({ name, type: 'integer', isNullable });
    const epoch = (name: string, isNullable = true) => ({ name, type: 'bigint', isNullable });
    await queryRunner.createTable(
      new Table({
        name: 'jobs',
        columns: [
          { name: 'job_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'target', type: 'varchar', length: '128' },
          { name: 'tool_name', type: 'varchar', length: '64' },
          text('summary', false),
          { name: 'node', type: 'varchar', length: '64', isNullable: true },
          text('upid'),
          { name: 'status', type: 'varchar', length: '24' },
          int('progress'),
          text('exitstatus'),
          int('warnings'),
          int('attempts', false),
          int('retry_count', false),
          text('last_error'),
          epoch('created_at', false),
          epoch('updated_at', false),
          epoch('completed_at'),
          text('result_json'),
          text('metadata_json', false),
          text('previous_upids_json', false),
          text('retry_recipe_json'),
          text('retry_unavailable_reason'),
          { name: 'recipe_kind', type: 'varchar', length: '64', isNullable: true },
          text('expected_task_json'),
          { name: 'created_by', type: 'varchar', length: '128', isNullable: true },
          { name: 'lease_owner', type: 'varchar', length: '64', isNullable: true },
          epoch('lease_expires_at'),
        ],
        indices: [
          new TableIndex({ name: 'idx_jobs_created_at', columnNames: ['created_at'] }),
          new TableIndex({ name: 'idx_jobs_status_created_at', columnNames: ['status', 'created_at'] }),
          new TableIndex({ name: 'idx_jobs_tool_created_at', columnNames: ['tool_name', 'created_at'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'job_events',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'job_id', type: 'varchar', length: '36' },
          epoch('at', false),
          { name: 'event', type: 'varchar', length: '48' },
          text('details_json', false),
        ],
        indices: [new TableIndex({ name: 'idx_job_events_job', columnNames: ['job_id', 'id'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('job_events');
    await queryRunner.dropTable('jobs');
  }
}
