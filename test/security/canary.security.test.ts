import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { pvePath } from '../../src/proxmox/pve-path.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { jobsOf, vmIn } from '../helpers/jobs.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { Clients, bearer, callTool } from './helpers.js';

/** Distinct secrets, one per place a secret can come from (H1). */
const CANARY = {
  pveToken: 'canary-pve-1f2e3d4c5b6a',
  adminKey: 'canary-api-admin-0123456789',
  readKey: 'canary-api-read-0123456789',
  operateKey: 'canary-api-operate-0123456789',
  approvalToken: 'canary-approval-0123456789',
  highRiskToken: 'canary-hr-approval-0123456789',
  sshPassword: 'canary-ssh-0123456789',
  ciPassword: 'canary-ci-pw-0123456789',
  strangerKey: 'canary-stranger-key-0123456789',
} as const;

/**
 * H1: a run of read tools, failing calls, refused calls, an upstream error carrying the PVE token, and a job
 * whose request carried a cloud-init password, with every secret distinct; then none of them may appear in the
 * log file, any database row, or any response.
 */
describe('canary run: no secret in logs, database rows or responses (table H)', () => {
  let h: Harness;
  const clients = new Clients();
  const dir = mkdtempSync(join(tmpdir(), 'pmp-canary-'));
  const logFile = join(dir, 'server.log');
  const responses: string[] = [];
  let rows = '';
  let sentToPve = false;

  before(async () => {
    h = await startHarness({ nodes: 2, guests: 8, token: `root@pam!mcp=${CANARY.pveToken}` }, (sim) =>
      testConfig([simulatorTargetConfig(sim)], {
        logging: { level: 'debug', file: logFile, logCommands: false },
        http: {
          ...testConfig([]).http,
          apiKeys: [
            { name: 'admin', secret: CANARY.adminKey, scope: 'admin' },
            { name: 'reader', secret: CANARY.readKey, scope: 'read' },
            { name: 'operator', secret: CANARY.operateKey, scope: 'operate' },
          ],
        },
        commandPolicy: {
          ...testConfig([]).commandPolicy,
          approvalToken: CANARY.approvalToken,
          highRiskApprovalToken: CANARY.highRiskToken,
        },
        ssh: {
          user: 'root',
          port: 22,
          password: CANARY.sshPassword,
          hostOverrides: {},
          useSudo: false,
          strictHostKeyChecking: true,
          hostKeyFingerprints: {},
        },
      }),
    );
    const keep = (value: unknown) =>
      responses.push(typeof value === 'string' ? value : JSON.stringify(value));
    const admin = await clients.as(h.url, CANARY.adminKey);
    const reader = await clients.as(h.url, CANARY.readKey);

    // read tools
    for (const name of ['get_nodes', 'get_vms', 'list_targets', 'get_storage', 'list_jobs']) {
      keep(await callTool(admin, name));
    }
    keep(await callTool(admin, 'get_vm_config', { node: 'pve1', vmid: 100 }));
    // failing calls, with the cloud-init password where it does not belong
    keep(await callTool(admin, 'get_vm_config', { node: 'pve1', vmid: 42 }));
    keep(await callTool(admin, 'get_vms', { cipassword: CANARY.ciPassword }));
    keep(
      (await request(h.url).get(`/vms?cipassword=${CANARY.ciPassword}`).set(bearer(CANARY.adminKey))).text,
    );
    keep(
      (
        await request(h.url)
          .post('/get_vms')
          .set(bearer(CANARY.adminKey))
          .send({ password: CANARY.ciPassword })
      ).text,
    );
    // an upstream error whose text carries the PVE token (H2)
    h.sim.faults.add({
      match: { path: '/cluster/resources' },
      mode: 'status',
      status: 500,
      message: `backend said: PVEAPIToken=root@pam!mcp=${CANARY.pveToken} rejected; password=${CANARY.ciPassword}`,
      times: 2,
    });
    keep(await callTool(admin, 'get_vms'));
    keep((await request(h.url).get('/vms').set(bearer(CANARY.adminKey))).text);
    // refused calls: scope, a wrong key, a near miss of a real key, a key in the URL
    keep(await callTool(reader, 'cancel_job', { job_id: '00000000-0000-4000-8000-000000000000' }));
    keep((await request(h.url).get('/vms').set(bearer(CANARY.strangerKey))).text);
    keep(
      (
        await request(h.url)
          .get('/vms')
          .set(bearer(`${CANARY.adminKey}x`))
      ).text,
    );
    keep((await request(h.url).get(`/vms?api_key=${CANARY.adminKey}`)).text);
    // a job whose request carried a secret (sent to PVE, never stored), then the job tools
    const vm = vmIn(h.sim, 'stopped');
    const job = await jobsOf(h.server.app).track(
      {
        toolName: 'update_vm_config',
        summary: `Set the cloud-init password of VM ${vm.vmid}`,
        node: vm.node,
        request: {
          method: 'POST',
          path: pvePath`/nodes/${vm.node}/qemu/${vm.vmid}/config`,
          params: { cipassword: CANARY.ciPassword },
        },
        secretParams: ['cipassword'],
        metadata: { vmid: vm.vmid },
      },
      { wait: true, timeoutSeconds: 30 },
    );
    keep(job);
    // the real mutating tools with secrets in their arguments: create_vm and update_vm_config (cloud-init)
    const created = (await callTool(admin, 'create_vm', {
      node: 'pve1',
      name: 'canary-vm',
      ciuser: 'ops',
      cipassword: CANARY.ciPassword,
      wait: true,
    })) as { isError?: boolean; structuredContent?: { job_id?: string; status?: string } };
    assert.equal(created.structuredContent?.status, 'completed', `create_vm ran: ${JSON.stringify(created)}`);
    keep(created);
    keep(
      await callTool(admin, 'update_vm_config', {
        node: vm.node,
        vmid: vm.vmid,
        cipassword: CANARY.ciPassword,
      }),
    );
    if (created.structuredContent?.job_id) {
      keep(await callTool(admin, 'get_job_events', { job_id: created.structuredContent.job_id }));
    }
    keep(await callTool(admin, 'list_jobs', { limit: 500 }));
    keep(await callTool(admin, 'get_job', { job_id: job.job_id }));
    keep(await callTool(admin, 'get_job_events', { job_id: job.job_id }));
    keep(await callTool(admin, 'list_audit_events', { limit: 500 }));
    keep((await request(h.url).get('/health').set(bearer(CANARY.adminKey))).text);
    keep((await request(h.url).get('/openapi.json').set(bearer(CANARY.adminKey))).text);

    sentToPve = h.sim.requests.some((r) => JSON.stringify(r.body ?? {}).includes(CANARY.ciPassword));

    // every row of every table, before the in-memory database goes away
    const db = h.server.app.get(DataSource);
    const tables: Array<{ name: string }> = await db.query(
      `SELECT name FROM sqlite_master WHERE type = 'table'`,
    );
    for (const { name } of tables) rows += JSON.stringify(await db.query(`SELECT * FROM "${name}"`));

    await clients.closeAll();
    await h.close(); // flushes the log file
  });
  after(() => (process.env.KEEP_CANARY_LOG ? undefined : rmSync(dir, { recursive: true, force: true })));

  const assertNoCanary = (where: string, text: string) => {
    for (const [name, secret] of Object.entries(CANARY)) {
      assert.ok(!text.includes(secret), `${name} (${secret}) found in ${where}`);
    }
  };

  test('the run really produced logs, rows and answers (so the search below means something)', () => {
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /listening on/);
    assert.match(log, /"level":20/, 'debug lines were written');
    assert.match(
      log,
      /get_vms failed by admin .*cipassword\\":\\"<redacted>/,
      'the argument was logged, redacted',
    );
    assert.ok(sentToPve, 'the cloud-init password did travel: it was sent to PVE');
    assert.match(rows, /auth\.failed/);
    assert.match(rows, /"outcome":"denied"/);
    assert.match(rows, /update_vm_config/);
    assert.ok(
      responses.some((r) => r.includes('UPSTREAM')),
      'the upstream error was answered',
    );
  });

  test('no canary in the log file, and every log line is one JSON object (H5)', () => {
    const log = readFileSync(logFile, 'utf8');
    assertNoCanary('the log file', log);
    for (const line of log.split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line), line);
  });

  test('no canary in any database row (jobs, job events, audit events, approvals)', () => {
    assertNoCanary('the database', rows);
  });

  test('no canary in any response (tool results, errors, /health, openapi.json) (H2, H6)', () => {
    for (const r of responses) assertNoCanary('a response', r);
    for (const r of responses)
      assert.doesNotMatch(r, /at [^\s]+\.js:\d+|\/work\/|node_modules/, 'no stack or path');
  });
});
