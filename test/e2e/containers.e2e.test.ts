import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { OPERATOR_KEY, startHarness, testConfig, withOperator, type Harness } from '../helpers/test-app.js';
import { FakeNodes, INJECTION_PAYLOADS, containerStatusFrom } from '../helpers/ssh-server.js';
import { simulatorTargetConfig, type PveSimulator } from '../../src/simulator/index.js';
import { generateSshKeyPair } from '../helpers/ssh-keys.js';
import { resultText, simGuest, simRequests, toolCalls } from '../helpers/tools.js';

const newKey = (comment: string) =>
  `${generateSshKeyPair('ed25519').public.split(' ').slice(0, 2).join(' ')} ${comment}`;
const KEY_A = newKey('alice@laptop');
const KEY_B = newKey('bob@desk');
const TEMPLATE = 'nas:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
const CREATE_PASSWORD = 'ct-root-pass-5d1e';

/**
 * The container tools over MCP (SDK client that has listed the tools, so every result is checked against its
 * outputSchema) and REST (supertest), against the schema-checked simulator and a real in-process SSH server that
 * plays the nodes (test/helpers/ssh-server.ts). Seeded (3 nodes, 12 guests): CT 101 pve2 running, CT 103 pve1
 * stopped, CT 105 pve3 running, CT 107 pve2 running, CT 109 pve1 stopped, CT 111 pve3 running; VM 100 pve1.
 */
