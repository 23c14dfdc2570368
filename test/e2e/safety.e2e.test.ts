import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { AppConfig, SafetyConfig } from '../../src/config/app-config.js';
import { startServer, type RunningServer } from '../../src/cli/serve.command.js';
import { PveSimulator, simulatorTargetConfig } from '../../src/simulator/index.js';
import type { SimGuest } from '../../src/simulator/cluster-model.js';
import {
  API_KEY,
  OPERATOR_KEY,
  SCHEMA_PATH,
  startHarness,
  testConfig,
  withOperator,
  type Harness,
} from '../helpers/test-app.js';
import { approveAsOperator } from '../helpers/approvals.js';
import { freshPostgresDatabase, postgresSkipReason } from '../helpers/postgres.js';
import { harnessSuite, resultText, simRequests, toolCalls } from '../helpers/tools.js';

/*
 * The kill switch and protected guests (issue 17 parts 4 and 5, src/security/safety): global guards, so MCP and
 * REST are refused alike, before the command policy and approvals (a refused call never asks an operator), and
 * nothing reaches Proxmox.
 */

const tmp = mkdtempSync(join(tmpdir(), 'pmp-safety-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const safety = (overrides: Partial<SafetyConfig> = {}): SafetyConfig => ({
  freeze: false,
  freezeFile: join(tmp, `freeze-${Math.random().toString(36).slice(2)}`),
  protectedTag: 'protected',
  protectedVmids: [],
  protectAllMutations: false,
  ...overrides,
});

/** The shipped approval policy (every destroy tool needs an operator) with an operator key, and `safety`. */
const configFor = (sim: PveSimulator, s: SafetyConfig, extra: Partial<AppConfig> = {}): AppConfig =>
  withOperator(
    testConfig([simulatorTargetConfig(sim, { inventoryCacheMs: 0 })], {
      safety: s,
      http: {
        ...testConfig([]).http,
        apiKeys: [
          { name: 'test', secret: API_KEY, scope: 'admin' },
          { name: 'ops', secret: 'operate-key-0123456789abcdef', scope: 'operate' },
        ],
      },
      ...extra,
    }),
    { highRiskMode: 'enforce' },
  );

const firstGuest = (sim: PveSimulator, type: 'qemu' | 'lxc', running?: boolean): SimGuest => {
  const guest = [...sim.cluster.guests()].find(
    (g) => g.type === type && !g.template && (running === undefined || (g.status === 'running') === running),
  );
  assert.ok(guest, `the simulator has a ${type} guest`);
  return guest;
};

/** `count` VMs (not templates), stopped. */
const stoppedVms = (sim: PveSimulator, count: number): SimGuest[] => {
  const vms = [...sim.cluster.guests()].filter((g) => g.type === 'qemu' && !g.template).slice(0, count);
  assert.equal(vms.length, count, `the simulator has ${count} VMs`);
  for (const vm of vms) if (vm.status === 'running') sim.cluster.setRunning(vm, false);
  return vms;
};

