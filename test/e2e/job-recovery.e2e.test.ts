import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { createApp } from '../../src/app.setup.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { PveSimulator, simulatorTargetConfig } from '../../src/simulator/index.js';
import { SCHEMA_PATH, testConfig } from '../helpers/test-app.js';
import { jobsOf, startVmSpec, vmIn } from '../helpers/jobs.js';
import { postgresSkipReason } from '../helpers/postgres.js';
import { replicasSuite } from '../helpers/replicas.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

/** A job that failed (scripted task error), created by an in-process replica that then went away. */
async function failedJob(sim: PveSimulator, jobs: AppConfig['jobs']) {
  const vm = vmIn(sim, 'stopped');
  sim.tasks.script({ match: { type: 'qmstart', id: String(vm.vmid) }, exitstatus: 'simulated failure' });
  const { app } = await createApp(
    testConfig([simulatorTargetConfig(sim)], { jobs: { ...jobs, pollIntervalMs: 0 } }),
  );
  try {
    const job = await jobsOf(app).track(startVmSpec(vm), { wait: true, timeoutSeconds: 30 });
    assert.equal(job.status, 'failed');
    return { vm, jobId: job.job_id };
  } finally {
    await app.close();
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const jobOf = async (server: ServerProcess, id: string) =>
  (await request(server.url).get(`/jobs/${id}`).set(server.auth).expect(200)).body as Record<string, any>;

const POLL_FAST = { jobs: { poll_interval_seconds: 1 }, proxmox: { timeout: 3 } };

describe('restart recovery: the server is killed with SIGKILL mid-job (SQLite file shared by restarts)', () => {
  let sim: PveSimulator;
  let dir: string;
  let sqlitePath: string;
  const servers: ServerProcess[] = [];

  before(async () => {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, nodes: 2, guests: 20, taskSeconds: 1 });
    dir = mkdtempSync(join(tmpdir(), 'pmp-recovery-'));
    sqlitePath = join(dir, 'jobs.sqlite3');
  });
  after(async () => {
    await Promise.allSettled(servers.map((s) => s.kill('SIGKILL')));
    const violations = sim.schemaViolations();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(violations, []);
  });

  const start = async () => {
    const server = await startServerProcess({ sim, sqlitePath, extraConfig: POLL_FAST });
    servers.push(server);
    return server;
  };

  test('a task still running when the server died is resumed by the next server; nothing is sent twice', async () => {
    const { vm, jobId } = await failedJob(sim, { sqlitePath });
    const starts = () =>
      sim.requestCount({ method: 'POST', path: `/nodes/${vm.node}/qemu/${vm.vmid}/status/start` });
    assert.equal(starts(), 1);
    sim.tasks.script({ match: { type: 'qmstart', id: String(vm.vmid) }, durationMs: 3000 });

    const first = await start();
    const retried = await request(first.url)
      .post(`/jobs/${jobId}/retry`)
      .set(first.auth)
      .send({})
      .expect(202);
    assert.equal(retried.body.status, 'running');
    assert.equal(await first.kill('SIGKILL'), null);

    const second = await start();
    const done = await until('the job to complete', async () => {
      const job = await jobOf(second, jobId);
      return job.status === 'running' ? undefined : job;
    });
    assert.equal(done.status, 'completed');
    assert.equal(done.task_id, retried.body.task_id);
    assert.equal(done.attempts, 2);
    assert.equal(starts(), 2, 'the original start and the one retry: no duplicate after the restart');
    assert.equal(sim.cluster.guest(vm.vmid)?.status, 'running');
    await second.stop();
  });

  test('killed between sending the retry and recording its UPID: the next server adopts the task, never re-sends', async () => {
    const { vm, jobId } = await failedJob(sim, { sqlitePath });
    const starts = () =>
      sim.requestCount({ method: 'POST', path: `/nodes/${vm.node}/qemu/${vm.vmid}/status/start` });
    // the retry's POST reaches PVE but its answer takes 1.5 s: the server dies before it hears the UPID
    sim.faults.add({
      match: { method: 'POST', path: `/nodes/${vm.node}/qemu/${vm.vmid}/status/start` },
      mode: 'latency',
      latencyMs: 1500,
      times: 1,
    });
    sim.tasks.script({ match: { type: 'qmstart', id: String(vm.vmid) }, durationMs: 2000 });

    const first = await start();
    const pending = request(first.url)
      .post(`/jobs/${jobId}/retry`)
      .set(first.auth)
      .send({})
      .then(
        () => undefined,
        () => undefined,
      );
    await until('the retry to reach the simulator', async () => (starts() === 2 ? true : undefined), 10_000);
    await first.kill('SIGKILL');
    await pending;
    await until('PVE to have started the task', async () =>
      sim.tasks
        .list(vm.node)
        .some((t) => t.type === 'qmstart' && t.id === String(vm.vmid) && t.status === 'running')
        ? true
        : undefined,
    );

    const second = await start();
    const done = await until('the interrupted retry to be reconciled and finish', async () => {
      const job = await jobOf(second, jobId);
      return job.status === 'completed' || job.status === 'failed' || job.status === 'unknown'
        ? job
        : undefined;
    });
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.attempts, 2);
    assert.equal(starts(), 2, 'nothing was re-sent after the restart');
    const events = (await request(second.url).get(`/jobs/${jobId}/events`).set(second.auth).expect(200)).body;
    const interrupted = events.events.find((e: { event: string }) => e.event === 'interrupted');
    assert.equal(interrupted?.details.outcome, 'adopted');
    await second.stop();
  });
});

describe('two server processes sharing one PostgreSQL job store', { skip: postgresSkipReason() }, () => {
  const replicas = replicasSuite(POLL_FAST);

  test('the same retry sent to both replicas at once runs once: one 202, one 409, one PVE request', async () => {
    const { sim, db, a, b } = replicas();
    const { vm, jobId } = await failedJob(sim, { sqlitePath: ':memory:', databaseUrl: db.url });
    const starts = () =>
      sim.requestCount({ method: 'POST', path: `/nodes/${vm.node}/qemu/${vm.vmid}/status/start` });
    const [ra, rb] = await Promise.all([
      request(a.url).post(`/jobs/${jobId}/retry`).set(a.auth).send({}),
      request(b.url).post(`/jobs/${jobId}/retry`).set(b.auth).send({}),
    ]);
    assert.deepEqual([ra.status, rb.status].sort(), [202, 409]);
    assert.equal(starts(), 2, 'the original start and exactly one retry');
    const done = await until('the retried job to complete', async () => {
      const job = await jobOf(b, jobId);
      return job.status === 'completed' ? job : undefined;
    });
    assert.equal(done.attempts, 2);
    const events = (await request(a.url).get(`/jobs/${jobId}/events`).set(a.auth).expect(200)).body;
    const names = events.events.map((e: { event: string }) => e.event);
    assert.equal(names.filter((n: string) => n === 'retried').length, 1);
    assert.equal(
      names.filter((n: string) => n === 'polled').length,
      2,
      'the failure and the completion, once each',
    );
  });
});
