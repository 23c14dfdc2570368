import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source.options.js';
import { openDatabase } from '../../src/database/database-bootstrap.js';
import { hashToken } from '../../src/security/approvals/approval-digest.js';
import { ApprovalEntity } from '../../src/security/approvals/approval.entity.js';
import {
  APPROVAL_RETENTION_MS,
  ApprovalStore,
  type ApprovalCall,
  type ConsumeOutcome,
} from '../../src/security/approvals/approval.store.js';
import { freshPostgresDatabase, postgresSkipReason, type FreshDatabase } from '../helpers/postgres.js';

const TTL_MS = 600_000;
const T0 = Date.UTC(2030, 0, 1);

const call = (over: Partial<ApprovalCall> = {}): ApprovalCall => ({
  tool: 'delete_vm',
  target: 'default',
  digest: 'a'.repeat(64),
  args: { node: 'pve1', vmid: '101' },
  requestedBy: 'agent',
  reason: 'delete_vm is high-risk (destroy)',
  ...over,
});

/** The store's behaviour, run on SQLite and (when configured) PostgreSQL. */
function storeSuite(name: string, open: () => Promise<DataSource>, skip: string | false = false) {
  describe(`approval store on ${name}`, { skip }, () => {
    let ds: DataSource;
    let now = T0;
    let store: ApprovalStore;

    before(async () => {
      ds = await open();
      store = new ApprovalStore(ds, TTL_MS, () => now);
    });
    after(() => ds?.destroy());

    const approved = async (over: Partial<ApprovalCall> = {}) => {
      const request = await store.request(
        call({ digest: `${Math.random().toString(16).slice(2)}`.padEnd(64, '0'), ...over }),
      );
      return { request, ...(await store.approve(request.id, 'operator')) };
    };

    test('a request is pending for the TTL; the same caller asking again for the same call reuses it', async () => {
      now = T0;
      const first = await store.request(call());
      assert.equal(first.status, 'pending');
      assert.equal(first.requestExpiresAt, T0 + TTL_MS);
      assert.equal((await store.request(call())).id, first.id);
      assert.notEqual((await store.request(call({ requestedBy: 'other' }))).id, first.id);
      assert.notEqual((await store.request(call({ digest: 'b'.repeat(64) }))).id, first.id);
    });

    test('approve returns the token once; the table holds only its SHA-256', async () => {
      now = T0;
      const request = await store.request(call({ digest: 'c'.repeat(64) }));
      const { token, approval } = await store.approve(request.id, 'operator');
      assert.match(token, /^pmpa_[A-Za-z0-9_-]{43}$/);
      assert.equal(approval.status, 'approved');
      assert.equal(approval.expiresAt, T0 + TTL_MS);
      assert.equal(approval.approvedBy, 'operator');
      const rows = await ds.query<Array<Record<string, unknown>>>('SELECT * FROM approvals');
      assert.ok(!JSON.stringify(rows).includes(token), 'no clear token in any row');
      assert.ok(rows.some((r) => r.token_hash === hashToken(token)));
      await assert.rejects(store.approve(request.id, 'operator'), {
        code: 'CONFLICT',
        message: /already approved/,
      });
      await assert.rejects(store.approve('00000000-0000-4000-8000-000000000000', 'operator'), {
        code: 'NOT_FOUND',
      });
    });

    test('G2/G3: a token works once; the second use is APPROVAL_USED', async () => {
      now = T0;
      const { token, request } = await approved();
      const ok = await store.consume(token, { digest: request.digest, caller: 'agent' });
      assert.equal(ok.ok, true);
      const replay = await store.consume(token, { digest: request.digest, caller: 'agent' });
      assert.deepEqual([replay.ok, !replay.ok && replay.failure], [false, 'APPROVAL_USED']);
    });

    test('G5: expiry is exact (no skew tolerance): usable until expires_at, refused from then on', async () => {
      now = T0;
      const a = await approved();
      const b = await approved();
      now = T0 + TTL_MS - 1;
      assert.equal((await store.consume(a.token, { digest: a.request.digest, caller: 'agent' })).ok, true);
      now = T0 + TTL_MS;
      const late = await store.consume(b.token, { digest: b.request.digest, caller: 'agent' });
      assert.deepEqual([late.ok, !late.ok && late.failure], [false, 'APPROVAL_EXPIRED']);
    });

    test('a request not approved within the TTL cannot be approved any more', async () => {
      now = T0;
      const request = await store.request(call({ digest: 'd'.repeat(64) }));
      now = T0 + TTL_MS;
      await assert.rejects(store.approve(request.id, 'operator'), { code: 'CONFLICT', message: /expired/ });
      // and a new request is created for the same call
      assert.notEqual((await store.request(call({ digest: 'd'.repeat(64) }))).id, request.id);
    });

    test('G6/G7/G8: other digest, other caller, tampered or unknown tokens are refused and leave the token usable', async () => {
      now = T0;
      const { token, request } = await approved();
      const mismatch = await store.consume(token, { digest: 'f'.repeat(64), caller: 'agent' });
      assert.equal(!mismatch.ok && mismatch.failure, 'APPROVAL_MISMATCH');
      const wrongCaller = await store.consume(token, { digest: request.digest, caller: 'intruder' });
      assert.equal(!wrongCaller.ok && wrongCaller.failure, 'APPROVAL_WRONG_CALLER');
      const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
      for (const bad of [flipped, token.slice(0, -2), `${token}x`, 'pmpa_', 'not-a-token', '']) {
        const r = await store.consume(bad, { digest: request.digest, caller: 'agent' });
        assert.equal(!r.ok && r.failure, 'unknown', bad);
      }
      assert.equal((await store.consume(token, { digest: request.digest, caller: 'agent' })).ok, true);
    });

    test('G4: many concurrent uses of one token: exactly one wins', async () => {
      now = T0;
      const { token, request } = await approved();
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, () => store.consume(token, { digest: request.digest, caller: 'agent' })),
      );
      assert.equal(outcomes.filter((o) => o.ok).length, 1);
      assert.ok(outcomes.every((o) => o.ok || o.failure === 'APPROVAL_USED'));
    });

    test('request, approve and consume return the stored row exactly as TypeORM reads it', async () => {
      now = T0;
      const repo = ds.getRepository(ApprovalEntity);
      const stored = (id: string) => repo.findOneByOrFail({ id });
      const plan = { plan_digest: 'p'.repeat(64), changes: [{ kind: 'delete', vmid: 101, purge: true }] };
      const args = { node: 'pve1', vmid: '101', nested: { list: ['a', null], flag: 'true' } };
      const c = call({ digest: 'g'.repeat(64), args, plan });
      const request = await store.request(c);
      assert.deepEqual(request, await stored(request.id));
      assert.deepEqual(await store.request(c), request, 'the reused open request, same row');
      const { approval, token } = await store.approve(request.id, 'operator');
      assert.deepEqual(approval, await stored(request.id));
      assert.deepEqual(await store.get(request.id), approval);
      assert.deepEqual([approval.approvedAt, approval.expiresAt], [T0, T0 + TTL_MS]);
      const used = await store.consume(token, { digest: c.digest, caller: 'agent' });
      assert.ok(used.ok);
      assert.deepEqual(used.approval, await stored(request.id));
      assert.deepEqual([used.approval.status, used.approval.usedAt], ['used', T0]);
      const replay = await store.consume(token, { digest: c.digest, caller: 'agent' });
      assert.ok(!replay.ok && replay.failure === 'APPROVAL_USED');
      assert.deepEqual(replay.approval, await stored(request.id));
    });

    test('requests older than the retention period are deleted when the next new request comes in', async () => {
      now = T0 - APPROVAL_RETENTION_MS - 1;
      const old = await store.request(call({ digest: '1'.repeat(64) }));
      now = T0 - APPROVAL_RETENTION_MS;
      const edge = await store.request(call({ digest: '2'.repeat(64) }));
      now = T0;
      assert.ok(await store.get(old.id), 'kept until a new request comes in');
      await store.request(call({ digest: '3'.repeat(64) }));
      assert.equal(await store.get(old.id), null);
      assert.ok(await store.get(edge.id), 'exactly the retention period old: kept');
    });

    test('a token used while another transaction is open on the connection stays used when that one rolls back', async () => {
      now = T0;
      const { token, request } = await approved();
      let consumed: Promise<ConsumeOutcome> | undefined;
      // as the job store's TypeORM transactions do on the shared SQLite connection
      await assert.rejects(
        ds.transaction(async (m) => {
          await m.query('SELECT 1');
          consumed = store.consume(token, { digest: request.digest, caller: 'agent' });
          await new Promise((resolve) => setTimeout(resolve, 30));
          throw new Error('the other transaction fails');
        }),
        /the other transaction fails/,
      );
      assert.equal((await consumed!).ok, true);
      const replay = await store.consume(token, { digest: request.digest, caller: 'agent' });
      assert.deepEqual([replay.ok, !replay.ok && replay.failure], [false, 'APPROVAL_USED']);
    });

    test('pending() lists open requests only', async () => {
      now = T0;
      const open = await store.request(call({ digest: 'e'.repeat(64) }));
      const ids = (await store.pending()).map((r) => r.id);
      assert.ok(ids.includes(open.id));
      now = T0 + TTL_MS;
      assert.ok(!(await store.pending()).some((r) => r.id === open.id));
    });
  });
}