const auditEvents = async (url: string, action: string) =>
  (
    await request(url)
      .get('/audit/events')
      .query({ action, limit: 50 })
      .set({ authorization: `Bearer ${API_KEY}` })
      .expect(200)
  ).body.events as Array<{ outcome: string; reason: string | null; actor: string | null }>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kill switch: freeze_changes, the freeze file, reads keep working', () => {
  let h: Harness;
  let mcp: Client;
  let s: SafetyConfig;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, mutations } = simRequests(() => h.sim);
  let vm: SimGuest;

  harnessSuite(
    () => {
      s = safety();
      return startHarness({ nodes: 2, guests: 8 }, (sim) => configFor(sim, s));
    },
    (started, client) => {
      h = started;
      mcp = client;
      vm = firstGuest(h.sim, 'qemu', false);
    },
  );

  test('not frozen: get_freeze_status, /health and /readyz say so', async () => {
    const status = await ok('get_freeze_status');
    assert.equal(status.frozen, false);
    assert.deepEqual(status.freezes, []);
    assert.equal(status.freeze_file, s.freezeFile);
    const health = await request(h.url).get('/health').set(h.auth).expect(200);
    assert.deepEqual(health.body.freeze, { frozen: false });
    const ready = await request(h.url).get('/readyz').set(h.auth).expect(200);
    assert.deepEqual(ready.body.freeze, { frozen: false });
  });

  test('freeze_changes needs an admin key and a reason', async () => {
    const refused = await request(h.url)
      .post('/freeze_changes')
      .set({ authorization: 'Bearer operate-key-0123456789abcdef' })
      .send({ reason: 'no' });
    assert.equal(refused.body.code, 'FORBIDDEN', JSON.stringify(refused.body));
    await fails('freeze_changes', {}, 'VALIDATION', /reason/);
    assert.equal((await ok('get_freeze_status')).frozen, false);
  });

  test('frozen: every non-read tool is refused with FROZEN (MCP and REST), reads work, no approval is asked', async () => {
    const frozen = await ok('freeze_changes', { reason: 'incident 4711: storage migration' });
    assert.equal(frozen.frozen, true);
    assert.equal(frozen.source, 'tool');
    assert.equal(frozen.frozen_by, 'test');
    const seq = lastSeq();

    const text = await fails(
      'start_vm',
      { node: vm.node, vmid: vm.vmid },
      'FROZEN',
      /Reason: incident 4711: storage migration \(frozen by test since \d{4}-\d\d-\d\dT/,
    );
    assert.match(text, /Read tools still work/);
    // a destroy tool: FROZEN, not APPROVAL_REQUIRED (the freeze guard runs before the approval guard)
    await fails('delete_vm', { node: vm.node, vmid: vm.vmid }, 'FROZEN');
    const rest = await request(h.url)
      .post(`/nodes/${vm.node}/vms/${vm.vmid}/start`)
      .set({ authorization: 'Bearer operate-key-0123456789abcdef' })
      .expect(423);
    assert.equal(rest.body.code, 'FROZEN');
    assert.match(rest.body.message, /incident 4711/);
    assert.deepEqual(rest.body.details, {
      reason: 'incident 4711: storage migration',
      source: 'tool',
      frozen_by: 'test',
      since: frozen.since,
    });
    // POST /{tool} too
    const byName = await request(h.url)
      .post('/update_vm_config')
      .set(h.auth)
      .send({ node: vm.node, vmid: vm.vmid, memory: 1024 })
      .expect(423);
    assert.equal(byName.body.code, 'FROZEN');

    // reads keep working, also through call_tool
    const vms = await ok('get_vms');
    assert.ok(Array.isArray(vms.vms));
    const throughCatalog = await call('call_tool', {
      name: 'start_vm',
      arguments: { node: vm.node, vmid: vm.vmid },
    });
    assert.equal(throughCatalog.isError, true);
    assert.match(resultText(throughCatalog), /^FROZEN: /);

    assert.deepEqual(mutations(seq), [], 'nothing was sent to Proxmox');
    const approvals = await auditEvents(h.url, 'delete_vm');
    assert.ok(
      approvals.every((e) => e.outcome !== 'approval_required'),
      'no approval request was created',
    );
    const denied = await auditEvents(h.url, 'start_vm');
    assert.ok(
      denied.some((e) => e.outcome === 'denied' && /^FROZEN: incident 4711/.test(e.reason ?? '')),
      JSON.stringify(denied),
    );
  });

  test('frozen: a dry run is still planned (it changes nothing), and its plan says the real call would be refused', async () => {
    const seq = lastSeq();
    const plan = await ok('start_vm', { node: vm.node, vmid: vm.vmid, dry_run: true });
    assert.equal(typeof plan.plan_digest, 'string');
    assert.ok(
      (plan.warnings as string[]).some((w) =>
        /changes are frozen: the real call would be refused \(incident 4711/.test(w),
      ),
      JSON.stringify(plan.warnings),
    );
    assert.deepEqual(mutations(seq), [], 'a plan sends nothing');
    await fails('start_vm', { node: vm.node, vmid: vm.vmid }, 'FROZEN');
  });

  test('/health and /readyz show the freeze (readiness stays 200: reads still work)', async () => {
    const health = await request(h.url).get('/health').set(h.auth).expect(200);
    assert.equal(health.body.freeze.frozen, true);
    assert.equal(health.body.freeze.reason, 'incident 4711: storage migration');
    assert.equal(health.body.freeze.source, 'tool');
    const ready = await request(h.url).get('/readyz').set(h.auth).expect(200);
    assert.equal(ready.body.freeze.frozen, true);
    assert.equal(ready.body.freeze.source, 'tool');
  });

  test('unfreeze_changes works while frozen, and changes run again', async () => {
    const r = await ok('unfreeze_changes');
    assert.equal(r.lifted, true);
    assert.equal(r.frozen, false);
    const job = await ok('start_vm', { node: vm.node, vmid: vm.vmid, wait: true });
    assert.equal(job.status, 'completed');
    const events = await auditEvents(h.url, 'safety.freeze');
    assert.ok(events.some((e) => e.actor === 'test' && e.reason === 'incident 4711: storage migration'));
    assert.equal((await auditEvents(h.url, 'safety.unfreeze')).length, 1);
  });

  test('the freeze file: its presence freezes (first line = reason), unfreeze_changes cannot lift it, removing it does', async () => {
    writeFileSync(s.freezeFile, 'maintenance window, ask #ops\nsecond line is not shown\n');
    await sleep(1100); // the file is looked at once a second at most
    const seq = lastSeq();
    await fails(
      'stop_vm',
      { node: vm.node, vmid: vm.vmid },
      'FROZEN',
      new RegExp(
        `Reason: maintenance window, ask #ops \\(frozen by file ${s.freezeFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} since`,
      ),
    );
    const status = await ok('get_freeze_status');
    assert.equal(status.source, 'file');
    assert.doesNotMatch(JSON.stringify(status), /second line/);
    const health = await request(h.url).get('/health').set(h.auth).expect(200);
    assert.equal(health.body.freeze.source, 'file');
    assert.equal(health.body.freeze.reason, 'maintenance window, ask #ops');

    const still = await ok('unfreeze_changes');
    assert.equal(still.lifted, false);
    assert.equal(still.frozen, true, 'the file freeze is lifted only by removing the file');
    assert.deepEqual(mutations(seq), []);

    unlinkSync(s.freezeFile);
    await sleep(1100);
    assert.equal((await ok('get_freeze_status')).frozen, false);
    const job = await ok('stop_vm', { node: vm.node, vmid: vm.vmid, wait: true });
    assert.equal(job.status, 'completed');
  });
});

