import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { jobsOf, recordInterruptedJob, sendAsTheDeadServer, startVmSpec, vmIn } from '../helpers/jobs.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { jobStoreEngines } from '../helpers/job-stores.js';
import { type ToolResult, resultText as text } from '../helpers/tools.js';

for (const engine of jobStoreEngines()) {
  describe(
    `durable jobs on ${engine.name} against the simulator (tasks run for 1 s)`,
    { skip: engine.skip },
    () => {
      let h: Harness;
      let mcp: Client;
      let jobs: ReturnType<typeof jobsOf>;
      const call = (name: string, args: Record<string, unknown> = {}) =>
        mcp.callTool({ name, arguments: args }) as Promise<ToolResult>;

      before(async () => {
        const store = await engine.open();
        h = await startHarness({ nodes: 3, guests: 80, taskSeconds: 1 }, (sim) =>
          // the background poller is off here so each test drives the job itself; the poller has its own suite
          testConfig([simulatorTargetConfig(sim)], { jobs: { ...store.jobs, pollIntervalMs: 0 } }),
        );
        cleanup = () => store.close();
        mcp = await h.mcp();
        // the SDK client checks every structuredContent against the tool's outputSchema once it has listed them
        await mcp.listTools();
        jobs = jobsOf(h.server.app);
      });
      let cleanup: () => Promise<void> = async () => undefined;
      after(async () => {
        await h?.close();
        await cleanup();
      });

      test('start → running → completed: the job is recorded before the task and followed to OK', async () => {
        const vm = vmIn(h.sim, 'stopped');
        const started = await jobs.track(startVmSpec(vm));
        assert.equal(started.status, 'running');
        assert.match(started.task_id!, /^UPID:[^:]+:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:qmstart:\d+:/);
        assert.equal(started.upid, started.task_id);

        const listed = await call('get_job', { job_id: started.job_id });
        assert.equal(listed.structuredContent.status, 'running');
        assert.match(text(listed), /Job ID: /);

        const done = await call('wait_job', { job_id: started.job_id, timeout_seconds: 30 });
        assert.equal(done.isError, undefined, text(done));
        assert.equal(done.structuredContent.status, 'completed');
        assert.equal(done.structuredContent.exitstatus, 'OK');
        assert.equal(done.structuredContent.progress, 100);
        assert.ok(done.structuredContent.completed_at);
        assert.equal(h.sim.cluster.guest(vm.vmid)?.status, 'running', 'the simulated VM really started');

        const events = await call('get_job_events', { job_id: started.job_id });
        assert.deepEqual(
          events.structuredContent.events.map((e: { event: string }) => e.event),
          ['created', 'submitted', 'polled'],
        );
      });

      test('WARNINGS: n is success: completed with the warning count, not failed', async () => {
        const vm = vmIn(h.sim, 'stopped');
        h.sim.tasks.script({ match: { type: 'qmstart', id: String(vm.vmid) }, exitstatus: 'WARNINGS: 2' });
        const job = await jobs.track(startVmSpec(vm), { wait: true, timeoutSeconds: 30 });
        assert.equal(job.status, 'completed');
        assert.equal(job.warnings, 2);
        assert.equal(job.exitstatus, 'WARNINGS: 2');
        assert.equal(job.last_error, null);
      });

      test('a failed task keeps its error text; starting a running VM fails in the task as on PVE', async () => {
        const vm = vmIn(h.sim, 'running');
        const job = await jobs.track(startVmSpec(vm), { wait: true, timeoutSeconds: 30 });
        assert.equal(job.status, 'failed');
        assert.equal(job.last_error, `VM ${vm.vmid} already running`);
        assert.equal(job.retryable, true);
        const rest = await request(h.url).get(`/jobs/${job.job_id}`).set(h.auth).expect(200);
        assert.equal(rest.body.last_error, `VM ${vm.vmid} already running`);
      });

      test('cancel_job sends DELETE on the task; the task stops and the job ends cancelled', async () => {
        const vm = vmIn(h.sim, 'stopped');
        h.sim.tasks.script({ match: { type: 'qmstart', id: String(vm.vmid) }, durationMs: 60_000 });
        const job = await jobs.track(startVmSpec(vm));
        const before = h.sim.requestCount({ method: 'DELETE', path: /\/tasks\// });
        const res = await request(h.url).post(`/jobs/${job.job_id}/cancel`).set(h.auth).send({}).expect(202);
        assert.equal(h.sim.requestCount({ method: 'DELETE', path: /\/tasks\// }), before + 1);
        assert.equal(res.body.status, 'cancelled');
        assert.equal(h.sim.tasks.get(job.task_id!)?.exitstatus, 'received interrupt');
        assert.equal(h.sim.cluster.guest(vm.vmid)?.status, 'stopped', 'the interrupted start had no effect');
        // a second cancel of a finished job is a conflict, not a silent success
        const again = await call('cancel_job', { job_id: job.job_id });
        assert.equal(again.isError, true);
        assert.match(text(again), /cannot be cancelled while status is 'cancelled'/);
      });

      test('retry after failure: new UPID, attempts and history kept; a running job cannot be retried', async () => {
        const vm = vmIn(h.sim, 'stopped');
        h.sim.tasks.script({
          match: { type: 'qmstart', id: String(vm.vmid) },
          exitstatus: 'simulated storage hiccup',
        });
        const failed = await jobs.track(startVmSpec(vm), { wait: true, timeoutSeconds: 30 });
        assert.equal(failed.status, 'failed');
        assert.equal(failed.last_error, 'simulated storage hiccup');

        const retried = await call('retry_job', { job_id: failed.job_id });
        assert.equal(retried.isError, undefined, text(retried));
        const job = retried.structuredContent;
        assert.equal(job.status, 'running');
        assert.notEqual(job.task_id, failed.task_id);
        assert.deepEqual(job.previous_upids, [failed.task_id]);
        assert.equal(job.attempts, 2);
        assert.equal(job.retry_count, 1);

        const busy = await request(h.url)
          .post(`/jobs/${failed.job_id}/retry`)
          .set(h.auth)
          .send({})
          .expect(409);
        assert.match(busy.body.message, /cannot be retried while status is 'running'/);

        const done = await jobs.service.waitFor(failed.job_id, 30);
        assert.equal(done.status, 'completed');
        assert.equal(h.sim.cluster.guest(vm.vmid)?.status, 'running');
        const events = await jobs.service.events(failed.job_id, 100, 0);
        const names = events.events.map((e) => e.event);
        assert.deepEqual(names.slice(0, 3), ['created', 'submitted', 'polled']);
        assert.ok(names.includes('retry_started') && names.includes('retried'), names.join(','));
      });

      test('concurrent retries: exactly one wins, the PVE request is sent once', async () => {
        const vm = vmIn(h.sim, 'stopped');
        h.sim.tasks.script({ match: { type: 'qmstart', id: String(vm.vmid) }, exitstatus: 'boom' });
        const failed = await jobs.track(startVmSpec(vm), { wait: true, timeoutSeconds: 30 });
        const starts = () =>
          h.sim.requestCount({ method: 'POST', path: `/nodes/${vm.node}/qemu/${vm.vmid}/status/start` });
        const before = starts();
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, () => jobs.service.retry(failed.job_id)),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        assert.equal(starts(), before + 1);
      });

      test('a job whose request carried a secret has no retry recipe and says why', async () => {
        const vm = vmIn(h.sim, 'stopped');
        const spec = startVmSpec(vm);
        // a secret param name the schema accepts on this call is not needed: the recipe is decided before sending
        const job = await jobs.track({
          ...spec,
          request: { ...spec.request, params: { timeout: 30 } },
          secretParams: ['timeout'],
        });
        assert.equal(job.retry_spec?.available, false);
        assert.match(job.retry_spec?.reason ?? '', /secrets \(timeout\)/);
      });

      test('list_jobs filters by status and tool, newest first, paginated; unknown job is 404', async () => {
        const page = await call('list_jobs', { tool_name: 'start_vm', limit: 2 });
        assert.equal(page.structuredContent.jobs.length, 2);
        assert.equal(page.structuredContent.truncated, true);
        const created = page.structuredContent.jobs.map((j: { created_at: string }) => j.created_at);
        assert.ok(created[0] >= created[1], 'newest first');
        const failed = await request(h.url).get('/jobs?status=failed').set(h.auth).expect(200);
        // the reference's shape: a JSON array, the count in X-Total-Count
        assert.ok(failed.body.length >= 1);
        assert.equal(failed.headers['x-total-count'], String(failed.body.length));
        assert.ok(failed.body.every((j: { status: string }) => j.status === 'failed'));
        await request(h.url).get('/jobs/00000000-0000-4000-8000-000000000000').set(h.auth).expect(404);
        const bad = await request(h.url).get('/jobs?status=done').set(h.auth).expect(400);
        assert.match(JSON.stringify(bad.body), /status/);
      });

      test('wait: true streams MCP progress notifications from the whole task log', async () => {
        const vm = vmIn(h.sim, 'stopped');
        // 600 lines of noise first: the progress lines come after PVE's default 50-line page
        h.sim.tasks.script({
          match: { type: 'qmstart', id: String(vm.vmid) },
          log: Array.from({ length: 600 }, (_, i) => `noise line ${i}`),
          progress: true,
          durationMs: 2500,
        });
        const job = await jobs.track(startVmSpec(vm));
        const progress: number[] = [];
        const res = (await mcp.callTool(
          { name: 'wait_job', arguments: { job_id: job.job_id, timeout_seconds: 30 } },
          undefined,
          { onprogress: (p) => progress.push(p.progress) },
        )) as ToolResult;
        assert.equal(res.structuredContent.status, 'completed');
        assert.ok(progress.length >= 1, 'at least one progress notification');
        assert.equal(progress.at(-1), 100);
        const log = await call('get_task_log', { node: vm.node, upid: job.task_id, start: 590, limit: 20 });
        assert.equal(log.structuredContent.total, 605, 'the whole log: 600 + 4 progress lines + TASK OK');
        assert.equal(log.structuredContent.lines[0], 'noise line 590');
      });

      test('list_tasks shows the node tasks; bad UPID and node are refused before any request', async () => {
        const vm = vmIn(h.sim, 'running');
        const tasks = await call('list_tasks', { node: vm.node, typefilter: 'qmstart' });
        assert.ok(tasks.structuredContent.tasks.length >= 1);
        assert.ok(tasks.structuredContent.tasks.every((t: { type: string }) => t.type === 'qmstart'));
        const before = h.sim.totalRequests;
        const bad = await call('get_task_log', { node: vm.node, upid: 'UPID:../../etc' });
        assert.equal(bad.isError, true);
        await request(h.url)
          .get('/nodes/pve1%2F..%2Fx/tasks')
          .set(h.auth)
          .expect((r) => assert.ok(r.status === 400 || r.status === 404));
        assert.equal(h.sim.totalRequests, before);
      });

      // a job older than the per-call deadline (30 s) + 5 s: a request of it cannot still be in flight
      const STALE_MS = 120_000;
      const reconcile = (jobId: string, body: Record<string, unknown> = {}) =>
        request(h.url).post(`/jobs/${jobId}/reconcile`).set(h.auth).send(body);
      const eventsOf = async (jobId: string) =>
        (await request(h.url).get(`/jobs/${jobId}/events`).set(h.auth).expect(200)).body.events as Array<{
          event: string;
          details: Record<string, any>;
        }>;

      test('reconcile_job: two tasks match an interrupted submit, so start-up leaves it unknown; the operator names one, it is checked and followed', async () => {
        const vm = vmIn(h.sim, 'stopped');
        const other = vmIn(h.sim, 'stopped');
        const spec = startVmSpec(vm, 'stop');
        const jobId = await recordInterruptedJob(h.server.app, spec, { ageMs: STALE_MS });
        // the dead server's request went out, and someone (or a retry of the client) sent the same one again
        const first = await sendAsTheDeadServer(h.server.app, spec);
        const second = await sendAsTheDeadServer(h.server.app, spec);
        const foreign = await sendAsTheDeadServer(h.server.app, startVmSpec(other, 'stop'));
        await jobs.poller.reconcileInterrupted();
        const unknown = (await request(h.url).get(`/jobs/${jobId}`).set(h.auth).expect(200)).body;
        assert.equal(unknown.status, 'unknown');
        assert.match(unknown.last_error, /2 matching tasks exist.*reconcile_job/);

        const stops = () =>
          h.sim.requestCount({ method: 'POST', path: `/nodes/${vm.node}/qemu/${vm.vmid}/status/stop` });
        const sent = stops();
        const ambiguous = await reconcile(jobId).expect(409);
        assert.equal(ambiguous.body.code, 'CONFLICT');
        assert.ok(ambiguous.body.message.includes(first), ambiguous.body.message);
        assert.ok(ambiguous.body.message.includes(second));
        assert.match(ambiguous.body.hint, /upid/);

        const wrongGuest = await reconcile(jobId, { upid: foreign }).expect(400);
        assert.equal(wrongGuest.body.code, 'VALIDATION');
        assert.match(
          wrongGuest.body.message,
          new RegExp(
            `cannot be the task of job ${jobId}: it (is for '${other.vmid}'|ran on node ${other.node})`,
          ),
        );
        const badUpid = await reconcile(jobId, { upid: 'UPID:../../etc' }).expect(400);
        assert.match(JSON.stringify(badUpid.body), /upid/);

        const ghost = second.replace(/^(UPID:[^:]+:)[0-9A-F]{8}/, '$1DEADBEEF');
        const missing = await reconcile(jobId, { upid: ghost }).expect(404);
        assert.match(
          missing.body.message,
          new RegExp(
            `Task ${ghost.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not exist on node ${vm.node}`,
          ),
        );

        const chosen = await call('reconcile_job', { job_id: jobId, upid: second });
        assert.equal(chosen.isError, undefined, text(chosen));
        assert.equal(chosen.structuredContent.upid, second);
        assert.ok(['running', 'completed'].includes(chosen.structuredContent.status));
        assert.equal(chosen.structuredContent.last_error, null);
        const done = await call('wait_job', { job_id: jobId, timeout_seconds: 30 });
        assert.equal(done.structuredContent.status, 'completed');
        assert.equal(stops(), sent, 'reconciling never re-sends the request');

        const reconciled = (await eventsOf(jobId)).find((e) => e.event === 'reconciled');
        assert.equal(reconciled?.details.outcome, 'adopted');
        assert.equal(reconciled?.details.upid, second);
        assert.equal(reconciled?.details.chosen_by, 'operator');
        assert.equal(reconciled?.details.by, 'test');

        const again = await reconcile(jobId).expect(409);
        assert.match(again.body.message, /is 'completed': its request reached Proxmox/);
        assert.match(again.body.hint, /only jobs whose submission is uncertain/);
      });

      test('reconcile_job: a stale pending job with one matching task adopts it; with none it fails with the reason; nothing is sent', async () => {
        const vm = vmIn(h.sim, 'stopped');
        const spec = startVmSpec(vm, 'stop');
        const stops = () =>
          h.sim.requestCount({ method: 'POST', path: `/nodes/${vm.node}/qemu/${vm.vmid}/status/stop` });

        const lost = await recordInterruptedJob(h.server.app, spec, { ageMs: STALE_MS });
        const before = stops();
        const failed = await call('reconcile_job', { job_id: lost });
        assert.equal(failed.isError, undefined, text(failed));
        assert.equal(failed.structuredContent.status, 'failed');
        assert.match(
          failed.structuredContent.last_error,
          /no task for this request exists on node .* never reached Proxmox; nothing was re-sent/,
        );
        assert.equal(stops(), before, 'nothing was sent');
        assert.equal((await eventsOf(lost)).at(-1)?.details.outcome, 'not_sent');

        const adopted = await recordInterruptedJob(h.server.app, spec, { ageMs: STALE_MS });
        const upid = await sendAsTheDeadServer(h.server.app, spec);
        const res = await reconcile(adopted).expect(200);
        assert.equal(res.body.upid, upid);
        assert.ok(['running', 'completed'].includes(res.body.status));
      });

      test('reconcile_job refuses jobs whose submission is not uncertain, and says which state they are in', async () => {
        const vm = vmIn(h.sim, 'stopped');
        const spec = startVmSpec(vm, 'stop');
        const fresh = await recordInterruptedJob(h.server.app, spec, { ageMs: 0 });
        const inFlight = await reconcile(fresh).expect(409);
        assert.match(inFlight.body.message, /is 'pending': its request may still be in flight/);
        assert.match(inFlight.body.hint, /Wait \d+ s/);

        const upid = await sendAsTheDeadServer(h.server.app, spec);
        const forgotten = await recordInterruptedJob(h.server.app, spec, {
          ageMs: STALE_MS,
          status: 'unknown',
          upid,
          lastEvent: 'task_lost',
        });
        const lost = await reconcile(forgotten).expect(409);
        assert.match(
          lost.body.message,
          /is 'unknown': its request reached Proxmox .* only the task's outcome is unknown/,
        );

        const running = await jobs.track(startVmSpec(vmIn(h.sim, 'running'), 'stop'));
        const busy = await call('reconcile_job', { job_id: running.job_id });
        assert.equal(busy.isError, true);
        assert.match(text(busy), /is 'running'/);
        await request(h.url)
          .post('/jobs/00000000-0000-4000-8000-000000000000/reconcile')
          .set(h.auth)
          .send({})
          .expect(404);
        const extra = await reconcile(fresh, { force: true }).expect(400);
        assert.match(JSON.stringify(extra.body), /force/);
      });

      test('/readyz and /health report the job store', async () => {
        const ready = await request(h.url).get('/readyz').set(h.auth).expect(200);
        assert.deepEqual(ready.body.job_store, {
          ok: true,
          engine: engine.name === 'SQLite' ? 'sqlite' : 'postgres',
        });
        const health = await request(h.url).get('/health').set(h.auth).expect(200);
        assert.equal(health.body.job_store.ok, true);
      });
    },
  );
}
