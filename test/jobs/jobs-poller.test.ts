import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from '../../src/app.setup.js';
import { PveSimulator, simulatorTargetConfig } from '../../src/simulator/index.js';
import { JobsStore } from '../../src/jobs/jobs.store.js';
import { SCHEMA_PATH, testConfig } from '../helpers/test-app.js';
import { jobsOf, startVmSpec } from '../helpers/jobs.js';
import { jobStoreEngines, type OpenedStore } from '../helpers/job-stores.js';
import type { INestApplication } from '@nestjs/common';

const NODES = 32;
const JOBS = 1000;

for (const engine of jobStoreEngines()) {
  describe(
    `background poller on ${engine.name}: ${JOBS} running jobs on ${NODES} nodes`,
    { skip: engine.skip },
    () => {
      let sim: PveSimulator;
      let store: OpenedStore;
      let a: INestApplication;
      let b: INestApplication;
      const taskLists = () => sim.requestCount({ method: 'GET', path: /^\/nodes\/[^/]+\/tasks$/ });
      const taskStatusReads = () => sim.requestCount({ method: 'GET', path: /\/tasks\/[^/]+\/status$/ });

      before(async () => {
        sim = await PveSimulator.start({
          schemaPath: SCHEMA_PATH,
          nodes: NODES,
          guests: 2 * JOBS + 50,
          taskSeconds: 0,
        });
        store = await engine.open();
        // two replicas on one store; their timers are off (huge interval) so each round is driven by the test
        const config = testConfig([simulatorTargetConfig(sim)], {
          jobs: { ...store.jobs, pollIntervalMs: 3_600_000 },
        });
        a = (await createApp(config)).app;
        b = (await createApp(config)).app;
      });
      after(async () => {
        await a?.close();
        await b?.close();
        const violations = sim.schemaViolations();
        await sim.stop();
        await store.close();
        assert.deepEqual(violations, [], 'every request passes the PVE schema');
      });

      test('one task-list request per node per round settles every job; one replica polls each job', async () => {
        const vms = [...sim.cluster.guests()].filter((g) => g.type === 'qemu').slice(0, JOBS);
        assert.equal(vms.length, JOBS);
        // long-running stop tasks (stopping a stopped VM is fine) that end when the test says so
        sim.tasks.script({ match: { type: 'qmstop' }, durationMs: 4000, times: JOBS });
        const jobs = jobsOf(a);
        const created: string[] = [];
        for (let i = 0; i < vms.length; i += 50) {
          const batch = vms.slice(i, i + 50);
          const started = await Promise.all(
            batch.map((g) => jobs.track(startVmSpec({ node: g.node, vmid: g.vmid }, 'stop'))),
          );
          created.push(...started.map((j) => j.job_id));
        }
        assert.equal(created.length, JOBS);

        // round 1 while every task still runs: replica A leases all jobs, one list request per node
        let lists = taskLists();
        let statuses = taskStatusReads();
        await jobs.poller.pollOnce();
        assert.ok(
          taskLists() - lists <= NODES,
          `at most ${NODES} task-list requests (was ${taskLists() - lists})`,
        );
        assert.equal(taskStatusReads() - statuses, 0, 'no per-job status reads');
        // replica B finds nothing to poll: A's leases are live
        lists = taskLists();
        await jobsOf(b).poller.pollOnce();
        assert.equal(taskLists() - lists, 0, 'replica B sends no task-list request for jobs A owns');

        // the tasks end; the next round of A sees every one of them finished, still one request per node
        await sleep(4500);
        lists = taskLists();
        statuses = taskStatusReads();
        await jobs.poller.pollOnce();
        assert.ok(taskLists() - lists <= NODES);
        assert.equal(taskStatusReads() - statuses, 0);
        const done = await jobs.service.list({
          status: 'completed',
          toolName: 'stop_vm',
          limit: 500,
          offset: 0,
        });
        assert.equal(done.total, JOBS);
        const owners = new Set<string>();
        for (const id of created.slice(0, 50)) {
          const events = await jobs.service.events(id, 100, 0);
          const polled = events.events.filter((e) => e.event === 'polled');
          assert.equal(polled.length, 1, 'one terminal poll per job');
          owners.add(String(polled[0].details.by));
        }
        assert.deepEqual([...owners], [jobs.poller.owner]);
      });

      test('a replica that shuts down hands its jobs over at once', async () => {
        const vm = [...sim.cluster.guests()].filter((g) => g.type === 'qemu')[JOBS + 1];
        sim.tasks.script({ match: { type: 'qmstop', id: String(vm.vmid) }, durationMs: 60_000 });
        const job = await jobsOf(a).track(startVmSpec({ node: vm.node, vmid: vm.vmid }, 'stop'));
        await jobsOf(a).poller.pollOnce();
        const storeB = b.get(JobsStore);
        assert.equal((await storeB.get(job.job_id)).leaseOwner, jobsOf(a).poller.owner);
        await a.close();
        a = undefined as unknown as INestApplication;
        await jobsOf(b).poller.pollOnce();
        assert.equal((await storeB.get(job.job_id)).leaseOwner, jobsOf(b).poller.owner);
      });
    },
  );
}
