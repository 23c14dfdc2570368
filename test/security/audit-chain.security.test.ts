import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { chainHash, chainRecordOf, type RawAuditRow } from '../../src/audit/audit-chain.js';
import { AuditService } from '../../src/audit/audit.service.js';
import { dataSourceOptions } from '../../src/database/data-source.options.js';
import { CreateJobs1764000000000 } from '../../src/jobs/migrations/1764000000000-CreateJobs.js';
import { CreateAuditEvents1764100000000 } from '../../src/audit/migrations/1764100000000-CreateAuditEvents.js';
import { CreateApprovals1764200000000 } from '../../src/security/approvals/migrations/1764200000000-CreateApprovals.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { jobStoreEngines, type OpenedStore } from '../helpers/job-stores.js';
import { postgresSkipReason } from '../helpers/postgres.js';
import { replicasSuite } from '../helpers/replicas.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { PveSimulator } from '../../src/simulator/index.js';
import { SCHEMA_PATH } from '../helpers/test-app.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { Clients, KEYS, bearer, callTool, scopedKeys, textOf } from './helpers.js';

// This file runs from dist/test/security/; the script lives at the repository root.
const VERIFY_SCRIPT = fileURLToPath(new URL('../../../scripts/verify-audit-export.mjs', import.meta.url));
const NO_JOB = '00000000-0000-4000-8000-000000000000';
const DAY = 24 * 60 * 60 * 1000;
const COLUMNS = [
  'id',
  'at',
  'actor',
  'action',
  'target',
  'outcome',
  'reason',
  'args_digest',
  'details_json',
  'chain_seq',
  'prev_hash',
  'hash',
] as const;

