import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The plan an approval request was made for (a call that carried plan_digest), shown to the approver. */
export class AddApprovalPlan1764300000001 implements MigrationInterface {
  name = 'AddApprovalPlan1764300000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'approvals',
      new TableColumn({ name: 'plan_json', type: 'text', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('approvals', 'plan_json');
  }
}
