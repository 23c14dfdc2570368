import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startHarness, type Harness } from '../helpers/test-app.js';
import { harnessSuite, resultText, simRequests, toolCalls } from '../helpers/tools.js';
import { approveAsOperator, startApprovalHarness } from '../helpers/approvals.js';

const DAY = 86400;
const isoDay = (iso: string) => new Date(iso).getUTCDay();

// The backup-job tools over MCP and REST against the schema-checked simulator (3 nodes, 12 guests: VMs on even
// indexes, containers on odd ones, guest 100+i on node pve(i%3+1); nightly backups of 100-103 on the shared nas).
describe('list/create/update/run backup jobs and get_unprotected_guests', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, since, mutations } = simRequests(() => h.sim);
  const changes = (seq: number) =>
    mutations(seq).map((q) => `${q.method} ${q.path} ${JSON.stringify(q.body)}`);

  harnessSuite(
    () => startHarness({ nodes: 3, guests: 12, taskSeconds: 0 }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('no jobs yet: list_backup_jobs is empty; every guest is unprotected, with its newest backup and age', async () => {
    const list = await call('list_backup_jobs');
    assert.equal(list.isError, undefined, resultText(list));
    assert.deepEqual(list.structuredContent.jobs, []);
    assert.equal(resultText(list), 'No backup jobs. create_backup_job schedules one.');

    const seq = lastSeq();
    const r = await call('get_unprotected_guests');
    assert.equal(r.isError, undefined, resultText(r));
    const report = r.structuredContent;
    assert.equal(report.total, 12);
    assert.equal(report.never_backed_up, 8);
    // never backed up first, then the oldest newest backup first
    assert.deepEqual(
      report.guests.slice(0, 8).map((g: any) => g.vmid),
      [104, 105, 106, 107, 108, 109, 110, 111],
    );
    for (const g of report.guests.slice(8)) {
      assert.ok(g.newest_backup, `guest ${g.vmid} has a backup`);
      assert.match(g.newest_backup.volid, new RegExp(`^nas:backup/vzdump-(qemu|lxc)-${g.vmid}-`));
      assert.ok(g.newest_backup.age_seconds > 0);
      // the server computed the age a moment before this line runs: within two seconds of it
      const expected = Math.floor(Date.now() / 1000) - Date.parse(g.newest_backup.created_at) / 1000;
      assert.ok(
        g.newest_backup.age_seconds <= expected && g.newest_backup.age_seconds >= expected - 2,
        `age ${g.newest_backup.age_seconds} s, expected about ${expected} s`,
      );
    }
    const ages = report.guests.slice(8).map((g: any) => g.newest_backup.age_seconds);
    assert.deepEqual(
      ages,
      [...ages].sort((a, b) => b - a),
    );
    assert.equal(report.guests[0].type, 'qemu');
    assert.equal(report.guests[0].node, 'pve2');
    assert.match(
      resultText(r),
      /^12 guest\(s\) not covered by an enabled backup job \(8 never backed up\):\n- VM 104 .*never backed up/,
    );
    assert.match(resultText(r), /newest backup \d+ d old \(nas:backup\/vzdump-/);
    // the shared nas is read once, local once per node
    const reads = since(seq).filter((q) => /\/content$/.test(q.path));
    assert.equal(reads.filter((q) => q.path.includes('/storage/nas/')).length, 1);
    assert.equal(reads.filter((q) => q.path.includes('/storage/local/')).length, 3);
  });

  let weekdayJob = '';
  test('create_backup_job: one POST with the job options; the answer has the next runs of the schedule', async () => {
    const seq = lastSeq();
    const r = await call('create_backup_job', {
      schedule: 'mon..fri 02:30',
      storage: 'nas',
      vmids: [100, 101],
      retention: { keep_last: 3, keep_daily: 7 },
      notes_template: '{{guestname}} nightly',
      comment: 'web tier',
    });
    assert.equal(r.isError, undefined, resultText(r));
    const { job } = r.structuredContent;
    weekdayJob = job.id;
    assert.match(job.id, /^backup-[0-9a-f]{8}-[0-9a-f]{4}$/);
    assert.deepEqual(changes(seq), [
      `POST /cluster/backup ${JSON.stringify({
        comment: 'web tier',
        compress: 'zstd',
        id: job.id,
        mode: 'snapshot',
        'notes-template': '{{guestname}} nightly',
        'prune-backups': 'keep-last=3,keep-daily=7',
        schedule: 'mon..fri 02:30',
        storage: 'nas',
        vmid: '100,101',
      })}`,
    ]);
    assert.equal(job.enabled, true);
    assert.equal(job.selection, 'vmids');
    assert.deepEqual(job.vmids, [100, 101]);
    assert.deepEqual(job.retention, { keep_last: 3, keep_daily: 7 });
    assert.equal(r.structuredContent.timezone, 'UTC');
    // three weekday runs at 02:30 UTC, ascending, the first one PVE's own next-run
    assert.equal(job.next_runs.length, 3);
    assert.equal(job.next_run, job.next_runs[0]);
    for (const run of job.next_runs) {
      assert.match(run, /T02:30:00\.000Z$/);
      assert.ok(isoDay(run) >= 1 && isoDay(run) <= 5, `${run} is a weekday`);
    }
    assert.ok(Date.parse(job.next_runs[0]) > Date.now());
    assert.ok(Date.parse(job.next_runs[0]) - Date.now() <= 3 * DAY * 1000 + 1000);
    assert.deepEqual([...job.next_runs].sort(), job.next_runs);
    assert.match(
      resultText(r),
      /^created backup job backup-.*\n\n- backup-.*: mon\.\.fri 02:30 \(UTC\), guests 100, 101 → nas/,
    );
    assert.match(resultText(r), /next runs: \d{4}-\d\d-\d\dT02:30:00\.000Z, /);
    const sim = h.sim.cluster.backupJobs.jobs.get(job.id)!;
    assert.equal(sim.options.schedule, 'mon..fri 02:30');
  });

  test('schedule validation: a clear error naming the field, PVE’s reason and examples; nothing is sent', async () => {
    const seq = lastSeq();
    const base = { storage: 'nas', vmids: [100] };
    for (const [schedule, reason] of [
      ['dayly', /at 'dayly' - weekday/],
      ['mon..funday 01:00', /at 'funday 01:00' - weekday/],
      ['01:60', /time value too large/],
      ['5..3', /range start is bigger than end/],
      ['sun 01:00 please', /at ' please'/],
      ['', /date or time specification/],
    ] as const) {
      const text = await fails('create_backup_job', { ...base, schedule }, 'VALIDATION', reason);
      assert.match(
        text,
        new RegExp(`schedule: '${schedule.replace(/[.*]/g, '\\$&')}' is not a Proxmox calendar event`),
      );
      assert.match(text, /Examples: daily, 'sun 01:00', 'mon\.\.fri 02:30', '\*-\*-1 03:00', '\*\/15'/);
    }
    assert.deepEqual(mutations(seq), []);
    // what PVE accepts, the tool accepts (repetitions, lists, ranges, dates, keywords)
    const accepted = [
      'daily',
      '*/15',
      'mon..wed 30/10',
      'mon..fri 8..17,22:0/15',
      '*-*-1 03:00',
      'Sat *-1..7 15:00',
      'quarterly',
    ];
    for (const [i, schedule] of accepted.entries()) {
      const r = await ok('create_backup_job', { ...base, schedule, enabled: false, id: `sched-${i}` });
      assert.equal(r.job.schedule, schedule);
      assert.deepEqual(r.job.next_runs, [], 'a disabled job has no next runs');
      h.sim.cluster.backupJobs.jobs.delete(r.job.id);
    }
  });

  test('create_backup_job refusals: storage, guests, pool, selection, id; nothing is sent', async () => {
    const seq = lastSeq();
    await fails(
      'create_backup_job',
      { schedule: 'daily', storage: 'nope', vmids: [100] },
      'NOT_FOUND',
      /storage: no storage 'nope'/,
    );
    const noBackups = await fails(
      'create_backup_job',
      { schedule: 'daily', storage: 'local-lvm', vmids: [100] },
      'VALIDATION',
      /storage: 'local-lvm' does not hold backups \(content: images,rootdir\)/,
    );
    assert.match(noBackups, /Backup storages: local, nas/);
    await fails(
      'create_backup_job',
      { schedule: 'daily', storage: 'nas', vmids: [100, 999] },
      'NOT_FOUND',
      /vmids: no VM or container 999/,
    );
    await fails(
      'create_backup_job',
      { schedule: 'daily', storage: 'nas', all: true, exclude: [998] },
      'NOT_FOUND',
      /exclude: no VM or container 998/,
    );
    await fails(
      'create_backup_job',
      { schedule: 'daily', storage: 'nas', pool: 'nope' },
      'NOT_FOUND',
      /pool: no resource pool 'nope'/,
    );
    await fails(
      'create_backup_job',
      { schedule: 'daily', storage: 'nas', vmids: [100], all: true },
      'VALIDATION',
      /exactly one of vmids, all: true or pool/,
    );
    await fails(
      'create_backup_job',
      { schedule: 'daily', storage: 'nas' },
      'VALIDATION',
      /exactly one of vmids/,
    );
    await fails(
      'create_backup_job',
      { schedule: 'daily', storage: 'nas', vmids: [100], exclude: [101] },
      'VALIDATION',
      /exclude: only with all/,
    );
    await fails(
      'create_backup_job',
      { schedule: 'daily', storage: 'nas', vmids: [100], node: 'pve9' },
      'NOT_FOUND',
      /node: no node 'pve9'/,
    );
    await fails(
      'create_backup_job',
      { schedule: 'daily', storage: 'nas', vmids: [100], id: weekdayJob },
      'CONFLICT',
      /already exists/,
    );
    await fails(
      'create_backup_job',
      { schedule: 'daily', storage: 'nas', vmids: [100], mode: 'fast' },
      'VALIDATION',
      /mode/,
    );
    await fails('create_backup_job', { storage: 'nas', vmids: [100] }, 'VALIDATION', /schedule/);
    assert.deepEqual(mutations(seq), []);
  });

  test('update_backup_job: all guests but one, a weekend schedule, notes cleared; one PUT', async () => {
    const seq = lastSeq();
    const r = await call('update_backup_job', {
      id: weekdayJob,
      all: true,
      exclude: [105],
      schedule: 'sat,sun 22:00',
      clear: ['notes_template'],
    });
    assert.equal(r.isError, undefined, resultText(r));
    assert.deepEqual(changes(seq), [
      `PUT /cluster/backup/${weekdayJob} ${JSON.stringify({ all: '1', delete: 'notes-template', exclude: '105', schedule: 'sat,sun 22:00' })}`,
    ]);
    const { job } = r.structuredContent;
    assert.equal(job.selection, 'all');
    assert.deepEqual(job.exclude, [105]);
    assert.equal(job.vmids, undefined);
    assert.equal(job.notes_template, undefined);
    assert.equal(job.comment, 'web tier');
    for (const run of job.next_runs) {
      assert.match(run, /T22:00:00\.000Z$/);
      assert.ok([0, 6].includes(isoDay(run)));
    }
    assert.deepEqual(r.structuredContent.changes, [
      'set schedule',
      'set all',
      'set exclude',
      'cleared notes_template',
    ]);
    assert.equal(h.sim.cluster.backupJobs.jobs.get(weekdayJob)!.options.vmid, undefined);

    const listed = await ok('list_backup_jobs');
    assert.equal(listed.jobs.length, 1);
    assert.deepEqual(listed.jobs[0].next_runs, job.next_runs);
  });

  test('update_backup_job refusals: unknown job, nothing to change, bad schedule, exclude without all', async () => {
    const seq = lastSeq();
    await fails(
      'update_backup_job',
      { id: 'backup-00000000-0000', mode: 'stop' },
      'NOT_FOUND',
      new RegExp(`No backup job backup-00000000-0000.*${weekdayJob}`, 's'),
    );
    await fails('update_backup_job', { id: weekdayJob }, 'VALIDATION', /Nothing to change/);
    await fails(
      'update_backup_job',
      { id: weekdayJob, schedule: 'every day' },
      'VALIDATION',
      /schedule: 'every day' is not a Proxmox calendar event/,
    );
    await fails(
      'update_backup_job',
      { id: weekdayJob, vmids: [100], exclude: [101] },
      'VALIDATION',
      /exclude: only for a job that backs up all guests/,
    );
    await fails(
      'update_backup_job',
      { id: weekdayJob, comment: 'x', clear: ['comment'] },
      'VALIDATION',
      /comment is both set and cleared/,
    );
    await fails(
      'update_backup_job',
      { id: weekdayJob, all: false },
      'VALIDATION',
      /all: false needs vmids or pool/,
    );
    await fails('update_backup_job', { id: 'bad id!', mode: 'stop' }, 'VALIDATION', /backup job ID/);
    assert.deepEqual(mutations(seq), []);
  });

  test('get_unprotected_guests after the job: only the excluded guest is left', async () => {
    const r = await ok('get_unprotected_guests');
    assert.deepEqual(
      r.guests.map((g: any) => g.vmid),
      [105],
    );
    assert.equal(r.never_backed_up, 1);
  });

  test('get_unprotected_guests: a guest only a disabled job selects is unprotected too, naming that job', async () => {
    await ok('update_backup_job', { id: weekdayJob, enabled: false });
    try {
      const res = await call('get_unprotected_guests');
      assert.equal(res.isError, undefined, resultText(res));
      const r = res.structuredContent;
      assert.equal(r.total, 12);
      assert.equal(r.only_disabled_jobs, 11);
      const g105 = r.guests.find((g: any) => g.vmid === 105);
      assert.equal(g105.disabled_jobs, undefined, 'PVE itself reports 105 (no job selects it)');
      const g100 = r.guests.find((g: any) => g.vmid === 100);
      assert.deepEqual(g100.disabled_jobs, [weekdayJob]);
      assert.ok(g100.newest_backup);
      assert.match(
        resultText(res),
        new RegExp(`- VM 100 \\(.*\\) on pve1: only in disabled job\\(s\\) ${weekdayJob}; newest backup`),
      );
    } finally {
      await ok('update_backup_job', { id: weekdayJob, enabled: true });
    }
    assert.equal((await ok('get_unprotected_guests')).only_disabled_jobs, 0);
  });

  test('run_backup_job: one vzdump job per node with the job options, no pruning; the jobs complete', async () => {
    const before = (await ok('list_backups', { storage: 'nas' })).total;
    const seq = lastSeq();
    const r = await call('run_backup_job', { id: weekdayJob, wait: true });
    assert.equal(r.isError, undefined, resultText(r));
    const run = r.structuredContent;
    assert.deepEqual(
      run.nodes.map((n: any) => [n.node, n.vmids]),
      [
        ['pve1', [100, 103, 106, 109]],
        ['pve2', [101, 104, 107, 110]],
        ['pve3', [102, 108, 111]],
      ],
    );
    assert.deepEqual(run.skipped, []);
    assert.equal(run.jobs.length, 3);
    for (const job of run.jobs) {
      assert.equal(job.status, 'completed', JSON.stringify(job));
      assert.equal(job.tool_name, 'run_backup_job');
    }
    const posts = mutations(seq);
    assert.deepEqual(
      posts.map((q) => `${q.method} ${q.path}`),
      ['POST /nodes/pve1/vzdump', 'POST /nodes/pve2/vzdump', 'POST /nodes/pve3/vzdump'],
    );
    const body = posts[0].body!;
    assert.equal(body.all, '1');
    assert.equal(body.exclude, '105');
    assert.equal(body.storage, 'nas');
    assert.equal(body.remove, '0');
    assert.equal(body.compress, 'zstd');
    for (const key of ['prune-backups', 'schedule', 'enabled', 'comment', 'id', 'type', 'next-run'])
      assert.equal(body[key], undefined, key);
    const after = (await ok('list_backups', { storage: 'nas' })).total;
    assert.equal(after, before + 11);
    assert.match(
      resultText(r),
      /^Backup job backup-.* started on 3 node\(s\):\n- pve1: 100, 103, 106, 109 \(job /,
    );

    // the guests backed up just now have a fresh newest backup
    const report = await ok('get_unprotected_guests');
    assert.deepEqual(
      report.guests.map((g: any) => g.vmid),
      [105],
    );
  });

  test('run_backup_job: an offline node is skipped and named; a vmid job runs only where its guests are', async () => {
    const created = await ok('create_backup_job', {
      schedule: 'hourly',
      storage: 'local',
      vmids: [101, 102],
    });
    h.sim.cluster.setNodeOnline('pve3', false);
    try {
      const seq = lastSeq();
      const run = await ok('run_backup_job', { id: created.job.id, wait: true });
      assert.deepEqual(
        run.nodes.map((n: any) => [n.node, n.vmids]),
        [['pve2', [101]]],
      );
      assert.deepEqual(run.skipped, [{ vmid: 102, node: 'pve3', reason: 'node pve3 is offline' }]);
      assert.equal(run.jobs[0].status, 'completed');
      assert.deepEqual(
        mutations(seq).map((q) => `${q.method} ${q.path} ${String(q.body?.vmid)}`),
        ['POST /nodes/pve2/vzdump 101,102'],
      );
    } finally {
      h.sim.cluster.setNodeOnline('pve3', true);
    }
    await fails('run_backup_job', { id: 'backup-00000000-0000' }, 'NOT_FOUND', /No backup job/);
  });

  test('next runs are in the node time zone (PVE schedules in local time); retention input is checked', async () => {
    for (const node of ['pve1', 'pve2', 'pve3']) h.sim.logs.setTimezone(node, 'America/New_York');
    try {
      const res = await call('create_backup_job', { schedule: 'sun 01:00', storage: 'nas', vmids: [105] });
      assert.equal(res.isError, undefined, resultText(res));
      const r = res.structuredContent;
      assert.equal(r.timezone, 'America/New_York');
      // 01:00 in New York in December (EST, UTC-5) is 06:00 UTC; PVE's next-run and the computed ones agree
      for (const run of r.job.next_runs) {
        assert.match(run, /T06:00:00\.000Z$/);
        assert.equal(isoDay(run), 0);
      }
      assert.equal(Date.parse(r.job.next_runs[1]) - Date.parse(r.job.next_runs[0]), 7 * DAY * 1000);
      assert.match(resultText(res), /sun 01:00 \(America\/New_York\)/);
      h.sim.cluster.backupJobs.jobs.delete(r.job.id);
    } finally {
      for (const node of ['pve1', 'pve2', 'pve3']) h.sim.logs.setTimezone(node, 'UTC');
    }
    const seq = lastSeq();
    const base = { schedule: 'daily', storage: 'nas', vmids: [100] };
    await fails(
      'create_backup_job',
      { ...base, retention: {} },
      'VALIDATION',
      /retention: give keep_all or at least one keep_\* count/,
    );
    await fails(
      'create_backup_job',
      { ...base, retention: { keep_all: true, keep_last: 2 } },
      'VALIDATION',
      /keep_all conflicts/,
    );
    await fails('create_backup_job', { ...base, retention: { keep_last: 0 } }, 'VALIDATION', /keep_last/);
    await fails(
      'create_backup_job',
      { ...base, notes_template: 'two\nlines' },
      'VALIDATION',
      /notes_template must be one line/,
    );
    await fails(
      'create_backup_job',
      { ...base, mailto: ['not an address'] },
      'VALIDATION',
      /email address or a user/,
    );
    assert.deepEqual(mutations(seq), []);
  });

  test('REST: GET/POST /backups/jobs, PUT and POST …/run, GET /backups/unprotected-guests; bad input is a 400', async () => {
    h.sim.cluster.guest(104)!.pool = 'prod';
    const created = await request(h.url)
      .post('/backups/jobs')
      .set(h.auth)
      .send({ schedule: '*-*-1 03:00', storage: 'nas', pool: 'prod' })
      .expect(201);
    const id = created.body.job.id;
    assert.equal(created.body.job.selection, 'pool');
    for (const run of created.body.job.next_runs) assert.match(run, /-01T03:00:00\.000Z$/);
    const updated = await request(h.url)
      .put(`/backups/jobs/${id}`)
      .set(h.auth)
      .send({ mode: 'stop', enabled: false })
      .expect(200);
    assert.equal(updated.body.job.mode, 'stop');
    assert.deepEqual(updated.body.job.next_runs, []);
    const list = await request(h.url).get('/backups/jobs').set(h.auth).expect(200);
    assert.ok(list.body.jobs.some((j: any) => j.id === id));
    const report = await request(h.url).get('/backups/unprotected-guests').set(h.auth).expect(200);
    assert.ok(Array.isArray(report.body.guests));
    const run = await request(h.url).post(`/backups/jobs/${id}/run`).set(h.auth).send({}).expect(202);
    assert.ok(run.body.jobs.length >= 1);
    const bad = await request(h.url)
      .post('/backups/jobs')
      .set(h.auth)
      .send({ schedule: 'tomorrow', storage: 'nas', all: true })
      .expect(400);
    assert.match(JSON.stringify(bad.body), /not a Proxmox calendar event/);
    await request(h.url)
      .post('/backups/jobs')
      .set(h.auth)
      .send({ schedule: 'daily', storage: 'nas', vmids: ['x'] })
      .expect(400);
  });
});

// delete_backup_job is a destroy tool: with the shipped policy (enforce) it needs an operator's approval, asked for
// only after the job was found.
describe('delete_backup_job needs an approval', () => {
  let h: Harness;
  let mcp: Client;
  const { lastSeq, mutations } = simRequests(() => h.sim);
  const approve = (id: string) => approveAsOperator(h.url, id);

  harnessSuite(
    () => startApprovalHarness({ nodes: 1, guests: 2, taskSeconds: 0 }),
    (started, client) => {
      h = started;
      mcp = client;
    },
  );

  test('MCP: an unknown job is refused before an approval; a known one needs it, then is deleted once', async () => {
    let seq = lastSeq();
    const unknown = (await mcp.callTool({
      name: 'delete_backup_job',
      arguments: { id: 'backup-00000000-0000' },
    })) as any;
    assert.match(resultText(unknown), /^NOT_FOUND: No backup job backup-00000000-0000/);
    assert.deepEqual(mutations(seq), []);

    const created = (await mcp.callTool({
      name: 'create_backup_job',
      arguments: { schedule: 'daily', storage: 'local', all: true },
    })) as any;
    assert.equal(created.isError, undefined, resultText(created));
    const id = created.structuredContent.job.id;
    seq = lastSeq();
    const refused = (await mcp.callTool({ name: 'delete_backup_job', arguments: { id } })) as any;
    assert.match(resultText(refused), /^APPROVAL_REQUIRED: High-risk operation 'delete_backup_job'/);
    assert.deepEqual(mutations(seq), []);
    const token = await approve(/Approval request ([0-9a-f-]{36})/.exec(resultText(refused))![1]);
    const done = (await mcp.callTool({
      name: 'delete_backup_job',
      arguments: { id, approval_token: token },
    })) as any;
    assert.equal(done.isError, undefined, resultText(done));
    assert.equal(resultText(done), `Backup job ${id} deleted (existing backups are kept)`);
    assert.deepEqual(
      mutations(seq).map((q) => `${q.method} ${q.path}`),
      [`DELETE /cluster/backup/${id}`],
    );
    assert.equal(h.sim.cluster.backupJobs.jobs.size, 0);
  });

  test('REST DELETE takes the token in the X-Approval-Token header', async () => {
    const created = await request(h.url)
      .post('/backups/jobs')
      .set(h.auth)
      .send({ schedule: 'sun 01:00', storage: 'local', vmids: [100] })
      .expect(201);
    const id = created.body.job.id;
    const refused = await request(h.url).delete(`/backups/jobs/${id}`).set(h.auth).expect(403);
    assert.equal(refused.body.details.tool, 'delete_backup_job');
    const token = await approve(refused.body.details.request_id);
    const done = await request(h.url)
      .delete(`/backups/jobs/${id}`)
      .set({ ...h.auth, 'x-approval-token': token })
      .expect(200);
    assert.deepEqual(done.body, { target: done.body.target, id, deleted: true });
    assert.equal(h.sim.cluster.backupJobs.jobs.size, 0);
  });
});
