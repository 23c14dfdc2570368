import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import request from 'supertest';
import { JobsStore } from '../../src/jobs/jobs.store.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { jobsOf, startVmSpec, vmIn } from '../helpers/jobs.js';
import { jobStoreEngines, type OpenedStore } from '../helpers/job-stores.js';

for (const engine of jobStoreEngines()) {
  describe(`job store on ${engine.name}: retention and failing closed`, { skip: engine.skip }, () => {
    let h: Harness;
    let store: OpenedStore;

    before(async () => {
      store = await engine.open();
      h = await startHarness({ nodes: 2, guests: 20, taskSeconds: 0 }, (sim) =>
        testConfig([simulatorTargetConfig(sim)], { jobs: { ...store.jobs, pollIntervalMs: 0 } }),
      );
    });
    after(async () => {
      await h?.close();
      await store.close();
    });

    test('retention: finished jobs past the period are deleted with their events; events per job are capped', async () => {
      const jobs = jobsOf(h.server.app);
      const jobStore = h.server.app.get(JobsStore);
      const old = await jobs.track(startVmSpec(vmIn(h.sim, 'stopped')), { wait: true, timeoutSeconds: 30 });
      const recent = await jobs.track(startVmSpec(vmIn(h.sim, 'stopped')), {
        wait: true,
        timeoutSeconds: 30,
      });
      await jobStore.update(old.job_id, {}, { createdAt: Date.now() - 40 * 86_400_000 });
      for (let i = 0; i < 30; i++) await jobStore.addEvent(recent.job_id, { event: 'note', details: { i } });

      const pruned = await jobStore.prune(30, 10);
      assert.equal(pruned.jobs, 1);
      assert.equal(await jobStore.find(old.job_id), null);
      assert.equal((await jobStore.listEvents(old.job_id, 100, 0)).total, 0);
      const kept = await jobStore.listEvents(recent.job_id, 100, 0);
      assert.equal(kept.total, 11, "10 newest plus the job's 'created' event");
      assert.equal(kept.rows[0].event, 'created');
      assert.equal(kept.rows.at(-1)?.details.i, 29);
    });

    test('a job store that cannot record the job means the mutation is not sent (503, nothing reaches PVE)', async () => {
      const vm = vmIn(h.sim, 'stopped');
      const starts = () =>
        h.sim.requestCount({ method: 'POST', path: `/nodes/${vm.node}/qemu/${vm.vmid}/status/start` });
      // break the store underneath the server, as a full disk or a dropped table would
      const saboteur = new DataSource(
        store.jobs.databaseUrl
          ? { type: 'postgres', url: store.jobs.databaseUrl }
          : { type: 'better-sqlite3', database: store.jobs.sqlitePath },
      );
      await saboteur.initialize();
      await saboteur.query('ALTER TABLE jobs RENAME TO jobs_gone');
      try {
        await assert.rejects(
          jobsOf(h.server.app).track(startVmSpec(vm)),
          (error: Error & { code?: string }) => {
            assert.equal(error.code, 'STORE_UNAVAILABLE');
            assert.match(error.message, /could not be recorded, so start_vm was not sent/);
            return true;
          },
        );
        assert.equal(starts(), 0);
        const listed = await request(h.url).get('/jobs').set(h.auth);
        assert.equal(listed.status, 503);
        assert.equal(listed.body.code, 'STORE_UNAVAILABLE');
        assert.doesNotMatch(JSON.stringify(listed.body), /jobs_gone|SQLITE|relation|at /);
      } finally {
        await saboteur.query('ALTER TABLE jobs_gone RENAME TO jobs');
        await saboteur.destroy();
      }
    });
  });
}
