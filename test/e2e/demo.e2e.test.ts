import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SCHEMA_PATH } from '../helpers/test-app.js';
import { readSnippets, runShell } from '../helpers/doc-shell.js';
import { type ToolResult, resultText as text } from '../helpers/tools.js';

/**
 * `proxmox-mcp-plus demo` as a user runs it: the real process, its banner, an MCP SDK client over HTTP, the
 * approve command exactly as the banner prints it, and the folders it leaves (or not) behind.
 */

const BIN = 'bin/proxmox-mcp-plus.js';
const START_TIMEOUT_MS = 40_000;

interface Demo {
  child: ChildProcess;
  /** TMPDIR of the process: the demo's temporary folder is made in here. */
  tmp: string;
  /** XDG_RUNTIME_DIR of the process: where the pointer for `approve --demo` goes. */
  runtime: string;
  env: Record<string, string>;
  stdout(): string;
  output(): string;
  exited: Promise<number | null>;
}

const demos: Demo[] = [];
process.once('exit', () => demos.forEach((d) => d.child.kill('SIGKILL')));

/** A fresh TMPDIR and XDG_RUNTIME_DIR per demo, so what it leaves behind can be seen. */
function launch(args: string[], extraEnv: Record<string, string> = {}): Demo {
  const tmp = mkdtempSync(join(tmpdir(), 'pmp-demo-test-tmp-'));
  const runtime = mkdtempSync(join(tmpdir(), 'pmp-demo-test-run-'));
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    PVE_API_SCHEMA: SCHEMA_PATH,
    LOG_LEVEL: 'error',
    TMPDIR: tmp,
    XDG_RUNTIME_DIR: runtime,
    ...extraEnv,
  };
  const child = spawn(process.execPath, [BIN, 'demo', ...args], { env });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const demo: Demo = { child, tmp, runtime, env, stdout: () => out, output: () => `${out}\n${err}`, exited };
  demos.push(demo);
  return demo;
}

interface Banner {
  url: string;
  apiKey: string;
  operatorKey: string;
  jobStore: string;
  listCommand: string;
  approveCommand: string;
}

async function startDemo(args = ['--port', '0'], env: Record<string, string> = {}): Promise<Demo & Banner> {
  const demo = launch(args, env);
  await waitForBanner(demo);
  const field = (re: RegExp) => {
    const m = re.exec(demo.stdout());
    assert.ok(m, `${String(re)} in the banner:\n${demo.stdout()}`);
    return m[1].trim();
  };
  return {
    ...demo,
    url: field(/MCP \(Streamable HTTP\):\s+(http:\/\/\S+)\/mcp/),
    apiKey: field(/API key:\s+(\S+)/),
    operatorKey: field(/Operator key:\s+(\S+)/),
    jobStore: field(/Job store:\s+(\S+)/),
    listCommand: field(/List:\s+(.+)$/m),
    approveCommand: field(/Approve:\s+(.+)$/m),
  };
}

async function stop(demo: Demo, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (demo.child.exitCode === null) demo.child.kill(signal);
  return demo.exited;
}

function cleanUp(demo: Demo): void {
  rmSync(demo.tmp, { recursive: true, force: true });
  rmSync(demo.runtime, { recursive: true, force: true });
}

/** Runs a command line the banner printed, as a user would paste it (words split on spaces; no quoting needed). */
function runPrinted(demo: Demo, line: string) {
  const [program, ...args] = line.split(/\s+/);
  assert.equal(program, 'node', `the banner names how this demo was started: ${line}`);
  return spawnSync(process.execPath, args, { env: demo.env, encoding: 'utf8', timeout: 30_000 });
}