describe('container tools against the simulator and an SSH node', () => {
  let h: Harness;
  let fake: FakeNodes;
  let mcp: Client;
  let sim: PveSimulator | undefined;

  const { call, ok, fails } = toolCalls(() => mcp);
  const guest = (vmid: number) => simGuest(h.sim, vmid);
  const hostname = (vmid: number) => String(guest(vmid).config.hostname);
  const { lastSeq, mutations } = simRequests(() => h.sim);

  before(async () => {
    fake = await FakeNodes.start({
      nodes: ['pve1', 'pve2', 'pve3'],
      containerStatus: containerStatusFrom(() => sim),
    });
    h = await startHarness({ nodes: 3, guests: 12, taskSeconds: 0 }, (s) => {
      sim = s;
      return testConfig([simulatorTargetConfig(s)], {
        commandPolicy: { ...testConfig([]).commandPolicy, mode: 'audit_only', allowShell: true },
        ssh: fake.sshConfig(),
      });
    });
    mcp = await h.mcp();
    await mcp.listTools(); // from here on the SDK checks every result against the tool's outputSchema
  });
  after(async () => {
    assert.deepEqual(h.sim.schemaViolations(), [], 'every request the tools sent must pass the PVE schema');
    await h.close();
    await fake.close();
  });

  test('tools/list: the container tools, their risk annotations and approval_token where gated', async () => {
    const { tools } = await mcp.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of [
      'create_container',
      'start_container',
      'stop_container',
      'restart_container',
      'delete_container',
      'update_container_resources',
      'execute_container_command',
      'update_container_ssh_keys',
    ]) {
      assert.ok(byName.has(name), `${name} is listed`);
    }
    assert.equal(byName.get('delete_container')?.annotations?.destructiveHint, true);
    assert.equal(byName.get('update_container_ssh_keys')?.annotations?.destructiveHint, true);
    assert.equal(byName.get('execute_container_command')?.annotations?.destructiveHint, true);
    for (const name of ['delete_container', 'update_container_ssh_keys', 'execute_container_command']) {
      assert.equal((byName.get(name)!.inputSchema as any).properties.approval_token?.type, 'string', name);
    }
    const exec = byName.get('execute_container_command')!.inputSchema as any;
    assert.ok(exec.properties.command.anyOf);
    assert.deepEqual(exec.required.sort(), ['command', 'selector']);
    const create = byName.get('create_container')!.inputSchema as any;
    assert.deepEqual([...create.required].sort(), ['node', 'ostemplate']);
    assert.ok(create.properties.password && create.properties.ssh_public_keys && create.properties.wait);
  });

  // ------------------------------------------------------------------------------------------------- create

  test('create_container: next free id, rootdir storage with room, bridge, unprivileged; the password is sent but never stored', async () => {
    const expected = h.sim.cluster.nextFreeVmid();
    const seq = lastSeq();
    const job = await ok('create_container', {
      node: 'pve1',
      ostemplate: TEMPLATE,
      hostname: 'web-ct',
      password: CREATE_PASSWORD,
      ssh_public_keys: [KEY_A],
      nesting: true,
      wait: true,
    });
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.equal(job.metadata.vmid, expected);
    assert.match(job.task_id, /:vzcreate:/);
    const post = mutations(seq).find((r) => r.method === 'POST' && r.path === '/nodes/pve1/lxc');
    assert.ok(post?.body);
    assert.equal(post.body.rootfs, 'local-lvm:8', 'the only storage on pve1 that holds containers');
    assert.equal(post.body.net0, 'name=eth0,bridge=vmbr0,ip=dhcp');
    assert.equal(String(post.body.unprivileged), '1');
    assert.equal(post.body.features, 'nesting=1');
    assert.equal(post.body.password, CREATE_PASSWORD, 'sent to Proxmox');
    assert.equal(post.body['ssh-public-keys'], KEY_A);
    assert.equal(job.retry_spec?.available, false);
    assert.match(job.retry_spec?.reason ?? '', /secrets \(password, ssh-public-keys\)/);
    const stored = JSON.stringify([
      (await request(h.url).get(`/jobs/${job.job_id}`).set(h.auth).expect(200)).body,
      (await request(h.url).get(`/jobs/${job.job_id}/events`).set(h.auth).expect(200)).body,
    ]);
    assert.ok(!stored.includes(CREATE_PASSWORD), 'the password is in no job row or event');
    assert.ok(!stored.includes('AAAAC3NzaC1lZDI1NTE5AAAAIGs7'), 'nor are the keys');
    const created = guest(expected);
    assert.equal(created.type, 'lxc');
    assert.equal(created.config.hostname, 'web-ct');
    assert.equal(created.config.unprivileged, 1);
  });

  test('create_container over REST with a static address; the ID of a VM is refused naming it', async () => {
    const res = await request(h.url)
      .post('/nodes/pve2/containers')
      .set(h.auth)
      .send({
        vmid: 300,
        ostemplate: TEMPLATE,
        ip: '10.0.0.30/24',
        gateway: '10.0.0.1',
        vlan_tag: 20,
        disk_size: 4,
        wait: true,
      })
      .expect(202);
    assert.equal(res.body.status, 'completed', JSON.stringify(res.body));
    assert.match(
      String(guest(300).config.net0),
      /bridge=vmbr0,.*gw=10\.0\.0\.1,.*ip=10\.0\.0\.30\/24,tag=20/,
    );
    assert.equal(guest(300).config.hostname, 'ct-300');

    const seq = lastSeq();
    await fails(
      'create_container',
      { node: 'pve1', vmid: 100, ostemplate: TEMPLATE },
      'CONFLICT',
      /ID 100 is already used by VM 'web-01' on node pve1/,
    );
    await fails(
      'create_container',
      { node: 'pve1', vmid: 101, ostemplate: TEMPLATE },
      'CONFLICT',
      /used by container '.*' on node pve2/,
    );
    assert.deepEqual(mutations(seq), [], 'nothing was sent');
  });

  test('create_container: template, storage, bridge, room and network mistakes are named before anything is sent', async () => {
    const seq = lastSeq();
    await fails(
      'create_container',
      { node: 'pve1', ostemplate: 'nas:vztmpl/nope.tar.zst' },
      'NOT_FOUND',
      /nas:vztmpl\/nope\.tar\.zst is not on storage 'nas'[\s\S]*debian-12-standard/,
    );
    await fails(
      'create_container',
      { node: 'pve1', ostemplate: TEMPLATE, storage: 'local' },
      'VALIDATION',
      /storage 'local' cannot hold container disks.*local-lvm/s,
    );
    await fails(
      'create_container',
      { node: 'pve1', ostemplate: TEMPLATE, network_bridge: 'vmbr9' },
      'VALIDATION',
      /no bridge 'vmbr9' on node pve1[\s\S]*vmbr0, vmbr1/,
    );
    await fails(
      'create_container',
      { node: 'pve1', ostemplate: TEMPLATE, disk_size: 60000 },
      'CONFLICT',
      /No storage on node pve1 has room for a 60000 GiB/,
    );
    await fails(
      'create_container',
      { node: 'pve1', ostemplate: TEMPLATE, gateway: '10.0.0.1' },
      'VALIDATION',
      /gateway needs a static ip/,
    );
    await fails(
      'create_container',
      { node: 'pve1', ostemplate: 'local:iso/x.iso' },
      'VALIDATION',
      /ostemplate must be a template volume id/,
    );
    await fails(
      'create_container',
      { node: 'pve1', ostemplate: TEMPLATE, ssh_public_keys: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGs7 x' },
      'VALIDATION',
      /ssh_public_keys line 1 is not an OpenSSH public key/,
    );
    await fails(
      'create_container',
      { node: 'pve1', ostemplate: TEMPLATE, password: 'abc' },
      'VALIDATION',
      /password/,
    );
    assert.deepEqual(mutations(seq), []);
  });

  test('start_container of one container waited for, whose task fails: JOB_FAILED with the results attached', async () => {
    h.sim.tasks.script({ match: { type: 'vzstart', id: '109' }, exitstatus: 'simulated start failure' });
    const r = await call('start_container', { selector: '109', wait: true });
    assert.equal(r.isError, true);
    assert.match(
      resultText(r),
      /^JOB_FAILED: Start CT 109 .* the Proxmox task failed: simulated start failure/,
    );
    const result = r.structuredContent;
    assert.equal(result.succeeded, 0);
    assert.equal(result.failed, 1);
    assert.equal(result.results[0].job.status, 'failed');
    assert.equal(guest(109).status, 'stopped');
  });

  // -------------------------------------------------------------------------------------------- selectors

  test('selectors: malformed or unmatched items are a VALIDATION error naming them, and nothing is done', async () => {
    const seq = lastSeq();
    await fails(
      'start_container',
      { selector: 'pve1:abc' },
      'VALIDATION',
      /item 1 'pve1:abc': 'abc' is not a container ID/,
    );
    await fails(
      'start_container',
      { selector: '103, pve1:103/x' },
      'VALIDATION',
      /item 2 'pve1:103\/x': use either node:vmid or node\/name/,
    );
    await fails('start_container', { selector: '103,,109' }, 'VALIDATION', /item 2 \(empty\)/);
    await fails('start_container', { selector: '103; reboot' }, 'VALIDATION', /not a container name/);
    await fails(
      'start_container',
      { selector: '103,nosuch,pve3:103' },
      'VALIDATION',
      /match no container: 'nosuch', 'pve3:103'; nothing was done/,
    );
    await fails(
      'start_container',
      { selector: '100' },
      'VALIDATION',
      /'100' \(100 is a VM, not a container\)/,
    );
    assert.deepEqual(mutations(seq), [], 'not even the matching items were acted on');
  });

  // ------------------------------------------------------------------------------------------------- power

  test('start_container by name (one container): a job, waited; a running one is CONFLICT without a job', async () => {
    const r = await ok('start_container', { selector: `pve1/${hostname(103)}`, wait: true });
    assert.equal(r.action, 'start');
    assert.equal(r.succeeded, 1);
    const [item] = r.results;
    assert.deepEqual([item.ok, item.node, item.vmid], [true, 'pve1', 103]);
    assert.equal(item.job.status, 'completed');
    assert.match(item.task_id, /:vzstart:103:/);
    assert.equal(guest(103).status, 'running');
    const seq = lastSeq();
    await fails(
      'start_container',
      { selector: '103' },
      'CONFLICT',
      /CT 103 \(.*\) on node pve1 is already running/,
    );
    assert.deepEqual(mutations(seq), []);
  });

  test('several containers: one OK/FAIL entry each; pretty and json texts', async () => {
    const r = await call('start_container', {
      selector: '109,101',
      format_style: 'json',
      wait: true,
    });
    assert.equal(r.isError, undefined, resultText(r));
    const s = r.structuredContent;
    assert.deepEqual(
      s.results.map((i: any) => [i.vmid, i.ok]),
      [
        [109, true],
        [101, false],
      ],
    );
    assert.equal(s.results[1].error_code, 'CONFLICT');
    assert.deepEqual([s.succeeded, s.failed], [1, 1]);
    const json = JSON.parse(resultText(r));
    assert.equal(json[0].ok, true);
    assert.match(json[0].task_id, /:vzstart:109:/);
    assert.match(json[1].error, /already running/);
    const pretty = resultText(await call('stop_container', { selector: '109', graceful: false, wait: true }));
    assert.match(pretty, /^Stop Containers\n\nOK .* \(ID: 109, node: pve1\) - hard stop sent/);
  });

  test('stop_container graceful: a clean shutdown is one job with the timeout sent to PVE', async () => {
    const seq = lastSeq();
    const r = await ok('stop_container', { selector: '111', timeout_seconds: 5, wait: true });
    const [item] = r.results;
    assert.equal(item.message, 'shut down cleanly');
    assert.equal(item.job.status, 'completed');
    assert.equal(item.jobs, undefined);
    const sent = mutations(seq);
    assert.deepEqual(
      sent.map((m) => m.path),
      ['/nodes/pve3/lxc/111/status/shutdown'],
    );
    assert.equal(String(sent[0].body?.timeout), '5');
    assert.equal(guest(111).status, 'stopped');
  });

  test('stop_container graceful on a container that ignores it: shutdown job fails at the timeout, a hard-stop job follows', async () => {
    h.sim.cluster.setIgnoresShutdown(105, true);
    try {
      const seq = lastSeq();
      const r = await ok('stop_container', { selector: 'pve3:105', timeout_seconds: 1, wait: true });
      const [item] = r.results;
      assert.equal(item.ok, true, JSON.stringify(item));
      assert.equal(item.message, 'did not shut down within 1 s; stopped hard');
      assert.equal(item.jobs.length, 2);
      assert.equal(item.jobs[0].status, 'failed');
      assert.equal(item.jobs[0].last_error, 'container did not stop');
      assert.equal(item.jobs[1].status, 'completed');
      assert.equal(item.jobs[1].metadata.after_shutdown_job_id, item.jobs[0].job_id);
      assert.equal(item.job_id, item.jobs[1].job_id);
      assert.deepEqual(
        mutations(seq).map((m) => m.path),
        ['/nodes/pve3/lxc/105/status/shutdown', '/nodes/pve3/lxc/105/status/stop'],
      );
      assert.equal(guest(105).status, 'stopped');
    } finally {
      h.sim.cluster.setIgnoresShutdown(105, false);
    }
  });

  test('stop_container with force_after_timeout: false leaves it running and says so (REST)', async () => {
    h.sim.cluster.setIgnoresShutdown(107, true);
    try {
      const res = await request(h.url)
        .post('/containers/stop')
        .set(h.auth)
        .send({ selector: '107', timeout_seconds: 1, force_after_timeout: false })
        .expect(409);
      assert.equal(res.body.code, 'CONFLICT');
      assert.match(
        res.body.message,
        /did not shut down within 1 s \(container did not stop\); force_after_timeout is false/,
      );
      assert.equal(guest(107).status, 'running');
    } finally {
      h.sim.cluster.setIgnoresShutdown(107, false);
    }
  });

  test('restart_container honours timeout_seconds (sent to PVE as the reboot timeout); REST route', async () => {
    const seq = lastSeq();
    const res = await request(h.url)
      .post('/containers/restart')
      .set(h.auth)
      .send({ selector: '107', timeout_seconds: 42, wait: true })
      .expect(202);
    assert.equal(res.body.results[0].job.status, 'completed');
    const sent = mutations(seq);
    assert.deepEqual(
      sent.map((m) => m.path),
      ['/nodes/pve2/lxc/107/status/reboot'],
    );
    assert.equal(String(sent[0].body?.timeout), '42');
    await fails('restart_container', { selector: '109' }, 'CONFLICT', /is not running/);
  });

  // ------------------------------------------------------------------------------------------------ update

  test('update_container_resources: cores/memory/swap in one PUT with the digest, disk growth as a resize job', async () => {
    const seq = lastSeq();
    const before = guest(103).diskBytes;
    const r = await ok('update_container_resources', {
      selector: '103',
      cores: 2,
      memory: 768,
      swap: 0,
      disk_gb: 2,
      wait: true,
    });
    const [item] = r.results;
    assert.equal(item.message, 'cores=2, memory=768MiB, swap=0MiB, rootfs+=2G');
    assert.equal(item.job.status, 'completed');
    assert.match(item.task_id, /:resize:103:/);
    const [put, resize] = mutations(seq);
    assert.equal(put.path, '/nodes/pve1/lxc/103/config');
    assert.match(String(put.body?.digest), /^[0-9a-f]{40}$/);
    assert.deepEqual([put.body?.cores, put.body?.memory, put.body?.swap].map(String), ['2', '768', '0']);
    assert.equal(resize.path, '/nodes/pve1/lxc/103/resize');
    assert.deepEqual([resize.body?.disk, resize.body?.size], ['rootfs', '+2G']);
    assert.equal(guest(103).config.memory, 768);
    assert.equal(guest(103).diskBytes, before + 2 * 1024 ** 3);

    await fails('update_container_resources', { selector: '103' }, 'VALIDATION', /Nothing to change/);
    await fails(
      'update_container_resources',
      { selector: '103', disk_gb: 1, disk: 'mp5' },
      'VALIDATION',
      /has no disk 'mp5'/,
    );
    const rest = await request(h.url)
      .put('/containers/resources')
      .set(h.auth)
      .send({ selector: '103', cores: 1 })
      .expect(200);
    assert.equal(rest.body.results[0].message, 'cores=1');
  });

  // ------------------------------------------------------------------------------------------------ delete

  test('delete_container: running refused; force stops first, waits for the stop job, then deletes', async () => {
    const running = 101;
    await fails(
      'delete_container',
      { selector: String(running) },
      'CONFLICT',
      /is running; a running container is not deleted/,
    );
    const seq = lastSeq();
    const r = await ok('delete_container', {
      selector: String(running),
      force: true,
      purge: true,
      wait: true,
    });
    const [item] = r.results;
    assert.equal(item.message, 'stopped, then delete sent');
    assert.deepEqual(
      item.jobs.map((j: any) => [j.tool_name, j.status]),
      [
        ['stop_container', 'completed'],
        ['delete_container', 'completed'],
      ],
    );
    const sent = mutations(seq);
    assert.deepEqual(
      sent.map((m) => `${m.method} ${m.path}`),
      [`POST /nodes/pve2/lxc/${running}/status/stop`, `DELETE /nodes/pve2/lxc/${running}`],
    );
    assert.deepEqual(sent[1].query, { purge: '1', 'destroy-unreferenced-disks': '0' });
    assert.equal(h.sim.cluster.guest(running), undefined);
  });

  test('delete_container: protection is refused before anything is sent; REST DELETE with the selector in the query', async () => {
    guest(109).config.protection = 1;
    const seq = lastSeq();
    await fails('delete_container', { selector: '109' }, 'CONFLICT', /protected \(protection=1\)/);
    assert.deepEqual(mutations(seq), []);
    delete guest(109).config.protection;
    const res = await request(h.url)
      .delete('/containers')
      .query({ selector: 'pve1:109', wait: 'true' })
      .set(h.auth)
      .expect(202);
    assert.equal(res.body.results[0].job.status, 'completed');
    assert.equal(h.sim.cluster.guest(109), undefined);
  });

  // ------------------------------------------------------------------------------------------------- exec

  test('execute_container_command: argv over SSH as `sudo -n pct exec <vmid> -- …`, every argument quoted', async () => {
    const before = fake.records.length;
    const r = await ok('execute_container_command', { selector: '103', command: ['uname', '-a'] });
    assert.equal(r.success, true);
    assert.equal(r.exit_code, 0);
    assert.match(r.stdout, /^Linux ct-103 /);
    assert.equal(fake.records.length, before + 1);
    const record = fake.lastRecord()!;
    assert.equal(record.node, 'pve1');
    assert.equal(
      record.commandLine,
      "timeout --kill-after=5s 30s sudo -n /usr/sbin/pct exec 103 -- 'uname' '-a'",
    );
  });

  test('execute_container_command: one string is split by POSIX word rules (the rule execute_vm_command uses)', async () => {
    const r = await ok('execute_container_command', { selector: '103', command: "echo 'a  b' c\\ d" });
    assert.equal(r.stdout, 'a  b c d\n');
    assert.deepEqual(fake.lastRecord()!.argv, ['echo', 'a  b', 'c d']);
    const before = fake.records.length;
    const refusal = await fails(
      'execute_container_command',
      { selector: '103', command: 'ls /etc | wc -l' },
      'POLICY_DENIED',
      /shell syntax: \| \(pipe\).*pass shell: true.*argv array/s,
    );
    assert.ok(!refusal.includes('/etc'), 'the refusal does not echo the command');
    assert.equal(fake.records.length, before, 'a refused command never reaches the node');
    const piped = await ok('execute_container_command', {
      selector: '103',
      command: 'ls /etc | wc -l',
      shell: true,
    });
    assert.deepEqual(fake.lastRecord()!.argv, ['/bin/sh', '-c', 'ls /etc | wc -l']);
    assert.equal(piped.success, true);
  });

  test('table E1/E2: payloads reach the container as literal arguments; options cannot reach pct', async () => {
    // argv elements with shell syntax are refused by the policy in argv mode (they need shell: true, next test);
    // every other hostile argument (quotes, $HOME, globs, ~, #, empty, unicode, --help, -rf) arrives as is
    const syntax = /[;&|`<>\n\r]|\$[({]/;
    const safe = ['echo', ...INJECTION_PAYLOADS.filter((a) => !syntax.test(a)), '--help', '-rf'];
    const before = fake.records.length;
    await fails(
      'execute_container_command',
      { selector: '103', command: ['echo', '; rm -rf /'] },
      'POLICY_DENIED',
      /shell syntax \(;\)/,
    );
    assert.equal(fake.records.length, before, 'a refused command never reaches the node');
    const r = await ok('execute_container_command', { selector: '103', command: safe });
    assert.equal(r.stdout, `${safe.slice(1).join(' ')}\n`);
    const record = fake.lastRecord()!;
    assert.equal(record.injection, undefined, 'the node saw no unquoted shell syntax');
    assert.deepEqual(record.argv, safe, 'the node split the line into exactly our argv');
    assert.ok(
      record.commandLine.endsWith(` -- ${safe.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}`),
    );
  });

  test('table E1 in shell mode: one script reaches /bin/sh -c as a single literal operand', async () => {
    for (const payload of INJECTION_PAYLOADS.filter((p) => p.trim())) {
      const script = `echo start ${payload}`;
      const r = await ok('execute_container_command', { selector: '103', command: script, shell: true });
      assert.equal(r.stdout, `sh -c received: ${script}\n`);
      const record = fake.lastRecord()!;
      assert.equal(record.injection, undefined);
      assert.deepEqual(record.argv, ['/bin/sh', '-c', script]);
    }
  });

  test('E3/E4: a NUL byte and a vmid with a payload are refused before SSH', async () => {
    const before = fake.records.length;
    await fails(
      'execute_container_command',
      { selector: '103', command: ['echo', 'a\u0000b'] },
      'VALIDATION',
      /NUL byte/,
    );
    await fails(
      'execute_container_command',
      { selector: '103; reboot', command: ['id'] },
      'VALIDATION',
      /not a container name/,
    );
    await fails(
      'update_container_ssh_keys',
      { node: 'pve1', vmid: '103; reboot', public_keys: KEY_A },
      'VALIDATION',
      /vmid/,
    );
    assert.equal(fake.records.length, before);
  });

  test('E10: non-zero exit with stderr only: success false, exit code and stderr kept (REST)', async () => {
    const res = await request(h.url)
      .post('/containers/exec')
      .set(h.auth)
      .send({ selector: '103', command: ['ls', '/nope'] })
      .expect(200);
    assert.deepEqual([res.body.success, res.body.exit_code, res.body.stdout], [false, 2, '']);
    assert.match(res.body.stderr, /No such file or directory/);
  });

  test('E8: a command that never ends is killed at timeout_seconds: timed_out, no exit code', async () => {
    const r = await ok('execute_container_command', {
      selector: '103',
      command: ['sleep', '1e9'],
      timeout_seconds: 1,
    });
    assert.deepEqual([r.timed_out, r.success, r.exit_code], [true, false, null]);
    assert.match(fake.lastRecord()!.commandLine, /^timeout --kill-after=5s 1s /);
  });

  test('E9: output over the cap is cut and flagged, with the real byte count', async () => {
    const total = 5 * 1024 * 1024;
    const r = await ok('execute_container_command', {
      selector: '103',
      command: ['head', '-c', String(total), '/dev/zero'],
      max_output_bytes: 4096,
    });
    assert.equal(r.stdout.length, 4096);
    assert.deepEqual([r.stdout_truncated, r.stdout_bytes, r.output_limit_bytes], [true, total, 4096]);
    assert.match(
      resultText(
        await call('execute_container_command', {
          selector: '103',
          command: ['head', '-c', '8192', '/dev/zero'],
          max_output_bytes: 1024,
        }),
      ),
      /Output \(truncated to 1024 of 8192 bytes\)/,
    );
  });

  test('E13: a stopped container is CONFLICT from the precheck, no SSH; several matches are refused', async () => {
    await ok('stop_container', { selector: '103', graceful: false, wait: true });
    const before = fake.records.length;
    await fails(
      'execute_container_command',
      { selector: '103', command: ['id'] },
      'CONFLICT',
      /CT 103 .* is not running .*start_container/s,
    );
    assert.equal(fake.records.length, before);
    await fails(
      'execute_container_command',
      { selector: '105,111', command: ['id'] },
      'VALIDATION',
      /matched 2 containers; .*exactly one/,
    );
    await ok('start_container', { selector: '103', wait: true });
  });

  test('a container that stops between the precheck and pct: the node says "CT 103 not running" (255) → CONFLICT', async () => {
    // the node's view changes, the API's does not: the race the precheck cannot close
    const status = fake.options.containerStatus;
    fake.options.containerStatus = () => 'stopped';
    try {
      await fails(
        'execute_container_command',
        { selector: '103', command: ['id'] },
        'CONFLICT',
        /is not running/,
      );
    } finally {
      fake.options.containerStatus = status;
    }
  });

  test('E14: sudo without a NOPASSWD rule fails at once with what to configure (sudo -n never prompts)', async () => {
    fake.options.sudoNeedsPassword = true;
    try {
      await fails(
        'execute_container_command',
        { selector: '103', command: ['id'] },
        'UPSTREAM_FORBIDDEN',
        /sudo on node pve1 refused[\s\S]*runs \/usr\/sbin\/pct exec \* as root with the NOPASSWD tag/,
      );
    } finally {
      fake.options.sudoNeedsPassword = false;
    }
  });

  // -------------------------------------------------------------------------------------------- ssh keys

  test('update_container_ssh_keys: keys travel on stdin (not the command line); append is idempotent; replace rewrites', async () => {
    const first = await ok('update_container_ssh_keys', { node: 'pve1', vmid: 103, public_keys: KEY_A });
    assert.deepEqual([first.keys_added, first.keys_total, first.mode], [1, 1, 'append']);
    const record = fake.lastRecord()!;
    assert.deepEqual(record.argv?.slice(0, 2), ['/bin/sh', '-c']);
    assert.ok(!record.commandLine.includes('AAAAC3Nza'), 'no key in the command line');
    assert.equal(record.stdin.toString(), `${KEY_A}\n`);

    const second = await ok('update_container_ssh_keys', {
      node: 'pve1',
      vmid: 103,
      public_keys: `${KEY_A}\n${KEY_B}`,
    });
    assert.deepEqual([second.keys_added, second.keys_total], [1, 2]);
    assert.equal(fake.authorizedKeys(103), `${KEY_A}\n${KEY_B}\n`);

    const res = await request(h.url)
      .put('/nodes/pve1/containers/103/ssh-keys')
      .set(h.auth)
      .send({ public_keys: [KEY_B], mode: 'replace' })
      .expect(200);
    assert.deepEqual([res.body.keys_added, res.body.keys_total], [1, 1]);
    assert.equal(fake.authorizedKeys(103), `${KEY_B}\n`);
  });

  test('update_container_ssh_keys: keys are checked as OpenSSH public keys (a private key, a broken blob)', async () => {
    const before = fake.records.length;
    await fails(
      'update_container_ssh_keys',
      { node: 'pve1', vmid: 103, public_keys: '-----BEGIN OPENSSH PRIVATE KEY-----' },
      'VALIDATION',
    );
    const broken = KEY_A.replace('AAAAC3NzaC1lZDI1NTE5', 'AAAAB3NzaC1yc2EAAAAD');
    await fails(
      'update_container_ssh_keys',
      { node: 'pve1', vmid: 103, public_keys: broken },
      'VALIDATION',
      /line 1 is not an OpenSSH public key: the key data is not a ssh-ed25519 key/,
    );
    await fails(
      'update_container_ssh_keys',
      { node: 'pve1', vmid: 109, public_keys: KEY_A },
      'NOT_FOUND',
      /Container 109 not found on node pve1/,
    );
    assert.equal(fake.records.length, before);
  });
});

/**
 * The failures that happen before any command runs: an untrusted host key, a refused login, and the command policy
 * (deny_all, the default) for both SSH tools.
 */
describe('container SSH tools: host keys, login and the command policy', () => {
  let h: Harness;
  let fake: FakeNodes;
  let mcp: Client;
  let sim: PveSimulator | undefined;
  const { call } = toolCalls(() => mcp);

  before(async () => {
    fake = await FakeNodes.start({
      nodes: ['pve1', 'pve2', 'pve3'],
      containerStatus: containerStatusFrom(() => sim),
    });
    h = await startHarness({ nodes: 3, guests: 12, taskSeconds: 0 }, (s) => {
      sim = s;
      return testConfig([simulatorTargetConfig(s)], {
        // deny_all except `id` and the ssh-keys pseudo-command in append mode
        commandPolicy: {
          ...testConfig([]).commandPolicy,
          allowPatterns: ['id', 'update_container_ssh_keys append'],
        },
        ssh: fake.sshConfig({
          useSudo: false,
          // pve2: another node's key pinned; pve3: no pin and no known_hosts → unknown; pve1 right
          hostKeyFingerprints: { pve1: fake.fingerprint('pve1'), pve2: fake.fingerprint('pve3') },
        }),
      });
    });
    mcp = await h.mcp();
    await mcp.listTools();
  });
  after(async () => {
    await h.close();
    await fake.close();
  });

  test('E11: an unknown host key is refused before login, naming the fingerprint seen; a wrong pin names both', async () => {
    const unknown = await call('execute_container_command', { selector: '105', command: ['id'] });
    assert.equal(unknown.isError, true);
    assert.match(
      resultText(unknown),
      /^UPSTREAM_TLS: The SSH host key of node pve3 .* is not trusted: the node presented SHA256:/,
    );
    assert.ok(resultText(unknown).includes(fake.fingerprint('pve3')));
    const pinned = await call('execute_container_command', { selector: '101', command: ['id'] });
    assert.match(
      resultText(pinned),
      /^UPSTREAM_TLS: .*does not match ssh\.host_key_fingerprints\.pve2: expected SHA256:/,
    );
    assert.equal(fake.records.length, 0, 'no command reached any node');
  });

  test('E12: a refused login is UPSTREAM_AUTH without the password; an unreachable node UPSTREAM_UNAVAILABLE', async () => {
    // same seed as the main harness of this suite, so the fake node's view of the containers still fits
    const h2 = await startHarness({ nodes: 3, guests: 12, taskSeconds: 0 }, (s) =>
      testConfig([simulatorTargetConfig(s)], {
        commandPolicy: { ...testConfig([]).commandPolicy, allowPatterns: ['id'] },
        ssh: fake.sshConfig({
          password: 'wrong-pass-1234',
          useSudo: false,
          hostOverrides: { ...fake.hostOverrides(), pve3: '127.0.0.250' },
        }),
      }),
    );
    try {
      const r = await request(h2.url)
        .post('/containers/exec')
        .set(h2.auth)
        .send({ selector: '101', command: ['id'] })
        .expect(502);
      assert.equal(r.body.code, 'UPSTREAM_AUTH');
      assert.match(r.body.message, /SSH login to node pve2 \(mcp-agent@127\.0\.0\.2:\d+\) was refused/);
      assert.ok(!JSON.stringify(r.body).includes('wrong-pass-1234'));
      const down = await request(h2.url)
        .post('/containers/exec')
        .set(h2.auth)
        .send({ selector: '105', command: ['id'] });
      assert.equal(down.body.code, 'UPSTREAM_UNAVAILABLE', JSON.stringify(down.body));
      assert.match(down.body.message, /Cannot reach node pve3 .* over SSH: connection refused/);
    } finally {
      await h2.close();
    }
  });

  test('the command policy judges execute_container_command (guard) and update_container_ssh_keys (pseudo-command)', async () => {
    const denied = await call('execute_container_command', { selector: '103', command: ['uname', '-a'] });
    assert.match(resultText(denied), /^POLICY_DENIED: Command not allowlisted by policy/);
    const shell = await call('execute_container_command', {
      selector: '103',
      command: 'id; reboot',
      shell: true,
    });
    assert.match(resultText(shell), /^POLICY_DENIED: Shell commands are not allowed by policy/);
    const replace = await call('update_container_ssh_keys', {
      node: 'pve1',
      vmid: 103,
      public_keys: KEY_A,
      mode: 'replace',
    });
    assert.match(
      resultText(replace),
      /^POLICY_DENIED: Command not allowlisted by policy[\s\S]*"update_container_ssh_keys replace"/,
    );
    assert.equal(fake.records.length, 0);
    // allowed: `id` and the append form reach pve1 (right pin), after the precheck starts nothing
    await request(h.url)
      .post('/containers/start')
      .set(h.auth)
      .send({ selector: '103', wait: true })
      .expect(202);
    const id = await call('execute_container_command', { selector: '103', command: ['id'] });
    assert.equal(id.isError, undefined, resultText(id));
    const append = await call('update_container_ssh_keys', { node: 'pve1', vmid: 103, public_keys: KEY_A });
    assert.equal(append.isError, undefined, resultText(append));
    assert.equal(append.structuredContent.keys_added, 1);
  });
});

describe('delete_container needs an operator approval when high_risk_mode is enforce', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({ nodes: 3, guests: 12, taskSeconds: 0 }, (s) =>
      withOperator(testConfig([simulatorTargetConfig(s)]), { highRiskMode: 'enforce' }),
    );
  });
  after(() => h.close());

  test('APPROVAL_REQUIRED without a token; the approved identical call deletes', async () => {
    const first = await request(h.url).delete('/containers').query({ selector: '109' }).set(h.auth);
    assert.equal(first.body.code, 'APPROVAL_REQUIRED', JSON.stringify(first.body));
    assert.ok(h.sim.cluster.guest(109), 'nothing was deleted');
    const id = String(first.body.details?.request_id);
    const granted = await request(h.url)
      .post(`/approvals/${id}`)
      .set({ authorization: `Bearer ${OPERATOR_KEY}` })
      .expect(200);
    const seq = h.sim.requests.at(-1)?.seq ?? 0;
    const second = await request(h.url)
      .delete('/containers')
      .query({ selector: '109' })
      .set({ ...h.auth, 'x-approval-token': granted.body.approval_token })
      .expect(202);
    assert.equal(second.body.results[0].ok, true, JSON.stringify(second.body));
    assert.deepEqual(
      h.sim.requests.filter((r) => r.seq > seq && r.method === 'DELETE').map((r) => r.path),
      ['/nodes/pve1/lxc/109'],
    );
  });
});