/** The external verifier on a file, as an auditor runs it. */
function runVerifier(file: string, ...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [VERIFY_SCRIPT, file, ...args], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

for (const engine of jobStoreEngines()) {
  describe(
    `tamper-evident audit log (${engine.name}): hash chain, verify_audit_log, export_audit_log`,
    {
      skip: engine.skip,
    },
    () => {
      let h: Harness;
      let store: OpenedStore;
      let db: DataSource;
      let dir: string;
      const clients = new Clients();
      const pg = engine.name === 'PostgreSQL';
      const sql = (text: string) =>
        pg
          ? text.replace(
              /\?/g,
              (
                (n) => () =>
                  `$${++n}`
              )(0),
            )
          : text;
      const query = (text: string, params: unknown[] = []) => db.query<any[]>(sql(text), params);
      const chainRows = async () =>
        (await query(
          `SELECT ${COLUMNS.join(', ')} FROM audit_events WHERE chain_seq IS NOT NULL ORDER BY id`,
        )) as RawAuditRow[];
      /** Puts a row back exactly as it was (undoing a tampering step). */
      const putRow = async (row: RawAuditRow) => {
        await query('DELETE FROM audit_events WHERE id = ?', [row.id]);
        await query(
          `INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
          COLUMNS.map((c) => row[c]),
        );
      };
      const setFields = async (id: number | string, row: RawAuditRow) => {
        const cols = COLUMNS.filter((c) => c !== 'id');
        await query(`UPDATE audit_events SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`, [
          ...cols.map((c) => row[c]),
          id,
        ]);
      };
      const verifyMcp = async () => {
        const admin = await h.mcp();
        const r = await callTool(admin, 'verify_audit_log');
        assert.equal(r.isError, undefined, textOf(r));
        return { result: r.structuredContent, text: textOf(r) };
      };
      const verifyRest = async () => (await request(h.url).get('/audit/verify').set(h.auth).expect(200)).body;
      let exports = 0;
      const exportFile = async () => {
        const res = await request(h.url)
          .get('/audit/export.ndjson')
          .set(h.auth)
          .buffer(true)
          .parse((r, cb) => {
            let text = '';
            r.setEncoding('utf8');
            r.on('data', (c: string) => (text += c));
            r.on('end', () => cb(null, text));
          })
          .expect(200);
        assert.match(res.headers['content-type'], /^application\/x-ndjson/);
        assert.match(res.headers['content-disposition'], /attachment; filename="audit-log\.ndjson"/);
        const file = join(dir, `export-${++exports}.ndjson`);
        writeFileSync(file, res.body as string);
        return { file, lines: (res.body as string).split('\n').filter(Boolean) };
      };

      before(async () => {
        store = await engine.open();
        dir = mkdtempSync(join(tmpdir(), 'pmp-auditchain-'));
        // a store from before the chain, with two audit rows: the chain must start after them
        const old = new DataSource({
          ...dataSourceOptions(store.jobs),
          migrations: [CreateJobs1764000000000, CreateAuditEvents1764100000000, CreateApprovals1764200000000],
        });
        await old.initialize();
        await old.runMigrations({ transaction: 'all' });
        for (const action of ['legacy.one', 'legacy.two']) {
          await old.query(
            pg
              ? 'INSERT INTO audit_events (at, action, outcome) VALUES ($1, $2, $3)'
              : 'INSERT INTO audit_events (at, action, outcome) VALUES (?, ?, ?)',
            [Date.now(), action, 'succeeded'],
          );
        }
        await old.destroy();

        h = await startHarness({ nodes: 2, guests: 12, taskSeconds: 30 }, (sim) =>
          testConfig([simulatorTargetConfig(sim)], {
            http: { ...testConfig([]).http, apiKeys: [...testConfig([]).http.apiKeys, ...scopedKeys()] },
            audit: { retentionDays: 7 },
            jobs: store.jobs,
          }),
        );
        db = h.server.app.get(DataSource);
        // audit rows through real calls: refusals (MCP and REST) and failed mutating calls
        const reader = await clients.as(h.url, KEYS.read);
        const operator = await clients.as(h.url, KEYS.operate);
        for (let i = 0; i < 3; i++) {
          assert.equal((await callTool(reader, 'list_audit_events')).isError, true);
          assert.equal((await callTool(operator, 'cancel_job', { job_id: NO_JOB })).isError, true);
          await request(h.url).get('/audit/events').set(bearer(KEYS.read)).expect(403);
          await request(h.url).post(`/jobs/${NO_JOB}/cancel`).set(bearer(KEYS.operate)).send({}).expect(404);
        }
      });
      after(async () => {
        await clients.closeAll();
        await h?.close();
        await store?.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      test('every row written links to the previous one; the chain starts after the rows from before it', async () => {
        const rows = await chainRows();
        assert.ok(rows.length >= 12, `rows: ${rows.length}`);
        const legacy = await query('SELECT id, chain_seq, hash FROM audit_events WHERE action LIKE ?', [
          'legacy.%',
        ]);
        assert.equal(legacy.length, 2);
        assert.ok(
          legacy.every((r) => r.chain_seq === null && r.hash === null),
          'old rows are not rewritten',
        );
        assert.equal(rows[0].prev_hash, '0'.repeat(64), 'the first row links to the genesis');
        rows.forEach((raw, i) => {
          const r = chainRecordOf(raw)!;
          assert.equal(r.seq, i + 1);
          assert.equal(chainHash(r), r.hash, `row ${r.id}: hash over the documented serialisation`);
          if (i > 0) assert.equal(r.prev_hash, rows[i - 1].hash);
        });

        const { result, text } = await verifyMcp();
        assert.equal(result.ok, true, text);
        assert.equal(result.rows_checked, rows.length);
        assert.equal(result.legacy_rows, 2);
        assert.deepEqual(result.head, { seq: rows.length, hash: rows.at(-1)!.hash });
        assert.deepEqual(result.checkpoint, { seq: 0, hash: '0'.repeat(64) });
        assert.match(text, new RegExp(`^Audit chain OK: ${rows.length} row\\(s\\) checked`));
        assert.match(text, /2 row\(s\) from before the chain are not covered/);
        assert.deepEqual(await verifyRest(), result, 'REST answers the same');
      });

      test('export_audit_log: JSON lines the external verifier accepts, paged over MCP with range and last hash', async () => {
        const rows = await chainRows();
        const { file, lines } = await exportFile();
        assert.equal(lines.length, rows.length, 'legacy rows are not exported');
        const head = rows.at(-1)!.hash!;
        const ok = runVerifier(file, '--head', head, '--prev', '0'.repeat(64));
        assert.equal(ok.status, 0, ok.out);
        assert.match(
          ok.out,
          new RegExp(`^ok: ${rows.length} row\\(s\\), seq 1–${rows.length}, .*last hash ${head}$`),
        );

        // MCP: bounded pages; their lines joined are the same file
        const admin = await h.mcp();
        const pageLines: string[] = [];
        let after: number | undefined;
        let pages = 0;
        for (;;) {
          const r = await callTool(admin, 'export_audit_log', {
            limit: 5,
            ...(after !== undefined ? { after_id: after } : {}),
          });
          assert.equal(r.isError, undefined, textOf(r));
          const meta = r.structuredContent;
          const [summary, ...body] = textOf(r).split('\n');
          assert.equal(body.length, meta.count);
          assert.match(
            summary,
            new RegExp(
              `^Audit export: ${meta.count} row\\(s\\), ids ${meta.first_id}–${meta.last_id}, seq ${meta.first_seq}–${meta.last_seq}; prev_hash ${meta.prev_hash}; last hash ${meta.last_hash}`,
            ),
          );
          assert.equal(meta.last_hash, JSON.parse(body.at(-1)!).hash);
          pageLines.push(...body);
          pages++;
          if (!meta.truncated) {
            assert.equal(meta.next_after_id, undefined);
            break;
          }
          after = meta.next_after_id;
        }
        assert.equal(pages, Math.ceil(rows.length / 5));
        assert.deepEqual(pageLines, lines, 'MCP pages and the REST download hold the same lines');

        const rest = (await request(h.url).get('/audit/export?limit=2').set(h.auth).expect(200)).body;
        assert.equal(rest.count, 2);
        assert.equal(rest.records[0].seq, 1);
        assert.deepEqual(rest.head, { seq: rows.length, hash: head });
        const bad = await callTool(admin, 'export_audit_log', { limit: 0, after_id: -1 });
        assert.match(textOf(bad), /^VALIDATION: /);
        assert.match(textOf(bad), /limit must not be less than 1/);
        assert.match(textOf(bad), /after_id must not be less than 0/);
        // admin only, on both paths
        const reader = await clients.as(h.url, KEYS.read);
        assert.equal((await callTool(reader, 'verify_audit_log')).isError, true);
        await request(h.url).get('/audit/export.ndjson').set(bearer(KEYS.read)).expect(403);
        await request(h.url).get('/audit/verify').set(bearer(KEYS.operate)).expect(403);
      });

      /** Applies a tampering step, checks verify_audit_log and the script on a fresh export catch it, undoes it. */
      async function caught(
        tamper: () => Promise<void>,
        undo: () => Promise<void>,
        expect: {
          kind: string;
          rowId: number | string | null | (() => number | undefined);
          script: RegExp;
          scriptArgs?: string[];
        },
      ) {
        await tamper();
        try {
          const { result, text } = await verifyMcp();
          assert.equal(result.ok, false, text);
          assert.equal(result.first_break.kind, expect.kind, text);
          const rowId = typeof expect.rowId === 'function' ? expect.rowId() : expect.rowId;
          assert.equal(result.first_break.row_id, rowId === null ? null : Number(rowId), text);
          assert.match(text, new RegExp(`^Audit chain BROKEN \\(${expect.kind}\\)`));
          const { file } = await exportFile();
          const script = runVerifier(file, ...(expect.scriptArgs ?? []));
          assert.equal(script.status, 1, script.out);
          assert.match(script.out, expect.script);
        } finally {
          await undo();
        }
        const { result, text } = await verifyMcp();
        assert.equal(result.ok, true, `restored: ${text}`);
      }

      test('an edited row is caught, and so is an edited row whose hash was recomputed', async () => {
        const rows = await chainRows();
        const victim = rows[4];
        await caught(
          () =>
            query('UPDATE audit_events SET reason = ? WHERE id = ?', ['nothing to see', victim.id]).then(
              () => undefined,
            ),
          () => putRow(victim),
          {
            kind: 'edited',
            rowId: victim.id,
            script: new RegExp(`^broken at line 5 \\(row id ${victim.id}\\): edited`),
          },
        );
        const forged = { ...chainRecordOf(victim)!, outcome: 'succeeded', reason: null };
        await caught(
          () =>
            query('UPDATE audit_events SET outcome = ?, reason = NULL, hash = ? WHERE id = ?', [
              'succeeded',
              chainHash(forged),
              victim.id,
            ]).then(() => undefined),
          () => putRow(victim),
          {
            kind: 'edited',
            rowId: victim.id,
            script: new RegExp(`^broken at line 5 \\(row id ${victim.id}\\): edited — re-hashed`),
          },
        );
      });

      test('a deleted row is caught', async () => {
        const rows = await chainRows();
        const victim = rows[6];
        await caught(
          () => query('DELETE FROM audit_events WHERE id = ?', [victim.id]).then(() => undefined),
          () => putRow(victim),
          {
            kind: 'deleted',
            rowId: rows[7].id,
            script: new RegExp(`^broken at line 7 \\(row id ${rows[7].id}\\): deleted`),
          },
        );
      });

      test('reordered rows (contents swapped between ids) are caught', async () => {
        const rows = await chainRows();
        const [a, b] = [rows[2], rows[8]];
        await caught(
          async () => {
            await setFields(a.id, b);
            await setFields(b.id, a);
          },
          async () => {
            await putRow(a);
            await putRow(b);
          },
          {
            kind: 'reordered',
            rowId: a.id,
            script: new RegExp(`^broken at line 3 \\(row id ${a.id}\\): reordered`),
          },
        );
      });

      test('a truncated tail is caught by the head record, and by the script given the last known head', async () => {
        const rows = await chainRows();
        const tail = rows.slice(-2);
        const head = rows.at(-1)!.hash!;
        await caught(
          () => query('DELETE FROM audit_events WHERE id >= ?', [tail[0].id]).then(() => undefined),
          async () => {
            for (const row of tail) await putRow(row);
          },
          {
            kind: 'truncated',
            rowId: rows.at(-3)!.id,
            script: new RegExp(
              `^broken at line ${rows.length - 2} \\(row id ${rows.at(-3)!.id}\\): truncated`,
            ),
            scriptArgs: ['--head', head],
          },
        );
      });

      test('a row inserted outside the chain is caught', async () => {
        let id: number | undefined;
        await caught(
          async () => {
            await query('INSERT INTO audit_events (at, action, outcome) VALUES (?, ?, ?)', [
              Date.now(),
              'forged',
              'succeeded',
            ]);
            id = Number((await query('SELECT MAX(id) AS id FROM audit_events'))[0].id);
          },
          () => query('DELETE FROM audit_events WHERE id = ?', [id]).then(() => undefined),
          { kind: 'inserted', rowId: () => id, script: /^broken at line \d+ \(row id \d+\): inserted/ },
        );
      });

      test('retention pruning moves the checkpoint: the rest still verifies, and recording never fails a call', async () => {
        const audit = h.server.app.get(AuditService);
        const rows = await chainRows();
        const kept = rows[5];
        await query('UPDATE audit_events SET at = ? WHERE id < ?', [Date.now() - 8 * DAY, kept.id]);
        const removed = await audit.prune();
        assert.equal(removed, 5 + 2, 'the five oldest chained rows and the two legacy rows');
        const { result, text } = await verifyMcp();
        assert.equal(result.ok, true, text);
        assert.deepEqual(result.checkpoint, { seq: 5, hash: rows[4].hash });
        assert.equal(result.legacy_rows, 0);
        const { file, lines } = await exportFile();
        assert.equal(JSON.parse(lines[0]).prev_hash, rows[4].hash);
        const script = runVerifier(file, '--prev', rows[4].hash!, '--head', result.head.hash);
        assert.equal(script.status, 0, script.out);

        // without its head row the chain cannot be written: the call still answers as it would, unrecorded
        const [chain] = await query('SELECT * FROM audit_chain');
        await query('DELETE FROM audit_chain');
        try {
          const operator = await clients.as(h.url, KEYS.operate);
          const r = await callTool(operator, 'cancel_job', { job_id: NO_JOB });
          assert.match(textOf(r), /^NOT_FOUND: /);
        } finally {
          await query(
            'INSERT INTO audit_chain (id, legacy_max_id, checkpoint_seq, checkpoint_hash, head_seq, head_hash, pruned_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
            [
              chain.id,
              chain.legacy_max_id,
              chain.checkpoint_seq,
              chain.checkpoint_hash,
              chain.head_seq,
              chain.head_hash,
              chain.pruned_at,
            ],
          );
        }
        assert.equal((await verifyRest()).ok, true);
      });
    },
  );
}

describe(
  'tamper-evident audit log: two replicas on one PostgreSQL write one valid chain',
  { skip: postgresSkipReason() },
  () => {
    const replicas = replicasSuite();

    test('concurrent failed calls on both replicas: every row linked, in order, verified by either', () => {
      const { a, b } = replicas();
      return concurrentCallsKeepOneChain([a, b]);
    });
  },
);

/** 15 failed cancel_job calls per server, all at once, then the chain verified by each and by the script. */
async function concurrentCallsKeepOneChain(servers: ServerProcess[]) {
  const calls = servers.flatMap((server) =>
    Array.from({ length: 15 }, () =>
      fetch(`${server.url}/jobs/${NO_JOB}/cancel`, {
        method: 'POST',
        headers: { ...server.auth, 'content-type': 'application/json' },
        body: '{}',
      }).then((r) => r.status),
    ),
  );
  assert.deepEqual([...new Set(await Promise.all(calls))], [404]);
  for (const server of servers) {
    const body = (await (await fetch(`${server.url}/audit/verify`, { headers: server.auth })).json()) as any;
    assert.equal(body.ok, true, JSON.stringify(body));
    assert.ok(body.rows_checked >= 15 * servers.length, JSON.stringify(body));
    assert.equal(body.head.seq, body.rows_checked);
  }
  const dir = mkdtempSync(join(tmpdir(), 'pmp-auditchain-'));
  try {
    const text = await (
      await fetch(`${servers[0].url}/audit/export.ndjson`, { headers: servers[0].auth })
    ).text();
    writeFileSync(join(dir, 'export.ndjson'), text);
    const script = runVerifier(join(dir, 'export.ndjson'));
    assert.equal(script.status, 0, script.out);
    const actions = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).action);
    assert.ok(actions.filter((x) => x === 'cancel_job').length >= 15 * servers.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('tamper-evident audit log: two server processes on one SQLite file write one valid chain', () => {
  let sim: PveSimulator;
  let dir: string;
  const servers: ServerProcess[] = [];
  before(async () => {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, nodes: 1, guests: 2, taskSeconds: 1 });
    dir = mkdtempSync(join(tmpdir(), 'pmp-auditchain-sqlite-'));
    const sqlitePath = join(dir, 'jobs.sqlite3');
    servers.push(await startServerProcess({ sim, sqlitePath }));
    servers.push(await startServerProcess({ sim, sqlitePath }));
  });
  after(async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await sim?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('concurrent failed calls on both processes: every row linked, in order, verified by either', () =>
    concurrentCallsKeepOneChain(servers));
});
