import { JobEntity, JobEventEntity } from '../jobs/job.entity.js';
import { CreateJobs1764000000000 } from '../jobs/migrations/1764000000000-CreateJobs.js';

/**
 * Every entity and migration of the job store database, in one place, for the server (database.module.ts) and
 * the TypeORM CLI (ormconfig.ts). ESM gives TypeORM no file globs to scan, so a new table is two lines here:
 * its entity class and its migration class (migrations run in timestamp order, each in a transaction).
 */

export const ENTITIES = [JobEntity, JobEventEntity];
export const MIGRATIONS = [CreateJobs1764000000000];
