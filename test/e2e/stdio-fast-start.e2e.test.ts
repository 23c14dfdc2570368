import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { simulatorTargetEnv } from '../../src/simulator/index.js';
import { SCHEMA_PATH, startHarness, type Harness } from '../helpers/test-app.js';
import { resultText, type ToolResult } from '../helpers/tools.js';

// `proxmox-mcp-plus stdio` answers initialize and tools/list from the build-time manifest before the
// application is loaded (src/cli/stdio.command.ts); everything else goes through the application. What an MCP
// client sees must not depend on that: the same tools as the HTTP server lists, and the same calls.

describe('stdio fast start', () => {
  let h: Harness;
  let http: Client;
  let dir: string;

  before(async () => {
    h = await startHarness();
    http = await h.mcp();
    dir = mkdtempSync(join(tmpdir(), 'pmp-stdio-'));
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stdioEnv = (): Record<string, string> => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    PVE_API_SCHEMA: SCHEMA_PATH,
    ...simulatorTargetEnv(h.sim),
    PROXMOX_JOBS_SQLITE_PATH: join(dir, 'jobs.sqlite3'),
    LOG_LEVEL: 'error',
  });

  async function stdioClient(extraEnv: Record<string, string> = {}): Promise<Client> {
    const client = new Client({ name: 'stdio-fast-start', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['bin/proxmox-mcp-plus.js', 'stdio'],
        env: { ...stdioEnv(), ...extraEnv },
        stderr: 'pipe',
      }),
    );
    return client;
  }

  test('initialize and tools/list match the HTTP server; calls, jobs and errors go through the application', async () => {
    const client = await stdioClient();
    try {
      assert.deepEqual(client.getServerVersion(), http.getServerVersion());
      assert.equal(client.getInstructions(), http.getInstructions());
      assert.deepEqual(client.getServerCapabilities(), http.getServerCapabilities());
      const { tools } = await client.listTools();
      assert.deepEqual(tools, (await http.listTools()).tools, 'the admin key sees what the stdio user sees');
      await client.ping();
      await client.setLoggingLevel('warning');

      const call = async (name: string, args: Record<string, unknown>) =>
        (await client.callTool({ name, arguments: args })) as ToolResult;
      const nodes = await call('get_nodes', {});
      assert.equal(nodes.isError, undefined, resultText(nodes));
      assert.ok(nodes.structuredContent.nodes.length >= 1);

      const vms = (await call('get_vms', {})).structuredContent.vms as Array<{
        vmid: number;
        node: string;
        status: string;
      }>;
      const stopped = vms.find((v) => v.status === 'stopped');
      assert.ok(stopped, 'the simulator has a stopped VM');
      const started = await call('start_vm', { node: stopped.node, vmid: String(stopped.vmid), wait: true });
      assert.equal(started.isError, undefined, resultText(started));
      const job = started.structuredContent as { job_id: string; status: string; task_id: string };
      assert.equal(job.status, 'completed');
      const recorded = await call('get_job', { job_id: job.job_id });
      assert.equal(recorded.structuredContent.task_id, job.task_id, 'the job is in the job store');
      assert.equal(h.sim.cluster.guest(stopped.vmid)?.status, 'running');

      // an error result has the same shape (and text) over stdio and HTTP
      const missing = { node: stopped.node, vmid: '999999' };
      const overStdio = await call('get_vm_config', missing);
      const overHttp = (await http.callTool({ name: 'get_vm_config', arguments: missing })) as ToolResult;
      assert.equal(overStdio.isError, true);
      assert.deepEqual(overStdio, overHttp);
      await assert.rejects(call('no_such_tool', {}), /Unknown tool/);
      // a malformed tools/call is -32602 naming the field over stdio too (the same request schema as HTTP)
      await assert.rejects(
        client.request(
          { method: 'tools/call', params: { name: 'get_vms', arguments: ['node'] } },
          CallToolResultSchema,
        ),
        (e: McpError) =>
          e.code === ErrorCode.InvalidParams && /params\.arguments must be an object/.test(e.message),
      );
    } finally {
      await client.close();
    }
  });

  test('MCP_TOOL_DENYLIST hides a tool from the first tools/list, and calling it is refused', async () => {
    const client = await stdioClient({ MCP_TOOL_DENYLIST: 'start_vm' });
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      const httpNames = (await http.listTools()).tools.map((t) => t.name);
      assert.deepEqual(
        names,
        httpNames.filter((n) => n !== 'start_vm'),
      );
      const refused = (await client.callTool({
        name: 'start_vm',
        arguments: { node: 'pve1', vmid: '100' },
      })) as ToolResult;
      assert.equal(refused.isError, true);
      assert.match(resultText(refused), /^FORBIDDEN: .*mcp.tool_denylist/);
    } finally {
      await client.close();
    }
  });

  test('a target whose certificate is not trusted: stderr says why, with the fingerprint to pin, and the process exits 2', async () => {
    // stdin stays open, as under an MCP client: the process must end on its own and say why on stderr
    const child = spawn(process.execPath, ['bin/proxmox-mcp-plus.js', 'stdio'], {
      env: { ...stdioEnv(), PROXMOX_FINGERPRINT: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    clearTimeout(timer);
    assert.equal(status, 2, stderr);
    assert.match(
      stderr,
      /proxmox-mcp-plus stdio: TLS to Proxmox cannot work: target 'default': TLS check failed/,
    );
    assert.ok(stderr.includes(`the server presented SHA-256 ${h.sim.fingerprint}`), stderr);
    assert.ok(stderr.includes(`PROXMOX_FINGERPRINT=${h.sim.fingerprint}`), stderr);
    assert.ok(stderr.includes(`"proxmox": { "fingerprint": "${h.sim.fingerprint}" }`), stderr);
  });

  test('an invalid configuration: the reason on stderr before exit 2 (verify_ssl=false next to a fingerprint)', () => {
    const run = spawnSync(process.execPath, ['bin/proxmox-mcp-plus.js', 'stdio'], {
      env: { ...stdioEnv(), PROXMOX_VERIFY_SSL: 'false' },
      input: '',
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 2, run.stderr);
    assert.match(
      run.stderr,
      /PROXMOX_VERIFY_SSL=false turns certificate checks off, but PROXMOX_FINGERPRINT pins/,
    );
    assert.equal(run.stdout, '');
  });

  test('an unknown tool name in the denylist exits 2 naming it, before anything is served', () => {
    const run = spawnSync(process.execPath, ['bin/proxmox-mcp-plus.js', 'stdio'], {
      env: { ...stdioEnv(), MCP_TOOL_DENYLIST: 'no_such_tool' },
      input: '',
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /mcp\.tool_denylist: unknown tool no_such_tool; this server has: .*get_vms/);
    assert.equal(run.stdout, '');
  });
});
