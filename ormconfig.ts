import { DataSource } from 'typeorm';
import { dataSourceOptions } from './src/database/data-source.options.js';

/**
 * The job store's DataSource for the TypeORM migrations CLI (compiled to dist/ormconfig.js by `npm run build`):
 *
 *   npx typeorm migration:show -d dist/ormconfig.js
 *   npx typeorm migration:run -d dist/ormconfig.js
 *
 * Same options as the server (src/database/data-source.options.ts): SQLite at PROXMOX_JOBS_SQLITE_PATH
 * (default proxmox-jobs.sqlite3), or PostgreSQL when PROXMOX_JOBS_DATABASE_URL is set. The server itself runs the
 * migrations at boot; this file is for operators and for generating new migrations.
 *
 * Only this one default export: the CLI refuses a file that exports more than one DataSource.
 */
export default new DataSource(
  dataSourceOptions({
    sqlitePath: process.env.PROXMOX_JOBS_SQLITE_PATH ?? 'proxmox-jobs.sqlite3',
    ...(process.env.PROXMOX_JOBS_DATABASE_URL ? { databaseUrl: process.env.PROXMOX_JOBS_DATABASE_URL } : {}),
  }),
);
