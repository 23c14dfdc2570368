import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { simulatorTargetConfig, type PveSimulator } from '../../src/simulator/index.js';
import { FakeNodes, containerStatusFrom } from '../helpers/ssh-server.js';
import { generateSshKeyPair } from '../helpers/ssh-keys.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { resultText, type ToolResult } from '../helpers/tools.js';

/*
 * Issue 20, items 1 and 2: what scripts written for the reference (ProxmoxMCP-Plus) read from a tool result.
 * - Mutating tools: `Task ID: <UPID>` and `Job ID: <id>` lines, found with the reference's own regexes.
 * - The tools whose reference text was JSON (job tools, get_container_config, get_container_ip,
 *   execute_container_command, update_container_ssh_keys): `json.loads(content[0].text)` gives the reference's
 *   keys; the human summary comes after it as a second text item.
 * Driven over MCP (the SDK client, which checks every structuredContent against the outputSchema) and REST,
 * against the schema-checked simulator and a real SSH server playing the nodes.
 * Seeded (3 nodes, 12 guests): CT 101 pve2 running, CT 103 pve1 stopped, CT 105 pve3 running.
 */

/** The regexes the reference's e2e harness and users' scripts use. */
const TASK_ID = /Task ID:\s*(\S+)/;
const JOB_ID = /Job ID:\s*(\S+)/;
const UPID = /^UPID:[^:]+:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:[a-z]+:[^:]*:[^:]+:$/;
const TEMPLATE = 'nas:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

/** What a reference script reads: the first text item. */
const firstText = (r: ToolResult): string => {
  assert.equal(r.content[0]?.type, 'text');
  return r.content[0].text ?? '';
};
/** `json.loads(result.content[0].text)` */
const jsonLoads = (r: ToolResult): any => JSON.parse(firstText(r));
const sortedKeys = (o: Record<string, unknown>) => Object.keys(o).sort();