describe('kill switch: safety.freeze in the configuration', () => {
  let h: Harness;
  let mcp: Client;
  const { ok, fails } = toolCalls(() => mcp);

  harnessSuite(
    () =>
      startHarness({ nodes: 1, guests: 4 }, (sim) =>
        configFor(sim, safety({ freeze: true, freezeReason: 'change freeze until Monday' })),
      ),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('every change is refused with the configured reason; reads work; unfreeze_changes cannot lift it', async () => {
    const vm = firstGuest(h.sim, 'qemu');
    await fails(
      'reboot_vm',
      { node: vm.node, vmid: vm.vmid },
      'FROZEN',
      /Reason: change freeze until Monday \(frozen by configuration since /,
    );
    const rest = await request(h.url).post('/create_pool').set(h.auth).send({ poolid: 'x1' }).expect(423);
    assert.match(rest.body.hint, /safety\.freeze off in the configuration/);
    assert.ok((await ok('get_nodes')).nodes.length > 0);
    const r = await ok('unfreeze_changes');
    assert.equal(r.lifted, false);
    assert.equal(r.frozen, true);
    assert.equal(r.source, 'config');
    const ready = await request(h.url).get('/readyz').set(h.auth).expect(200);
    assert.deepEqual(
      {
        frozen: ready.body.freeze.frozen,
        source: ready.body.freeze.source,
        reason: ready.body.freeze.reason,
      },
      { frozen: true, source: 'config', reason: 'change freeze until Monday' },
    );
  });
});

/** Two application instances on one job store, as two replicas behind a load balancer. */
function sharedFreezeSuite(
  name: string,
  store: () => Promise<{ jobs: AppConfig['jobs']; drop?: () => Promise<void> }>,
  options: { skip?: string | false } = {},
) {
  describe(name, options, () => {
    let sim: PveSimulator;
    let a: RunningServer;
    let b: RunningServer;
    let drop: (() => Promise<void>) | undefined;
    const auth = { authorization: `Bearer ${API_KEY}` };

    before(async () => {
      sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0, nodes: 1, guests: 4 });
      const { jobs, drop: dropStore } = await store();
      drop = dropStore;
      const config = (): AppConfig => ({ ...configFor(sim, safety()), jobs });
      a = await startServer(config());
      b = await startServer(config());
    });
    after(async () => {
      await Promise.allSettled([a?.close(), b?.close()]);
      await drop?.();
      const violations = sim?.schemaViolations() ?? [];
      await sim?.stop();
      assert.deepEqual(violations, []);
    });

    test('frozen on one instance, refused on the other; lifted on the other, allowed on the first', async () => {
      const vm = firstGuest(sim, 'qemu');
      await request(a.url)
        .put('/safety/freeze')
        .set(auth)
        .send({ reason: 'frozen on replica a' })
        .expect(200);
      const refused = await request(b.url)
        .post(`/nodes/${vm.node}/vms/${vm.vmid}/start`)
        .set(auth)
        .expect(423);
      assert.match(refused.body.message, /Reason: frozen on replica a \(frozen by test since /);
      const status = await request(b.url).get('/safety/freeze').set(auth).expect(200);
      assert.equal(status.body.frozen, true);
      assert.equal((await request(b.url).get('/health').set(auth).expect(200)).body.freeze.source, 'tool');
      // freezing again replaces the reason (one row)
      await request(b.url).put('/safety/freeze').set(auth).send({ reason: 'now by b' }).expect(200);
      assert.equal(
        (await request(a.url).get('/safety/freeze').set(auth).expect(200)).body.reason,
        'now by b',
      );

      const lifted = await request(b.url).delete('/safety/freeze').set(auth).expect(200);
      assert.equal(lifted.body.lifted, true);
      await request(a.url).post('/create_pool').set(auth).send({ poolid: 'after-freeze' }).expect(200);
    });
  });
}

sharedFreezeSuite(
  'kill switch: the freeze_changes freeze is shared by two instances on one SQLite file',
  async () => ({
    jobs: { sqlitePath: join(tmp, 'shared-jobs.sqlite3') },
  }),
);

sharedFreezeSuite(
  'kill switch: the freeze_changes freeze is shared by two instances on one PostgreSQL database',
  async () => {
    const db = (await freshPostgresDatabase())!;
    return { jobs: { sqlitePath: ':memory:', databaseUrl: db.url }, drop: () => db.drop() };
  },
  { skip: postgresSkipReason() },
);

describe('protected guests: by tag and by vmid, whoever asks and with or without approval', () => {
  let h: Harness;
  let mcp: Client;
  const { ok, fails } = toolCalls(() => mcp);
  const { lastSeq, mutations } = simRequests(() => h.sim);
  let tagged: SimGuest; // a stopped VM tagged `protected` by the test
  let listed: SimGuest; // a stopped VM in safety.protected_vmids
  let free: SimGuest; // a stopped VM without protection
  let ct: SimGuest; // a container tagged `protected`

  harnessSuite(
    () =>
      startHarness({ nodes: 2, guests: 12 }, (sim) => {
        const stopped = stoppedVms(sim, 3);
        [tagged, listed, free] = stopped;
        ct = firstGuest(sim, 'lxc');
        for (const g of [tagged, listed, free, ct]) delete g.config.tags;
        ct.config.tags = 'web;protected';
        return configFor(sim, safety({ protectedVmids: [listed.vmid] }));
      }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('a tag set through update_vm_config reaches /cluster/resources and protects the VM from delete_vm', async () => {
    await ok('update_vm_config', { node: tagged.node, vmid: tagged.vmid, tags: ['db', 'protected'] });
    assert.equal(h.sim.cluster.guest(tagged.vmid)!.config.tags, 'db;protected');
    const seq = lastSeq();
    await fails(
      'delete_vm',
      { node: tagged.node, vmid: tagged.vmid },
      'PROTECTED',
      new RegExp(
        `VM ${tagged.vmid} .*is protected: it carries the PVE tag 'protected' \\(safety.protected_tag\\)`,
      ),
    );
    assert.deepEqual(mutations(seq), [], 'nothing was sent to Proxmox');
    assert.ok(h.sim.cluster.guest(tagged.vmid), 'the VM still exists');
    const events = await auditEvents(h.url, 'delete_vm');
    assert.ok(events.some((e) => e.outcome === 'denied' && /^PROTECTED: /.test(e.reason ?? '')));
    assert.ok(
      events.every((e) => e.outcome !== 'approval_required'),
      'no operator was asked',
    );
  });

  test('by vmid over REST: delete, rollback and restore over the guest are refused with 403 PROTECTED', async () => {
    // what a rollback and a restore need, so that their own read-only checks pass and only the protection is left
    await ok('create_snapshot', { node: listed.node, vmid: listed.vmid, snapname: 'before', wait: true });
    await ok('create_backup', { node: listed.node, vmid: listed.vmid, storage: 'nas', wait: true });
    const archive = (await ok('list_backups', { node: listed.node, vmid: listed.vmid })).backups[0].volid;
    const seq = lastSeq();
    const del = await request(h.url)
      .delete(`/nodes/${listed.node}/vms/${listed.vmid}`)
      .set(h.auth)
      .expect(403);
    assert.equal(del.body.code, 'PROTECTED');
    assert.match(del.body.message, new RegExp(`listed in safety.protected_vmids \\(${listed.vmid}\\)`));
    assert.deepEqual(del.body.details.protected_vmids, [listed.vmid]);
    const rollback = await request(h.url)
      .post(`/nodes/${listed.node}/guests/${listed.vmid}/snapshots/before/rollback`)
      .set(h.auth)
      .send({})
      .expect(403);
    assert.equal(rollback.body.code, 'PROTECTED');
    const restore = await request(h.url)
      .post('/restore_backup')
      .set(h.auth)
      .send({ node: listed.node, archive, vmid: listed.vmid, force: true })
      .expect(403);
    assert.equal(restore.body.code, 'PROTECTED', JSON.stringify(restore.body));
    assert.deepEqual(mutations(seq), []);
    // validation still comes first: a bad snapshot name is VALIDATION, not PROTECTED
    const bad = await request(h.url)
      .post(`/nodes/${listed.node}/guests/${listed.vmid}/snapshots/..%2Fx/rollback`)
      .set(h.auth)
      .send({});
    assert.equal(bad.status, 400);
  });

  test('rollback_snapshot and delete_snapshot on a tagged VM over MCP; a tagged container by selector', async () => {
    await ok('create_snapshot', { node: tagged.node, vmid: tagged.vmid, snapname: 'x1', wait: true });
    const seq = lastSeq();
    await fails('rollback_snapshot', { node: tagged.node, vmid: tagged.vmid, snapname: 'x1' }, 'PROTECTED');
    await fails('delete_snapshot', { node: tagged.node, vmid: tagged.vmid, snapname: 'x1' }, 'PROTECTED');
    await fails(
      'delete_container',
      { selector: `${ct.node}:${ct.vmid}`, force: true },
      'PROTECTED',
      /Container .*'protected'/,
    );
    await fails('delete_container', { selector: String(ct.vmid), force: true }, 'PROTECTED');
    assert.deepEqual(mutations(seq), []);
    assert.ok(h.sim.cluster.guest(ct.vmid));
  });

  test('an approval granted before the guest was protected does not help', async () => {
    const first = await request(h.url).delete(`/nodes/${free.node}/vms/${free.vmid}`).set(h.auth).expect(403);
    assert.equal(first.body.code, 'APPROVAL_REQUIRED', JSON.stringify(first.body));
    const token = await approveAsOperator(h.url, String(first.body.details.request_id));
    h.sim.cluster.guest(free.vmid)!.config.tags = 'protected';
    try {
      const seq = lastSeq();
      const refused = await request(h.url)
        .delete(`/nodes/${free.node}/vms/${free.vmid}`)
        .set({ ...h.auth, 'x-approval-token': token })
        .expect(403);
      assert.equal(refused.body.code, 'PROTECTED');
      assert.deepEqual(mutations(seq), []);
      // the operator's own key is refused too: whoever asks
      const operator = await request(h.url)
        .delete(`/nodes/${free.node}/vms/${free.vmid}`)
        .set({ authorization: `Bearer ${OPERATOR_KEY}` })
        .expect(403);
      assert.equal(operator.body.code, 'PROTECTED');
    } finally {
      delete h.sim.cluster.guest(free.vmid)!.config.tags;
    }
    // unprotected again: the same approved call runs
    const deleted = await request(h.url)
      .delete(`/nodes/${free.node}/vms/${free.vmid}`)
      .set({ ...h.auth, 'x-approval-token': token });
    assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
  });

  test('mutations of a protected guest run (protect_all_mutations is off), but its protection tag stays', async () => {
    const job = await ok('start_vm', { node: tagged.node, vmid: tagged.vmid, wait: true });
    assert.equal(job.status, 'completed');
    await ok('update_vm_config', { node: tagged.node, vmid: tagged.vmid, tags: 'db;protected;web' });
    await fails(
      'update_vm_config',
      { node: tagged.node, vmid: tagged.vmid, tags: 'db' },
      'PROTECTED',
      /would remove the tag 'protected'/,
    );
    assert.match(String(h.sim.cluster.guest(tagged.vmid)!.config.tags), /protected/);
  });
});

describe('protected guests with safety.protect_all_mutations', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, mutations } = simRequests(() => h.sim);
  let guarded: SimGuest;
  let free: SimGuest;

  harnessSuite(
    () =>
      startHarness({ nodes: 1, guests: 10 }, (sim) => {
        const stopped = stoppedVms(sim, 2);
        [guarded, free] = stopped;
        delete free.config.tags;
        guarded.config.tags = 'keep';
        return configFor(sim, safety({ protectedTag: 'keep', protectAllMutations: true }));
      }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('start and a config edit of a protected guest are refused; an unprotected guest is unaffected', async () => {
    const seq = lastSeq();
    await fails(
      'start_vm',
      { node: guarded.node, vmid: guarded.vmid },
      'PROTECTED',
      /carries the PVE tag 'keep'.*safety.protect_all_mutations is on/,
    );
    const rest = await request(h.url)
      .put(`/nodes/${guarded.node}/vms/${guarded.vmid}/config`)
      .set(h.auth)
      .send({ memory: 1024 })
      .expect(403);
    assert.equal(rest.body.code, 'PROTECTED');
    assert.deepEqual(mutations(seq), []);
    // a backup of a protected guest is still allowed
    const backup = await ok('create_backup', {
      node: guarded.node,
      vmid: guarded.vmid,
      storage: 'nas',
      wait: true,
    });
    assert.equal(backup.status, 'completed');
    const job = await ok('start_vm', { node: free.node, vmid: free.vmid, wait: true });
    assert.equal(job.status, 'completed');
    await ok('update_vm_config', { node: free.node, vmid: free.vmid, memory: 1024 });
  });

  test("retry_job of a job on a guest that became protected is refused like a call of the job's own tool", async () => {
    if (free.status === 'running') h.sim.cluster.setRunning(free, false);
    h.sim.tasks.script({ match: { type: 'qmstart', id: String(free.vmid) }, exitstatus: 'boom' });
    const failed = await call('start_vm', { node: free.node, vmid: free.vmid, wait: true });
    assert.equal(failed.isError, true);
    const jobId = (failed.structuredContent as { job_id: string }).job_id;
    free.config.tags = 'keep';
    try {
      const seq = lastSeq();
      await fails('retry_job', { job_id: jobId }, 'PROTECTED', /retry_job of start_vm changes it/);
      assert.deepEqual(mutations(seq), []);
    } finally {
      delete free.config.tags;
    }
    const retried = await ok('retry_job', { job_id: jobId });
    assert.equal(retried.job_id, jobId);
  });
});
