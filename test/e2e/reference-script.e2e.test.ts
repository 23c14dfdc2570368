import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { PveSimulator } from '../../src/simulator/index.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { SCHEMA_PATH } from '../helpers/test-app.js';
import { type ToolResult } from '../helpers/tools.js';

/**
 * A script written for ProxmoxMCP-Plus, run unchanged against this server (issue 20's "Done when"): the server is
 * started as a user starts it, from a config file in the reference's format and with the reference's policy
 * (high-risk tools enforced, no approval token required), and the script does what such scripts do:
 *
 *   create_vm → parse `Task ID:` / `Job ID:` from the text → poll GET /jobs/{id} → create_snapshot →
 *   rollback_snapshot (no token: the operator's policy says none is needed) → get_container_config as JSON →
 *   execute_container_command with a string command, its JSON text parsed.
 *
 * Only what the script reads from our answers is what the reference documents (texts and JSON keys); nothing of our
 * own structured content is used, so a change that breaks such scripts fails here.
 */

describe('a ProxmoxMCP-Plus script runs unchanged', () => {
  let sim: PveSimulator;
  let server: ServerProcess;
  let mcp: Client;

  before(async () => {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0, ssh: true });
    const ssh = sim.ssh!;
    const nodes = sim.cluster.nodes().map((n) => n.name);
    server = await startServerProcess({
      sim,
      // the reference's config keys, as its users have them (proxmox-config/config.json)
      extraConfig: {
        ssh: {
          user: ssh.user,
          port: ssh.port,
          password: ssh.password,
          host_overrides: Object.fromEntries(nodes.map((n) => [n, ssh.host])),
          use_sudo: false,
          strict_host_key_checking: true,
          host_key_fingerprints: Object.fromEntries(nodes.map((n) => [n, ssh.hostKeyFingerprint])),
        },
        command_policy: {
          mode: 'deny_all',
          allow_patterns: ['^uname( -a)?$', '^uptime$'],
          high_risk_mode: 'enforce',
          high_risk_require_approval_token: false,
        },
      },
    });
    mcp = new Client({ name: 'reference-script', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: { headers: server.auth },
      }),
    );
  });
  after(async () => {
    await mcp?.close();
    await server?.stop();
    await sim?.stop();
  });

  /** `session.call_tool(name, args)` and the first text item, as the reference's scripts read results. */
  const callText = async (name: string, args: Record<string, unknown>): Promise<string> => {
    const result = (await mcp.callTool({ name, arguments: args })) as ToolResult;
    const text = result.content[0]?.text ?? '';
    assert.notEqual(result.isError, true, `${name}: ${text}`);
    return text;
  };

  /** `re.search(r"Task ID:\s*(\S+)", text)` and the same for `Job ID`. */
  const taskAndJob = (text: string) => {
    const task = /Task ID:\s*(\S+)/.exec(text)?.[1];
    const job = /Job ID:\s*(\S+)/.exec(text)?.[1];
    assert.ok(task?.startsWith('UPID:'), `a Task ID line with the UPID in:\n${text}`);
    assert.ok(job, `a Job ID line in:\n${text}`);
    return { task, job };
  };

  /** Polls the reference's REST job route until the job has ended; returns its final status. */
  const pollJob = async (jobId: string): Promise<string> => {
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${server.url}/jobs/${jobId}`, { headers: server.auth });
      assert.equal(res.status, 200);
      const job = (await res.json()) as { status: string };
      if (['completed', 'failed', 'cancelled'].includes(job.status)) return job.status;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${jobId} did not end`);
  };

  test('create VM → Task ID → poll → snapshot → rollback → container config as JSON → command as a string', async () => {
    const vmid = String(Math.max(...[...sim.cluster.guests()].map((g) => g.vmid)) + 100);

    const created = taskAndJob(
      await callText('create_vm', {
        node: 'pve1',
        vmid,
        name: 'ref-script-vm',
        cpus: 1,
        memory: 2048,
        disk_size: 12,
      }),
    );
    assert.equal(await pollJob(created.job), 'completed');

    const snap = taskAndJob(
      await callText('create_snapshot', {
        node: 'pve1',
        vmid,
        snapname: 'pre-change',
        description: 'script',
      }),
    );
    assert.equal(await pollJob(snap.job), 'completed');

    // high_risk_mode enforce + high_risk_require_approval_token false: the operator chose to need no token
    const rollback = taskAndJob(
      await callText('rollback_snapshot', { node: 'pve1', vmid, snapname: 'pre-change' }),
    );
    assert.equal(await pollJob(rollback.job), 'completed');

    const ct = [...sim.cluster.guests()].find((g) => g.type === 'lxc' && g.status === 'running');
    assert.ok(ct, 'the seeded cluster has a running container');
    const config = JSON.parse(
      await callText('get_container_config', { node: ct.node, vmid: String(ct.vmid) }),
    ) as {
      vmid: unknown;
      hostname?: string;
    };
    assert.equal(String(config.vmid), String(ct.vmid));
    assert.equal(typeof config.hostname, 'string');

    const exec = JSON.parse(
      await callText('execute_container_command', { selector: `${ct.node}:${ct.vmid}`, command: 'uname -a' }),
    ) as { success: boolean; output: string; error: string; exit_code: number };
    assert.deepEqual(Object.keys(exec).sort(), ['error', 'exit_code', 'output', 'success']);
    assert.equal(exec.success, true, JSON.stringify(exec));
    assert.equal(exec.exit_code, 0);
    assert.match(exec.output, /^Linux /);
  });
});
