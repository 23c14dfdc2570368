import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../../src/config/app-config.js';
import { freshPostgresDatabase, postgresSkipReason } from './postgres.js';

export interface OpenedStore {
  /** The `jobs` config section pointing at the new, empty store. */
  jobs: AppConfig['jobs'];
  close(): Promise<void>;
}

export interface JobStoreEngine {
  name: 'SQLite' | 'PostgreSQL';
  /** For describe(): a reason to skip (PostgreSQL not configured outside CI), else false. */
  skip: string | false;
  open(): Promise<OpenedStore>;
}

/** The two job stores every job-store suite runs against: a real SQLite file, and a real PostgreSQL database. */
export function jobStoreEngines(): JobStoreEngine[] {
  return [
    {
      name: 'SQLite',
      skip: false,
      open: async () => {
        const dir = mkdtempSync(join(tmpdir(), 'pmp-jobs-'));
        return {
          jobs: { sqlitePath: join(dir, 'jobs.sqlite3') },
          close: async () => rmSync(dir, { recursive: true, force: true }),
        };
      },
    },
    {
      name: 'PostgreSQL',
      skip: postgresSkipReason(),
      open: async () => {
        const db = await freshPostgresDatabase();
        if (!db) throw new Error('PostgreSQL is not configured (PROXMOX_TEST_DATABASE_URL)');
        return { jobs: { sqlitePath: ':memory:', databaseUrl: db.url }, close: () => db.drop() };
      },
    },
  ];
}
