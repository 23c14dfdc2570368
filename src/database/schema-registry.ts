import { JobEntity, JobEventEntity } from '../jobs/job.entity.js';
import { CreateJobs1764000000000 } from '../jobs/migrations/1764000000000-CreateJobs.js';
import { AuditEventEntity } from '../audit/audit-event.entity.js';
import { CreateAuditEvents1764100000000 } from '../audit/migrations/1764100000000-CreateAuditEvents.js';
import { AuditChainEntity } from '../audit/audit-chain.entity.js';
import { AuditHashChain1765400000000 } from '../audit/migrations/1765400000000-AuditHashChain.js';
import { ApprovalEntity } from '../security/approvals/approval.entity.js';
import { CreateApprovals1764200000000 } from '../security/approvals/migrations/1764200000000-CreateApprovals.js';
import { ChangeEntity } from '../audit/changes/change.entity.js';
import { CreateChanges1764300000000 } from '../audit/changes/migrations/1764300000000-CreateChanges.js';
import { FreezeStateEntity } from '../security/safety/freeze-state.entity.js';
import { CreateFreezeState1764310000000 } from '../security/safety/migrations/1764310000000-CreateFreezeState.js';
import { PlanEntity } from '../security/plans/plan.entity.js';
import { CreatePlans1764300000000 } from '../security/plans/migrations/1764300000000-CreatePlans.js';
import { AddApprovalPlan1764300000001 } from '../security/plans/migrations/1764300000001-AddApprovalPlan.js';

/**
 * Every entity and migration of the job store database, in one place, for the server (database.module.ts) and
 * the TypeORM CLI (ormconfig.ts). ESM gives TypeORM no file globs to scan, so a new table is two lines here:
 * its entity class and its migration class (migrations run in timestamp order, each in a transaction).
 */
export const ENTITIES = [
  JobEntity,
  JobEventEntity,
  AuditEventEntity,
  ApprovalEntity,
  AuditChainEntity,
  ChangeEntity,
  FreezeStateEntity,
  PlanEntity,
];
export const MIGRATIONS = [
  CreateJobs1764000000000,
  CreateAuditEvents1764100000000,
  CreateApprovals1764200000000,
  CreateChanges1764300000000,
  CreatePlans1764300000000,
  AddApprovalPlan1764300000001,
  CreateFreezeState1764310000000,
  AuditHashChain1765400000000,
];
