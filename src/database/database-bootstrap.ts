import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './schema-registry.js';

/** Why the job store could not be opened; the CLI prints it and exits 2 (a config/environment problem). */
export class DatabaseStartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseStartupError';
  }
}

const SQLITE_HEADER = 'SQLite format 3\0';

/**
 * Opens the job store and brings its schema up to date, refusing what would lose or corrupt history:
 * a file that is not a SQLite database (never silently replaced), a schema written by a newer version of this
 * program, an unreachable PostgreSQL. Migrations run in one transaction.
 */
export async function openDatabase(options: DataSourceOptions): Promise<DataSource> {
  if (options.type === 'better-sqlite3') assertSqliteFile(options.database);
  const dataSource = new DataSource(options);
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new DatabaseStartupError(describeOpenFailure(options, error));
  }
  try {
    await refuseNewerSchema(dataSource);
    await dataSource.runMigrations({ transaction: 'all' });
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    if (error instanceof DatabaseStartupError) throw error;
    throw new DatabaseStartupError(`the job store schema could not be migrated: ${messageOf(error)}`);
  }
  return dataSource;
}

function assertSqliteFile(path: string): void {
  if (path === ':memory:' || path === '') return;
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return; // a new file: better-sqlite3 creates it (and TypeORM its directory)
  }
  if (size === 0) return;
  const header = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 100 || header.toString('latin1') !== SQLITE_HEADER) {
    throw new DatabaseStartupError(
      `the job store file ${path} is not a SQLite database (corrupt or another kind of file). ` +
        'It was left untouched: move it aside to start with an empty job history, or point jobs.sqlite_path ' +
        '(PROXMOX_JOBS_SQLITE_PATH) at the right file.',
    );
  }
}

/** Migration names this build knows; a database with others was written by a newer version. */
async function refuseNewerSchema(dataSource: DataSource): Promise<void> {
  const table = dataSource.options.migrationsTableName ?? 'migrations';
  const runner = dataSource.createQueryRunner();
  try {
    if (!(await runner.hasTable(table))) return;
    const rows = (await runner.query(`SELECT name FROM ${table}`)) as Array<{ name: string }>;
    const known = new Set(MIGRATIONS.map((m) => m.name));
    const unknown = rows.map((r) => r.name).filter((name) => !known.has(name));
    if (unknown.length) {
      throw new DatabaseStartupError(
        `the job store was written by a newer version of proxmox-mcp-plus (unknown migrations: ${unknown.join(', ')}). ` +
          'Upgrade this server, or point it at another database.',
      );
    }
  } finally {
    await runner.release();
  }
}

function describeOpenFailure(options: DataSourceOptions, error: unknown): string {
  const msg = messageOf(error);
  if (options.type === 'better-sqlite3') {
    if (/NOTADB|not a database|malformed|CORRUPT/i.test(msg)) {
      return `the job store file ${options.database} is not a valid SQLite database (${msg}). It was left untouched: move it aside or fix jobs.sqlite_path.`;
    }
    return `the job store file ${options.database} could not be opened: ${msg}`;
  }
  // never echo the URL: it carries the password
  return `the PostgreSQL job store (jobs.database_url) could not be reached: ${msg.replace(/postgres(ql)?:\/\/\S+/gi, 'postgres://…')}`;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
