import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { PveSimulator } from '../../src/simulator/index.js';
import { freshPostgresDatabase, type FreshDatabase } from './postgres.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { SCHEMA_PATH } from './test-app.js';

export interface Replicas {
  sim: PveSimulator;
  db: FreshDatabase;
  /** Two server processes on the same job store, as two replicas behind a load balancer. */
  a: ServerProcess;
  b: ServerProcess;
}

/**
 * Two replicas sharing one fresh PostgreSQL job store, for one `describe` block (guard it with
 * `{ skip: postgresSkipReason() }`): a 2-node simulator and the two server processes are started in its `before`
 * (the first creates the schema before the second starts, as in a rolling deploy), and stopped in its `after`,
 * which fails on any request real PVE would refuse. `extraConfig` is merged into both servers' config files.
 */
export function replicasSuite(extraConfig: object = { jobs: { poll_interval_seconds: 1 } }): () => Replicas {
  let replicas: Partial<Replicas> = {};
  before(async () => {
    const sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, nodes: 2, guests: 20, taskSeconds: 1 });
    replicas = { sim };
    const db = (await freshPostgresDatabase())!;
    replicas.db = db;
    replicas.a = await startServerProcess({ sim, databaseUrl: db.url, extraConfig });
    replicas.b = await startServerProcess({ sim, databaseUrl: db.url, extraConfig });
  });
  after(async () => {
    const { sim, db, a, b } = replicas;
    await Promise.allSettled([a?.stop(), b?.stop()]);
    const violations = sim?.schemaViolations() ?? [];
    await sim?.stop();
    await db?.drop();
    assert.deepEqual(violations, []);
  });
  return () => replicas as Replicas;
}

/** A running VM of the simulator whose next snapshot task runs for a minute (to be read and cancelled meanwhile). */
export function vmWithSlowSnapshot(sim: PveSimulator) {
  const vm = [...sim.cluster.guests()].find((g) => g.type === 'qemu' && g.status === 'running');
  assert.ok(vm, 'the simulator has a running VM');
  sim.tasks.script({ match: { type: 'qmsnapshot', id: String(vm.vmid) }, durationMs: 60_000 });
  return vm;
}
