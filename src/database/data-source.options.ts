import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { ENTITIES, MIGRATIONS } from './schema-registry.js';

/** SQLite waits this long for another process's write lock before failing (WAL: readers never wait). */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * The job store connection: SQLite (better-sqlite3, WAL, busy timeout) by default, PostgreSQL when
 * `jobs.database_url` is set (several replicas sharing state). Migrations, never `synchronize`.
 */
export function dataSourceOptions(jobs: AppConfig['jobs']): DataSourceOptions {
  const common = { entities: ENTITIES, migrations: MIGRATIONS, synchronize: false, logging: false } as const;
  if (jobs.databaseUrl) {
    return {
      ...common,
      type: 'postgres',
      url: jobs.databaseUrl,
      // fail fast on an unreachable database instead of hanging start-up or a tool call
      connectTimeoutMS: 5000,
      extra: { max: 10, idleTimeoutMillis: 30_000, statement_timeout: 15_000 },
    };
  }
  return {
    ...common,
    type: 'better-sqlite3',
    database: jobs.sqlitePath,
    enableWAL: true,
    timeout: SQLITE_BUSY_TIMEOUT_MS,
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      // WAL + NORMAL is durable across process crashes (only an OS crash can lose the last commits)
      db.pragma('synchronous = NORMAL');
    },
  };
}
