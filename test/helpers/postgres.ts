import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A real PostgreSQL for the tests: PROXMOX_TEST_DATABASE_URL names a role with CREATEDB and its own database
 * (scripts/start-test-postgres.sh sets both up and prints the URL). Each suite gets a new, empty database so
 * suites running in parallel never see each other's rows.
 *
 * Without the variable, a developer's run skips the PostgreSQL suites (with a reason that says how to enable
 * them), but CI fails: there, a skipped job-store test would be a silent hole.
 */

export const START_POSTGRES_HINT =
  'Start one with `scripts/start-test-postgres.sh` (Debian; installs and starts PostgreSQL, prints the URL) and ' +
  'export the PROXMOX_TEST_DATABASE_URL line it prints, or run the tests with PROXMOX_TEST_START_POSTGRES=1.';

export interface FreshDatabase {
  /** postgres:// URL of the new database, same role and password as PROXMOX_TEST_DATABASE_URL. */
  url: string;
  /** Closes every connection to the database and drops it. */
  drop(): Promise<void>;
}

function baseUrl(): string | undefined {
  const url = process.env.PROXMOX_TEST_DATABASE_URL;
  if (url) return url;
  if (process.env.CI) {
    throw new Error(
      `PostgreSQL is required in CI but PROXMOX_TEST_DATABASE_URL is not set. ${START_POSTGRES_HINT}`,
    );
  }
  return undefined;
}

/** For node:test's `{ skip }`: a reason when PostgreSQL is not configured (throws in CI), else false. */
export function postgresSkipReason(): string | false {
  return baseUrl()
    ? false
    : `PostgreSQL tests skipped: PROXMOX_TEST_DATABASE_URL is not set. ${START_POSTGRES_HINT}`;
}

/** A new, empty database named pmp_<random>, or undefined when PostgreSQL is not configured (outside CI). */
export async function freshPostgresDatabase(): Promise<FreshDatabase | undefined> {
  const base = baseUrl();
  if (!base) return undefined;
  // Lower-case letters and digits only: a valid unquoted identifier, so no quoting questions below.
  const name = `pmp_${randomBytes(8).toString('hex')}`;
  await withAdmin(base, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(base);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      // WITH (FORCE) (PostgreSQL 13+) ends the sessions a killed server process or a leaked pool left open.
      await withAdmin(base, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withAdmin(base: string, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: base, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    const where = new URL(base);
    throw new Error(
      `cannot connect to PROXMOX_TEST_DATABASE_URL (${where.hostname}:${where.port || 5432}${where.pathname}): ` +
        `${(error as Error).message}. ${START_POSTGRES_HINT}`,
    );
  }
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