storeSuite('SQLite (in memory)', () => openDatabase(dataSourceOptions({ sqlitePath: ':memory:' })));

let pg: FreshDatabase | undefined;
storeSuite(
  'PostgreSQL',
  async () => {
    pg = await freshPostgresDatabase();
    return openDatabase(dataSourceOptions({ sqlitePath: ':memory:', databaseUrl: pg!.url }));
  },
  postgresSkipReason(),
);
after(() => pg?.drop());

describe('approval store: concurrent use from separate connections (as separate server processes would)', () => {
  let dir: string;
  const sources: DataSource[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pmp-approvals-'));
  });
  after(async () => {
    await Promise.all(sources.map((s) => s.destroy()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('12 connections to one SQLite file race for one token: exactly one wins, 11 see APPROVAL_USED', async () => {
    const path = join(dir, 'jobs.sqlite3');
    for (let i = 0; i < 12; i++) sources.push(await openDatabase(dataSourceOptions({ sqlitePath: path })));
    const stores = sources.map((s) => new ApprovalStore(s, TTL_MS));
    const request = await stores[0].request(call());
    const { token } = await stores[0].approve(request.id, 'operator');
    const outcomes = await Promise.all(
      stores.map((s) => s.consume(token, { digest: request.digest, caller: 'agent' })),
    );
    assert.equal(outcomes.filter((o) => o.ok).length, 1);
    assert.equal(outcomes.filter((o) => !o.ok && o.failure === 'APPROVAL_USED').length, 11);
  });
});

describe(
  'approval store: concurrent use from separate PostgreSQL connections (as separate replicas would)',
  { skip: postgresSkipReason() },
  () => {
    let db: FreshDatabase | undefined;
    const sources: DataSource[] = [];
    after(async () => {
      await Promise.all(sources.map((s) => s.destroy()));
      await db?.drop();
    });

    test('4 connections race 3 uses each of one token: exactly one wins, 11 see APPROVAL_USED', async () => {
      db = await freshPostgresDatabase();
      for (let i = 0; i < 4; i++)
        sources.push(await openDatabase(dataSourceOptions({ sqlitePath: ':memory:', databaseUrl: db!.url })));
      const stores = sources.map((s) => new ApprovalStore(s, TTL_MS));
      const request = await stores[0].request(call());
      const { token } = await stores[1].approve(request.id, 'operator');
      const outcomes = await Promise.all(
        stores.flatMap((s) =>
          [1, 2, 3].map(() => s.consume(token, { digest: request.digest, caller: 'agent' })),
        ),
      );
      assert.equal(outcomes.filter((o) => o.ok).length, 1);
      assert.equal(outcomes.filter((o) => !o.ok && o.failure === 'APPROVAL_USED').length, 11);
    });
  },
);
