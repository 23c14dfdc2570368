import { DataSource } from 'typeorm';

/**
 * The job store's DataSource for the TypeORM migrations CLI (compiled to dist/ormconfig.js by `npm run build`):
 *
 *   npx typeorm migration:run -d dist/ormconfig.js
 *   npx typeorm migration:generate -d dist/ormconfig.js src/jobs/migrations/<Name>
 *
 * The server itself does not read this file: it builds its connection from the validated AppConfig
 * (jobs.sqlite_path / PROXMOX_JOBS_SQLITE_PATH). Both use migrations, never `synchronize` (DESIGN.md).
 * `entities` and `migrations` stay empty until the jobs issue adds the job and audit tables.
 *
 * Only this one default export: the CLI refuses a file that exports more than one DataSource.
 */
export default new DataSource({
  type: 'better-sqlite3',
  database: process.env.PROXMOX_JOBS_SQLITE_PATH ?? 'proxmox-jobs.sqlite3',
  enableWAL: true,
  synchronize: false,
  entities: [],
  migrations: [],
});
