import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PlanEntity } from './plan.entity.js';
import { APPROVAL_PLANS } from '../approvals/approvals.service.js';
import { PlanStore } from './plan.store.js';

/**
 * Plans (dry_run) and plan-bound calls (plan_digest). The PlanGuard and PlanInterceptor are registered globally in
 * AppModule (after the ApprovalGuard / inside the ApprovalInterceptor); the arguments by the MCP module.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([PlanEntity])],
  // approvals show the plan a request was made for, without importing this folder
  providers: [PlanStore, { provide: APPROVAL_PLANS, useExisting: PlanStore }],
  exports: [PlanStore, APPROVAL_PLANS],
})
export class PlansModule {}