describe('reference compatibility: task/job lines and JSON texts', () => {
  let h: Harness;
  let fake: FakeNodes;
  let mcp: Client;
  let sim: PveSimulator | undefined;

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = (await mcp.callTool({ name, arguments: args })) as ToolResult;
    assert.equal(r.isError, undefined, `${name}: ${resultText(r)}`);
    return r;
  };

  /** A job-returning tool's first text: both reference lines, each naming what structuredContent says. */
  const assertJobLines = (name: string, r: ToolResult) => {
    const text = firstText(r);
    const task = TASK_ID.exec(text)?.[1];
    const job = JOB_ID.exec(text)?.[1];
    assert.ok(task && UPID.test(task), `${name}: Task ID line with a UPID:\n${text}`);
    assert.equal(task, r.structuredContent.task_id, name);
    assert.equal(job, r.structuredContent.job_id, name);
    assert.doesNotMatch(text, /^Task: /m, `${name}: the old line is gone`);
    return { task, job: job! };
  };

  before(async () => {
    fake = await FakeNodes.start({
      nodes: ['pve1', 'pve2', 'pve3'],
      containerStatus: containerStatusFrom(() => sim),
    });
    h = await startHarness({ nodes: 3, guests: 12, taskSeconds: 0 }, (s) => {
      sim = s;
      return testConfig([simulatorTargetConfig(s)], {
        commandPolicy: { ...testConfig([]).commandPolicy, mode: 'audit_only' },
        ssh: fake.sshConfig(),
      });
    });
    mcp = await h.mcp();
    await mcp.listTools(); // from here on the SDK checks every result against the tool's outputSchema
  });
  after(async () => {
    await h.close();
    await fake.close();
  });

  test('a script written for the reference runs unchanged: create VM → Task ID → poll → snapshot → rollback → CT config → command', async () => {
    // create_vm with the reference README's arguments (vmid as a string)
    const created = await call('create_vm', {
      node: 'pve1',
      vmid: '900',
      name: 'llm-test-vm',
      cpus: 1,
      memory: 2048,
      disk_size: 10,
    });
    const { task, job } = assertJobLines('create_vm', created);

    // poll the job until it ends, reading json.loads(text) as the reference's job tools answered
    let polled: any;
    for (let i = 0; i < 50; i++) {
      polled = jsonLoads(await call('poll_job', { job_id: job }));
      if (polled.status !== 'running' && polled.status !== 'pending') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(polled.status, 'completed', JSON.stringify(polled));
    assert.equal(polled.job_id, job);
    assert.equal(polled.task_id, task);
    assert.equal(polled.tool_name, 'create_vm');

    const snap = await call('create_snapshot', {
      node: 'pve1',
      vmid: '900',
      snapname: 'before-change',
      wait: true,
    });
    assertJobLines('create_snapshot', snap);
    const rollback = await call('rollback_snapshot', {
      node: 'pve1',
      vmid: '900',
      snapname: 'before-change',
      wait: true,
    });
    const rolled = assertJobLines('rollback_snapshot', rollback);
    assert.equal(jsonLoads(await call('get_job', { job_id: rolled.job })).status, 'completed');

    const config = jsonLoads(await call('get_container_config', { node: 'pve2', vmid: '101' }));
    assert.equal(config.vmid, '101');
    assert.equal(config.hostname, sim!.cluster.guest(101)!.config.hostname);

    const out = jsonLoads(
      await call('execute_container_command', { selector: '101', command: 'echo hello' }),
    );
    assert.deepEqual(out, { success: true, output: 'hello\n', error: '', exit_code: 0 });
  });

  test('every kind of job-returning tool says Task ID: <UPID> and Job ID: <id>', async () => {
    const vm = await call('create_vm', { node: 'pve1', name: 'compat-lines', wait: true });
    assertJobLines('create_vm', vm);
    const vmid = vm.structuredContent.vmid as number;
    for (const [name, args] of [
      ['start_vm', { node: 'pve1', vmid, wait: true }],
      ['reset_vm', { node: 'pve1', vmid, wait: true }],
      ['stop_vm', { node: 'pve1', vmid, wait: true }],
      ['create_snapshot', { node: 'pve1', vmid, snapname: 'lines' }],
      ['create_backup', { node: 'pve1', vmid, storage: 'nas', wait: true }],
      ['clone_vm', { node: 'pve1', source_vmid: vmid, name: 'compat-clone', full: true, wait: true }],
      ['create_container', { node: 'pve1', ostemplate: TEMPLATE, wait: true }],
    ] as const) {
      assertJobLines(name, await call(name, args));
    }
    // wait_job is a job tool of ours (the reference had none): prose with the same lines
    const started = await call('start_vm', { node: 'pve1', vmid });
    const { job } = assertJobLines('start_vm', started);
    assertJobLines('wait_job', await call('wait_job', { job_id: job, timeout_seconds: 30 }));

    // container actions (pretty): one Task ID / Job ID pair per job under its container's line
    const ct = await call('start_container', { selector: '103', wait: true });
    const text = firstText(ct);
    assert.match(text, /^Start Containers\n\nOK .* \(ID: 103, node: pve1\) - /);
    const item = ct.structuredContent.results[0];
    assert.equal(TASK_ID.exec(text)?.[1], item.job.task_id);
    assert.equal(JOB_ID.exec(text)?.[1], item.job.job_id);
  });

  test('job tools: json.loads(content[0].text) is the job (list_jobs: a list), keys sorted; the summary follows', async () => {
    const started = await call('start_vm', { node: 'pve1', vmid: 900 });
    const { task, job } = assertJobLines('start_vm', started);

    for (const name of ['get_job', 'poll_job']) {
      const r = await call(name, { job_id: job });
      const parsed = jsonLoads(r);
      assert.equal(parsed.job_id, job, name);
      assert.equal(parsed.task_id, task, name);
      assert.deepEqual(Object.keys(parsed), sortedKeys(parsed), `${name}: sort_keys=True`);
      assert.equal(firstText(r), JSON.stringify(parsed, null, 2), `${name}: indent=2`);
      // the human summary is the second text item, with the reference's lines
      assert.equal(r.content.length, 2);
      assert.equal(TASK_ID.exec(r.content[1].text!)?.[1], task);
      // structuredContent stays the job object
      assert.equal(r.structuredContent.job_id, job);
    }

    const listed = await call('list_jobs', { tool_name: 'start_vm' });
    const jobs = jsonLoads(listed);
    assert.ok(Array.isArray(jobs), 'list_jobs text is the JSON list');
    assert.ok(
      jobs.some((j: { job_id: string; task_id: string }) => j.job_id === job && j.task_id === task),
      firstText(listed),
    );
    assert.equal(listed.structuredContent.jobs.length, jobs.length);
    assert.match(listed.content[1].text!, /^Jobs \(\d+\)/);

    // REST: the same job at its route carries the task the text named
    const rest = await request(h.url).get(`/jobs/${job}`).set(h.auth).expect(200);
    assert.equal(rest.body.task_id, task);
  });

  test('get_container_config: the PVE config with digest and vmid (a string), sorted keys, as JSON text', async () => {
    const r = await call('get_container_config', { node: 'pve2', vmid: 101 });
    const parsed = jsonLoads(r);
    const rest = await request(h.url).get('/nodes/pve2/containers/101/config').set(h.auth).expect(200);
    assert.deepEqual(parsed, { ...rest.body.config, digest: rest.body.digest, vmid: '101' });
    assert.ok(parsed.digest, 'PVE sends a digest');
    assert.equal(firstText(r), JSON.stringify(parsed, null, 2));
    assert.deepEqual(Object.keys(parsed), sortedKeys(parsed));
    assert.match(r.content[1].text!, /^Configuration of container 101 on pve2\n/);
    assert.equal(r.structuredContent.config.hostname, parsed.hostname, 'structuredContent unchanged');
  });

  test('get_container_ip: {interfaces, name, primary_ip, vmid} without lo and hwaddr, as JSON text', async () => {
    const r = await call('get_container_ip', { node: 'pve2', vmid: '101' });
    const parsed = jsonLoads(r);
    assert.deepEqual(Object.keys(parsed), ['interfaces', 'name', 'primary_ip', 'vmid']);
    assert.equal(parsed.vmid, '101');
    assert.equal(parsed.name, sim!.cluster.guest(101)!.config.hostname);
    assert.ok(parsed.interfaces.length > 0);
    for (const i of parsed.interfaces) {
      assert.notEqual(i.name, 'lo');
      for (const key of Object.keys(i)) assert.ok(['inet', 'inet6', 'name'].includes(key), key);
    }
    const firstV4 = parsed.interfaces.find((i: { inet?: string }) => i.inet)?.inet;
    assert.equal(parsed.primary_ip, firstV4 ? firstV4.split('/')[0] : null);
    assert.match(r.content[1].text!, /Primary IP/);
    // the REST route still answers with the full DTO (hwaddr included)
    const rest = await request(h.url).get('/nodes/pve2/containers/101/ip').set(h.auth).expect(200);
    assert.equal(rest.body.primary_ip ?? null, parsed.primary_ip);
  });

  test('execute_container_command: {"success", "output", "error", "exit_code"} in that order, also for a failing command', async () => {
    const ok = await call('execute_container_command', {
      selector: 'pve2:101',
      command: 'echo compat check',
    });
    assert.equal(
      firstText(ok),
      JSON.stringify({ success: true, output: 'compat check\n', error: '', exit_code: 0 }, null, 2),
    );
    assert.match(ok.content[1].text!, /^Command result\n {2}- Status: SUCCESS/);

    const failed = await call('execute_container_command', { selector: '101', command: 'ls /nope' });
    const parsed = jsonLoads(failed);
    assert.deepEqual(Object.keys(parsed), ['success', 'output', 'error', 'exit_code']);
    assert.equal(parsed.success, false);
    assert.equal(parsed.exit_code, 2);
    assert.match(parsed.error, /No such file or directory/);
  });

  test('update_container_ssh_keys: {"success": true, "keys_added": n} as JSON text', async () => {
    const key = `${generateSshKeyPair('ed25519').public.split(' ').slice(0, 2).join(' ')} compat@script`;
    const r = await call('update_container_ssh_keys', { node: 'pve3', vmid: '105', public_keys: key });
    assert.equal(firstText(r), JSON.stringify({ success: true, keys_added: 1 }, null, 2));
    assert.match(r.content[1].text!, /1 key\(s\) added/);
    assert.equal(r.structuredContent.keys_total, 1);
  });

  test('errors stay MCP errors with a CODE: text, not JSON', async () => {
    const r = (await mcp.callTool({
      name: 'get_container_config',
      arguments: { node: 'pve1', vmid: 4242 },
    })) as ToolResult;
    assert.equal(r.isError, true);
    assert.match(firstText(r), /^[A-Z_]+: /);
  });
});