async function mcpClient(url: string, key: string): Promise<Client> {
  const client = new Client({ name: 'demo-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

const call = async (client: Client, name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as ToolResult;

async function json(url: string, key: string, path: string, body?: object) {
  const res = await fetch(`${url}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('demo: approvals, container commands, the environment, cleanup', () => {
  let demo: Demo & Banner;
  let client: Client;

  before(async () => {
    demo = await startDemo();
    client = await mcpClient(demo.url, demo.apiKey);
  });
  after(async () => {
    await client?.close();
    if (demo) {
      await stop(demo);
      cleanUp(demo);
    }
  });

  test('the banner shows an operator key, the job store and the approve commands for this demo', () => {
    assert.notEqual(demo.operatorKey, demo.apiKey);
    assert.ok(demo.jobStore.startsWith(join(demo.tmp, 'pmp-demo-')), demo.jobStore);
    assert.ok(existsSync(demo.jobStore));
    assert.equal(demo.listCommand, `node ${BIN} approve --demo --list`);
    assert.equal(demo.approveCommand, `node ${BIN} approve --demo <request-id>`);
    assert.match(
      demo.stdout(),
      /Simulated nodes' SSH:\s+root@127\.0\.0\.1:\d+ \(pct exec; host key SHA256:\S+ pinned\)/,
    );
  });

  test('a destroy call asks for approval; the printed command approves it; the repeated call runs', async () => {
    const vms = (await call(client, 'get_vms', {})).structuredContent.vms as Array<any>;
    const vm = vms.find((v) => v.status === 'stopped')!;
    const args = { node: vm.node, vmid: vm.vmid };
    const refused = await call(client, 'delete_vm', args);
    assert.equal(refused.isError, true);
    assert.match(text(refused), /APPROVAL_REQUIRED|requires an operator's approval/);
    const requestId = /Approval request ([0-9a-f-]{36})/.exec(text(refused))?.[1];
    assert.ok(requestId, text(refused));
    // the hint the agent relays names the command that works in the demo, as the banner prints it
    assert.ok(
      text(refused).includes(`${demo.approveCommand.replace(' <request-id>', '')} ${requestId}`),
      text(refused),
    );

    // the agent's own key cannot approve its request; the list command shows it
    assert.equal((await json(demo.url, demo.apiKey, `/approvals/${requestId}`, {})).status, 403);
    const list = runPrinted(demo, demo.listCommand);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`Request ${requestId} \\(pending\\)`));
    assert.match(list.stdout, /tool:\s+delete_vm/);
    assert.match(list.stdout, /requested by: demo-agent/);

    const approved = runPrinted(demo, demo.approveCommand.replace('<request-id>', requestId));
    assert.equal(approved.status, 0, approved.stderr);
    const token = /^(pmpa_\S+)$/m.exec(approved.stdout)?.[1];
    assert.ok(token, approved.stdout);

    const done = await call(client, 'delete_vm', { ...args, approval_token: token });
    assert.notEqual(done.isError, true, text(done));
    const job = await call(client, 'wait_job', {
      job_id: done.structuredContent.job_id,
      timeout_seconds: 30,
    });
    assert.equal(job.structuredContent.status, 'completed', JSON.stringify(job.structuredContent));
    const after = (await call(client, 'get_vms', {})).structuredContent.vms as Array<any>;
    assert.ok(!after.some((v) => v.vmid === vm.vmid), 'the VM is gone');
  });

  test('the operator key printed in the banner approves over HTTP', async () => {
    // a call that would be sent (the snapshot exists): only those reach an operator
    const snapshots = await call(client, 'delete_snapshot', {
      node: 'pve1',
      vmid: 100,
      snapname: 'after-upgrade',
    });
    const requestId = /Approval request ([0-9a-f-]{36})/.exec(text(snapshots))?.[1];
    assert.ok(requestId, text(snapshots));
    const granted = await json(demo.url, demo.operatorKey, `/approvals/${requestId}`, {});
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.match(granted.body.approval_token, /^pmpa_/);
    assert.equal(granted.body.requested_by, 'demo-agent');
  });

  test('execute_container_command runs over the simulated nodes’ SSH (host key pinned)', async () => {
    const cts = (await call(client, 'get_containers', {})).structuredContent.containers as Array<any>;
    const ct = cts.find((c) => c.status === 'running')!;
    const r = await call(client, 'execute_container_command', {
      selector: String(ct.vmid),
      command: ['uname', '-a'],
    });
    assert.notEqual(r.isError, true, text(r));
    assert.equal(r.structuredContent.exit_code, 0);
    assert.match(r.structuredContent.stdout, /^Linux \S+ \S+-pve /);
    const host = await call(client, 'execute_container_command', {
      selector: String(ct.vmid),
      command: ['hostname'],
    });
    assert.equal(host.structuredContent.stdout, `${ct.name}\n`);
    // the demo's allowlist lets only what the simulated containers answer run
    const other = await call(client, 'execute_container_command', {
      selector: String(ct.vmid),
      command: ['apt-get', 'update'],
    });
    assert.equal(other.isError, true);
    assert.match(text(other), /CMD_POLICY_NOT_ALLOWLISTED|allow/i);
    const stoppedCt = cts.find((c) => c.status === 'stopped');
    if (stoppedCt) {
      const refused = await call(client, 'execute_container_command', {
        selector: String(stoppedCt.vmid),
        command: ['id'],
      });
      assert.equal(refused.isError, true);
      assert.match(text(refused), /not running/);
    }
  });

  test('the pointer for approve --demo names this demo; SIGTERM removes it and the temporary folder', async () => {
    assert.deepEqual(readdirSync(demo.runtime), ['proxmox-mcp-plus-demo.json']);
    await client.close();
    assert.equal(await stop(demo, 'SIGTERM'), 0, demo.output());
    assert.deepEqual(readdirSync(demo.tmp), [], 'the temporary folder is gone');
    assert.deepEqual(readdirSync(demo.runtime), [], 'the pointer is gone');
    const after = runPrinted(demo, demo.listCommand);
    assert.equal(after.status, 2);
    assert.match(after.stderr, /no demo is running/);
  });
});

describe('demo: the first hour, as docs/examples/first-hour-in-the-demo.md tells it', () => {
  // The README's first command, followed literally: a fresh demo process with no config and no variables, the
  // keys read off its banner, and the walk-through's curl block run unchanged. The story is create VM (defaults)
  // → snapshot → rollback (approved) → backup → restore (approved) → container → command in the container → a
  // config edit and its revert.
  test('every step succeeds; the two approvals are asked for and granted with the operator key', async () => {
    const snippet = readSnippets('docs/examples/first-hour-in-the-demo.md').get(
      'example-first-hour-in-the-demo',
    );
    assert.ok(snippet, 'the walk-through has its curl block');
    const demo = await startDemo();
    try {
      const { runs, vars } = await runShell(snippet.body, {
        PMP: demo.url,
        KEY: demo.apiKey,
        OPERATOR_KEY: demo.operatorKey,
      });
      const approvals = runs.filter((r) => r.json?.code === 'APPROVAL_REQUIRED');
      assert.deepEqual(
        approvals.map((r) => r.status),
        [403, 403],
        'the rollback and the restore each ask once',
      );
      for (const run of runs) {
        if (run.json?.code === 'APPROVAL_REQUIRED') continue;
        assert.ok(run.status >= 200 && run.status < 300, `${run.command}\n→ ${run.status} ${run.body}`);
        if (run.json?.job_id) assert.equal(run.json.status, 'completed', `${run.command}\n→ ${run.body}`);
      }
      const [created] = runs.filter((r) => r.command.includes('/nodes/pve1/vms'));
      assert.equal(created.json.vmid, Number(vars.VMID), 'the new vmid at the top level of create_vm');
      const exec = runs.find((r) => r.command.includes('/containers/exec'))!;
      assert.equal(exec.json.exit_code, 0, exec.body);
      assert.match(exec.json.stdout, /^Linux first-hour-ct /, 'uname -a inside the new container');
      // the story ends with an undo: the copy's memory edit reverted from the change journal
      const revert = runs.at(-1)!;
      assert.match(revert.command, /\/changes\/\$CHANGE\/revert/, revert.command);
      assert.equal(revert.status, 200, revert.body);
    } finally {
      await stop(demo);
      cleanUp(demo);
    }
  });
});

describe('demo: settings it does not own come from the environment or the config file', () => {
  test('environment: a command policy deny pattern, the rate limit and MCP_PORT take effect; foreign keys and targets do not', async () => {
    const port = await freePort();
    // no --port: MCP_PORT decides; MCP_API_KEY, PROXMOX_HOST and the job store are the demo's own
    const fixed = launch([], {
      COMMAND_POLICY_DENY_PATTERNS: '["^uname"]',
      PROXMOX_RATE_LIMIT_RPM: '4',
      MCP_PORT: String(port),
      MCP_API_KEY: 'someone-elses-key-0123456789',
      PROXMOX_HOST: 'pve.example.invalid',
      PROXMOX_JOBS_SQLITE_PATH: '/nonexistent/jobs.sqlite3',
    });
    try {
      await waitForBanner(fixed);
      const url = `http://127.0.0.1:${port}`;
      assert.match(fixed.stdout(), new RegExp(`MCP \\(Streamable HTTP\\):\\s+${url}/mcp`));
      const key = /API key:\s+(\S+)/.exec(fixed.stdout())![1];
      assert.equal((await json(url, 'someone-elses-key-0123456789', '/vms')).status, 401);
      const ct = (await json(url, key, '/containers')).body.containers.find(
        (c: any) => c.status === 'running',
      );
      const denied = await json(url, key, '/execute_container_command', {
        selector: String(ct.vmid),
        command: ['uname', '-a'],
      });
      assert.equal(denied.status, 403, JSON.stringify(denied.body));
      assert.equal(denied.body.details.policy_code, 'CMD_POLICY_DENY_PATTERN');
      const allowed = await json(url, key, '/execute_container_command', {
        selector: String(ct.vmid),
        command: ['id'],
      });
      assert.ok([200, 201].includes(allowed.status), JSON.stringify(allowed.body));
      assert.equal(allowed.body.stdout, 'uid=0(root) gid=0(root) groups=0(root)\n');
      // 3 of the 4 tool calls a minute are used (a refused call counts too): the 4th passes, the 5th is refused
      assert.equal((await json(url, key, '/vms')).status, 200);
      const limited = await json(url, key, '/vms');
      assert.equal(limited.status, 429, JSON.stringify(limited.body));
      assert.equal(limited.body.code, 'RATE_LIMITED');
    } finally {
      await stop(fixed);
      cleanUp(fixed);
    }
  });

  test('config file: its policy and tool exposure apply, its targets, keys and job store are replaced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmp-demo-test-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        targets: {
          prod: {
            proxmox: { host: 'pve.example.invalid', port: 8006 },
            auth: { user: 'root@pam', token_name: 'mcp', token_value: 'not-the-simulator' },
          },
        },
        security: { api_keys: [{ name: 'ops', key: 'a-key-from-the-config-file-0123', scope: 'admin' }] },
        mcp: { tool_denylist: ['delete_vm'] },
        jobs: { sqlite_path: '/nonexistent/jobs.sqlite3' },
        command_policy: { mode: 'deny_all' },
      }),
    );
    // started through npx (npm sets npm_command): the banner prints the npx form of the approve commands
    const demo = await startDemo([], { PROXMOX_MCP_CONFIG: file, npm_command: 'exec' });
    assert.equal(demo.listCommand, 'npx proxmox-mcp-plus approve --demo --list');
    const client = await mcpClient(demo.url, demo.apiKey);
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'get_vms'));
      assert.ok(!tools.some((t) => t.name === 'delete_vm'), 'mcp.tool_denylist of the file applies');
      const vms = await call(client, 'get_vms', {});
      assert.notEqual(vms.isError, true, text(vms));
      assert.ok(demo.jobStore.startsWith(demo.tmp));
      assert.equal((await json(demo.url, 'a-key-from-the-config-file-0123', '/vms')).status, 401);
      const ct = (await call(client, 'get_containers', {})).structuredContent.containers.find(
        (c: any) => c.status === 'running',
      );
      const r = await call(client, 'execute_container_command', {
        selector: String(ct.vmid),
        command: ['id'],
      });
      assert.equal(r.isError, true);
      assert.match(text(r), /CMD_POLICY_NOT_ALLOWLISTED|allow/i);
    } finally {
      await client.close();
      await stop(demo);
      cleanUp(demo);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('demo: a failed start leaves nothing behind', () => {
  test('port in use: exit 1 with the reason, the temporary folder and the pointer are removed', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as AddressInfo).port;
    const demo = launch(['--port', String(port)]);
    try {
      assert.equal(await demo.exited, 1, demo.output());
      assert.match(demo.output(), /Cannot listen: .*EADDRINUSE/);
      assert.deepEqual(readdirSync(demo.tmp), [], 'no pmp-demo-* folder is left');
      assert.deepEqual(readdirSync(demo.runtime), [], 'no pointer is written');
    } finally {
      blocker.close();
      cleanUp(demo);
    }
  });
});

describe('demo: a signal while it starts', () => {
  test('SIGTERM after the temporary folder exists and before the banner: exit 0, nothing left behind', async () => {
    const demo = launch(['--port', '0']);
    try {
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (!readdirSync(demo.tmp).some((name) => name.startsWith('pmp-demo-'))) {
        assert.ok(Date.now() < deadline && demo.child.exitCode === null, demo.output());
        await new Promise((r) => setTimeout(r, 10));
      }
      demo.child.kill('SIGTERM');
      assert.equal(await demo.exited, 0, demo.output());
      assert.doesNotMatch(demo.stdout(), /Press Ctrl\+C/, 'stopped before it was ready');
      assert.deepEqual(readdirSync(demo.tmp), []);
      assert.deepEqual(readdirSync(demo.runtime), []);
    } finally {
      cleanUp(demo);
    }
  });
});

async function waitForBanner(demo: Demo): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!/Press Ctrl\+C to stop\./.test(demo.stdout())) {
    if (demo.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the demo did not start:\n${demo.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
