import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataSourceOptions } from '../../src/database/data-source.options.js';
import { openDatabase } from '../../src/database/database-bootstrap.js';
import { jobStoreEngines } from '../helpers/job-stores.js';
import { PveSimulator } from '../../src/simulator/index.js';
import { SCHEMA_PATH } from '../helpers/test-app.js';
import { startServerProcess } from '../helpers/server-process.js';

describe('SQLite job store file checks at start-up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pmp-db-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('WAL, a busy timeout and the job tables with their indexes', async () => {
    const ds = await openDatabase(dataSourceOptions({ sqlitePath: join(dir, 'fresh.sqlite3') }));
    try {
      assert.deepEqual(await ds.query('PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
      assert.deepEqual(await ds.query('PRAGMA busy_timeout'), [{ timeout: 5000 }]);
      const indexes = await ds.query<Array<{ name: string }>>(
        `SELECT name FROM sqlite_master WHERE type = 'index'`,
      );
      const names = indexes.map((i) => i.name);
      for (const name of ['idx_jobs_status_created_at', 'idx_jobs_tool_created_at', 'idx_job_events_job']) {
        assert.ok(names.includes(name), `${name} exists`);
      }
    } finally {
      await ds.destroy();
    }
  });

  test('a file that is not a SQLite database is refused and left untouched (no silent fresh store)', async () => {
    const path = join(dir, 'garbage.sqlite3');
    const garbage = 'this is not a database, it is somebody’s notes\n'.repeat(20);
    writeFileSync(path, garbage);
    await assert.rejects(openDatabase(dataSourceOptions({ sqlitePath: path })), (error: Error) => {
      assert.equal(error.name, 'DatabaseStartupError');
      assert.match(error.message, /is not a SQLite database/);
      assert.match(error.message, /move it aside/);
      return true;
    });
    assert.equal(readFileSync(path, 'utf8'), garbage);
  });

  test('the server refuses to start on it with exit code 2 and a one-line reason, no stack trace', async () => {
    const sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0 });
    try {
      const path = join(dir, 'garbage2.sqlite3');
      writeFileSync(path, 'x'.repeat(4096));
      await assert.rejects(startServerProcess({ sim, sqlitePath: path }), (error: Error) => {
        assert.match(error.message, /Job store: the job store file .* is not a SQLite database/);
        assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
        return true;
      });
    } finally {
      await sim.stop();
    }
  });
});

for (const engine of jobStoreEngines()) {
  describe(`${engine.name} schema migrations`, { skip: engine.skip }, () => {
    test('migrations are applied once; a store written by a newer version is refused', async () => {
      const store = await engine.open();
      try {
        const first = await openDatabase(dataSourceOptions(store.jobs));
        await first.query(
          `INSERT INTO migrations ("timestamp", name) VALUES (9999999999999, 'FromTheFuture9999999999999')`,
        );
        await first.destroy();
        await assert.rejects(openDatabase(dataSourceOptions(store.jobs)), (error: Error) => {
          assert.equal(error.name, 'DatabaseStartupError');
          assert.match(error.message, /written by a newer version .*FromTheFuture9999999999999/);
          return true;
        });
      } finally {
        await store.close();
      }
    });
  });
}
