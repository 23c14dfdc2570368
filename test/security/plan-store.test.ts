import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source.options.js';
import { openDatabase } from '../../src/database/database-bootstrap.js';
import { PlanDto } from '../../src/common/plan/plan.dto.js';
import { ApprovalStore } from '../../src/security/approvals/approval.store.js';
import { PLAN_TTL_MS, PlanStore } from '../../src/security/plans/plan.store.js';
import { freshPostgresDatabase, postgresSkipReason, type FreshDatabase } from '../helpers/postgres.js';

const T0 = Date.UTC(2030, 0, 1);

const plan = (digest: string): PlanDto =>
  Object.assign(new PlanDto(), {
    tool: 'delete_vm',
    target: 'default',
    requests: [{ method: 'DELETE', path: '/nodes/pve1/qemu/101', params: { purge: false } }],
    affected: [{ kind: 'vm', id: '101', node: 'pve1' }],
    checks: [{ name: 'guest_state', ok: true, detail: 'VM 101 on pve1 is stopped, not locked' }],
    warnings: [],
    would_succeed: true,
    plan_digest: digest,
  });

/** The plans table (and the approvals' plan column) through the migrations, on SQLite and PostgreSQL. */
function storeSuite(name: string, open: () => Promise<DataSource>, skip: string | false = false) {
  describe(`plan store on ${name}`, { skip }, () => {
    let ds: DataSource;
    let store: PlanStore;
    before(async () => {
      ds = await open();
      store = new PlanStore(ds);
    });
    after(() => ds?.destroy());

    test('a saved plan is found by digest until it expires; saving the same digest again refreshes it', async () => {
      const digest = 'a'.repeat(64);
      const expires = await store.save(plan(digest), 'agent', T0);
      assert.equal(expires, T0 + PLAN_TTL_MS);
      const found = await store.get(digest, T0 + 1000);
      assert.equal(found?.plan_digest, digest);
      assert.deepEqual(found?.requests, plan(digest).requests);
      assert.equal(await store.get('b'.repeat(64), T0), undefined);
      assert.equal(await store.get(digest, T0 + PLAN_TTL_MS + 1), undefined, 'expired');
      await store.save(plan(digest), 'agent', T0 + PLAN_TTL_MS);
      assert.ok(await store.get(digest, T0 + PLAN_TTL_MS + 1), 'refreshed');
    });

    test('expired plans are deleted when the next one is saved', async () => {
      await store.save(plan('c'.repeat(64)), null, T0);
      await store.save(plan('d'.repeat(64)), null, T0 + 3 * PLAN_TTL_MS);
      const rows = await ds.query('SELECT digest FROM plans');
      assert.deepEqual(
        (rows as Array<{ digest: string }>).map((r) => r.digest),
        ['d'.repeat(64)],
      );
    });

    test('an approval request keeps the plan it was made for (nullable)', async () => {
      const approvals = new ApprovalStore(ds, 60_000);
      const call = {
        tool: 'delete_vm',
        target: 'default',
        digest: 'e'.repeat(64),
        args: { node: 'pve1', vmid: '101', plan_digest: 'a'.repeat(64) },
        requestedBy: 'agent',
        reason: 'delete_vm is high-risk (destroy)',
      };
      const withPlan = await approvals.request({ ...call, plan: { plan_digest: 'a'.repeat(64) } });
      assert.deepEqual((await approvals.get(withPlan.id))?.plan, { plan_digest: 'a'.repeat(64) });
      const without = await approvals.request({ ...call, digest: 'f'.repeat(64) });
      assert.equal((await approvals.get(without.id))?.plan, null);
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
