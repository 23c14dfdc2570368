import { constants, accessSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/app-config.js';
import { dataSourceOptions } from '../../database/data-source.options.js';
import { MIGRATIONS } from '../../database/schema-registry.js';
import type { DoctorRow } from './report.js';
import { messageOf } from './target-checks.js';

const MIGRATIONS_TABLE = 'migrations';

/** `postgres://user:***@host:5432/db`: the password never leaves this function. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|secret|key/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return 'postgres://… (not a parseable URL)';
  }
}

/**
 * The job store: it opens, its schema is this build's (neither older, which `serve` would migrate, nor newer),
 * and it takes writes. Read-only on purpose: the doctor never creates the file or runs migrations (the running
 * server may be another version); the write test is an INSERT rolled back.
 */
export async function checkJobStore(config: AppConfig): Promise<DoctorRow> {
  const { jobs } = config;
  const check = 'job store';
  const what = jobs.databaseUrl
    ? `PostgreSQL ${redactDatabaseUrl(jobs.databaseUrl)}`
    : `SQLite ${jobs.sqlitePath}`;
  if (!jobs.databaseUrl) {
    if (jobs.sqlitePath === ':memory:' || jobs.sqlitePath === '') {
      return {
        check,
        status: 'warn',
        message: 'SQLite in memory: job history and approvals are lost when the server stops',
        fix: 'Set jobs.sqlite_path (PROXMOX_JOBS_SQLITE_PATH) to a file, or jobs.database_url for PostgreSQL.',
      };
    }
    if (!existsSync(jobs.sqlitePath)) {
      const dir = dirname(resolve(jobs.sqlitePath));
      return writableDir(dir)
        ? {
            check,
            status: 'pass',
            message: `${what} does not exist yet; serve creates it (${dir} is writable)`,
          }
        : {
            check,
            status: 'fail',
            message: `${what} does not exist and ${dir} is not writable (or missing), so serve cannot create it`,
            fix: `Create ${dir} writable for the server's user, or point jobs.sqlite_path elsewhere.`,
          };
    }
  }

  const dataSource = new DataSource(dataSourceOptions(jobs));
  try {
    await dataSource.initialize();
  } catch (error) {
    return {
      check,
      status: 'fail',
      message: `${what} cannot be opened: ${safe(messageOf(error))}`,
      fix: jobs.databaseUrl
        ? 'Check jobs.database_url (host, port, user, password, database) and that PostgreSQL accepts connections from here.'
        : 'Check jobs.sqlite_path and the file permissions.',
    };
  }
  try {
    const runner = dataSource.createQueryRunner();
    try {
      if (!(await runner.hasTable(MIGRATIONS_TABLE))) {
        return {
          check,
          status: 'pass',
          message: `${what} opens; it is empty (serve creates the schema at start)`,
        };
      }
      const applied = (
        (await runner.query(`SELECT name FROM ${MIGRATIONS_TABLE}`)) as Array<{ name: string }>
      ).map((r) => r.name);
      const known = MIGRATIONS.map((m) => m.name);
      const newer = applied.filter((name) => !known.includes(name));
      if (newer.length) {
        return {
          check,
          status: 'fail',
          message: `${what} was written by a newer proxmox-mcp-plus (unknown migrations: ${newer.join(', ')})`,
          fix: 'Upgrade this installation, or point it at another database; serve refuses to start on it.',
        };
      }
      // writable: an INSERT that is rolled back (needs the write lock on SQLite, INSERT rights on PostgreSQL)
      await runner.startTransaction();
      try {
        await runner.query(
          `INSERT INTO ${MIGRATIONS_TABLE} ("timestamp", "name") VALUES (0, 'doctor-write-check')`,
        );
      } finally {
        await runner.rollbackTransaction();
      }
      const pending = known.filter((name) => !applied.includes(name));
      if (pending.length) {
        return {
          check,
          status: 'warn',
          message: `${what} opens and is writable, but its schema is older than this build (${pending.length} migration(s) pending: ${pending.join(', ')})`,
          fix: 'Nothing to do by hand: serve applies the migrations when it starts. Stop older replicas first.',
        };
      }
      return {
        check,
        status: 'pass',
        message: `${what}: opens, schema current (${known.length} migrations), writable`,
      };
    } finally {
      await runner.release();
    }
  } catch (error) {
    return {
      check,
      status: 'fail',
      message: `${what} is not usable: ${safe(messageOf(error))}`,
      fix: jobs.databaseUrl
        ? "Grant the database user INSERT/UPDATE/DELETE on the job store's tables, and use a primary (not a read replica)."
        : `Make ${jobs.sqlitePath} and its directory writable for the server's user (SQLite writes a -wal file beside it).`,
    };
  } finally {
    await dataSource.destroy().catch(() => undefined);
  }
}

function writableDir(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Driver messages may quote the connection string. */
const safe = (text: string) => text.replace(/postgres(ql)?:\/\/\S+/gi, 'postgres://…');
