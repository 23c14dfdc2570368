import type { DataSource } from 'typeorm';

/**
 * Lean SQL for hot paths (audit chain, approvals): prepared statements on SQLite and plain parameterised queries
 * on PostgreSQL, instead of TypeORM's query builder, which rebuilds and re-escapes the SQL on every call (most of
 * an approval's cost was there, and in better-sqlite3 re-preparing statements).
 */

export interface SqliteStatement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}

/** The better-sqlite3 handle TypeORM's driver holds (synchronous: a statement or transaction runs uninterrupted). */
export interface SqliteDb {
  prepare(sql: string): SqliteStatement;
  transaction<A extends unknown[], T>(fn: (...args: A) => T): { immediate(...args: A): T };
  readonly inTransaction: boolean;
}

/** How long a lean SQLite write waits for another transaction on the shared connection to end. */
const SQLITE_WAIT_MS = 2000;

/** The better-sqlite3 handle of a `better-sqlite3` DataSource. */
export function sqliteHandle(dataSource: DataSource): SqliteDb {
  return (dataSource.driver as unknown as { databaseConnection: SqliteDb }).databaseConnection;
}

/**
 * Runs `work` on the better-sqlite3 handle once no other transaction is open on it (the job store runs async
 * TypeORM transactions on the same connection; a statement issued inside one would become part of it and share
 * its fate, e.g. a consumed approval token rolled back to unused). `work` runs synchronously right after the last
 * check, in the same tick, so nothing can begin in between; it must not await.
 */
export async function onSqliteIdle<T>(dataSource: DataSource, work: (db: SqliteDb) => T): Promise<T> {
  const db = sqliteHandle(dataSource);
  for (let waited = 0; db.inTransaction && waited < SQLITE_WAIT_MS; waited += 5) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return work(db);
}

const statements = new WeakMap<SqliteDb, Map<string, SqliteStatement>>();

/**
 * The prepared statement for `sql` on this handle, prepared once (preparing costs more than running a small
 * statement). Keyed by handle, so a reopened database prepares anew; callers pass a fixed set of SQL texts.
 */
export function prepared(db: SqliteDb, sql: string): SqliteStatement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map<string, SqliteStatement>()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.prepare(sql)));
  return statement;
}

/** `?` placeholders as PostgreSQL's `$1, $2, …` (the texts passed here contain no `?` in literals). */
export function pgSql(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}
