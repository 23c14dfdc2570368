import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { stdioToolsFromManifest } from '../../src/cli/stdio.command.js';
import { placeholderConfig } from '../../src/config/placeholder-config.js';
import { readServerInfo } from '../../src/mcp/server-info.js';
import { readToolManifest } from '../../src/mcp/tool-manifest.js';
import { PveSimulator, simulatorTargetConfig } from '../../src/simulator/index.js';
import { freePort, startServerProcess } from '../helpers/server-process.js';
import { API_KEY, SCHEMA_PATH, startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { type ToolResult } from '../helpers/tools.js';

/*
 * Issue 20, items 3, 6, 7 and 8: what a ProxmoxMCP-Plus user's configuration, start-up commands and health checks
 * meet on this server. Real processes (the built CLI) where start-up is the subject, the schema-checked simulator,
 * the MCP SDK client and plain HTTP.
 */

const BIN = 'bin/proxmox-mcp-plus.js';
const SSH_TOOLS = ['execute_container_command', 'update_container_ssh_keys'];
const textOf = (r: ToolResult) => r.content.map((c) => c.text ?? '').join('\n');

async function mcpClient(url: string, key: string): Promise<Client> {
  const client = new Client({ name: 'reference-compat', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

/** The simulator's VMs (deleted with force: a running one is stopped first). */
async function someVms(url: string, auth: Record<string, string>) {
  return (await request(url).get('/vms').set(auth).expect(200)).body.vms as Array<{
    node: string;
    vmid: number;
  }>;
}

describe('item 3: the operator explicitly waived high-risk approvals (reference config)', () => {
  let sim: PveSimulator;
  before(async () => {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, nodes: 1, guests: 8, taskSeconds: 0 });
  });
  after(async () => {
    assert.deepEqual(sim.schemaViolations(), [], 'only requests real PVE accepts');
    await sim.stop();
  });

  test('enforce + high_risk_require_approval_token false: delete_vm runs without a token over REST and MCP, warned loudly', async () => {
    const server = await startServerProcess({
      sim,
      extraConfig: {
        command_policy: { high_risk_mode: 'enforce', high_risk_require_approval_token: false },
      },
    });
    let client: Client | undefined;
    try {
      assert.match(server.output(), /high_risk_require_approval_token is false .*WITHOUT any approval/);
      const health = (await request(server.url).get('/health').set(server.auth)).body;
      assert.ok(
        health.security_warnings.some((w: string) => /high_risk_require_approval_token is false/.test(w)),
        JSON.stringify(health.security_warnings),
      );
      const [a, b] = await someVms(server.url, server.auth);
      assert.ok(a && b, 'two VMs in the simulator');
      const rest = await request(server.url)
        .delete(`/nodes/${a.node}/vms/${a.vmid}`)
        .query({ force: true })
        .set(server.auth);
      assert.equal(rest.status, 202, JSON.stringify(rest.body));
      client = await mcpClient(server.url, API_KEY);
      const viaMcp = (await client.callTool({
        name: 'delete_vm',
        arguments: { node: b.node, vmid: b.vmid, force: true },
      })) as ToolResult;
      assert.ok(!viaMcp.isError, textOf(viaMcp));
      assert.doesNotMatch(textOf(viaMcp), /approval/i);
      // each such call is still in the audit log, under its own action
      const events = (
        await request(server.url)
          .get('/audit/events')
          .set(server.auth)
          .query({ action: 'approval.waived_by_policy' })
      ).body;
      assert.equal(events.events?.length, 2, JSON.stringify(events));
    } finally {
      await client?.close();
      await server.stop();
    }
  });

  test('nothing configured: single-use approvals stay the default (delete_vm is refused with APPROVAL_REQUIRED)', async () => {
    const server = await startServerProcess({ sim });
    try {
      const [v] = await someVms(server.url, server.auth);
      const refused = await request(server.url)
        .delete(`/nodes/${v.node}/vms/${v.vmid}`)
        .query({ force: true })
        .set(server.auth);
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.equal(refused.body.details?.policy_code, 'OP_POLICY_APPROVAL_REQUIRED');
      const health = (await request(server.url).get('/health').set(server.auth)).body;
      assert.ok(!health.security_warnings.some((w: string) => /high_risk_require_approval_token/.test(w)));
    } finally {
      await server.stop();
    }
  });

  test('only both settings written out waive approvals; from the environment too', () => {
    const env = (extra: Record<string, string>) =>
      placeholderConfig(extra).commandPolicy.highRiskApprovalWaived === true;
    const both = {
      COMMAND_POLICY_HIGH_RISK_MODE: 'enforce',
      COMMAND_POLICY_HIGH_RISK_REQUIRE_APPROVAL_TOKEN: 'false',
    };
    assert.equal(env(both), true);
    assert.equal(env({ COMMAND_POLICY_HIGH_RISK_REQUIRE_APPROVAL_TOKEN: 'false' }), false);
    assert.equal(env({ COMMAND_POLICY_HIGH_RISK_MODE: 'enforce' }), false);
    assert.equal(env({ ...both, COMMAND_POLICY_HIGH_RISK_REQUIRE_APPROVAL_TOKEN: 'true' }), false);
  });

  test('doctor shows a WARN security row for the waiver', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmp-compat-doctor-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(
        file,
        JSON.stringify({
          proxmox: { host: sim.host, port: sim.port, fingerprint: sim.fingerprint },
          auth: { user: sim.token.user, token_name: sim.token.tokenName, token_value: sim.token.secret },
          jobs: { sqlite_path: join(dir, 'jobs.sqlite3') },
          command_policy: { high_risk_mode: 'enforce', high_risk_require_approval_token: false },
        }),
      );
      const r = await runCli(['doctor', '--json'], { PROXMOX_MCP_CONFIG: file, HOME: dir });
      const report = JSON.parse(r.stdout) as {
        rows: Array<{ check: string; status: string; message: string; fix?: string }>;
      };
      const row = report.rows.find((x) => x.check === 'security');
      assert.ok(row, r.stdout);
      assert.equal(row.status, 'warn');
      assert.match(row.message, /WITHOUT any approval/);
      assert.match(row.fix ?? '', /high_risk_require_approval_token/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("item 6: /health carries the reference's fields and warning texts", () => {
  let h: Harness;
  after(async () => h?.close());

  test('with a key and a rate limit: api_key_configured, strict_auth, rate_limit.requests_per_minute, jobs.enabled', async () => {
    h = await startHarness({}, (sim) => {
      const base = testConfig([simulatorTargetConfig(sim)]);
      return { ...base, http: { ...base.http, rateLimitRpm: 42 } };
    });
    const body = (await request(h.url).get('/health').set(h.auth).expect(200)).body;
    assert.equal(body.auth.api_key_configured, true);
    assert.equal(body.auth.strict_auth, true);
    assert.deepEqual(body.rate_limit, { enabled: true, requests_per_minute: 42 });
    assert.deepEqual(body.jobs, { enabled: true });
    assert.ok(!body.security_warnings.some((w: string) => /without PROXMOX_API_KEY/.test(w)));
    await h.close();
  });

  test("without a key (PROXMOX_ALLOW_NO_AUTH): the reference's warning texts", async () => {
    h = await startHarness({}, (sim) => {
      const base = testConfig([simulatorTargetConfig(sim)]);
      return { ...base, http: { ...base.http, apiKeys: [], allowNoAuth: true } };
    });
    const body = (await request(h.url).get('/health').expect(200)).body;
    assert.equal(body.auth.api_key_configured, false);
    assert.equal(body.auth.strict_auth, false);
    assert.deepEqual(body.rate_limit, { enabled: false, requests_per_minute: 0 });
    assert.ok(body.security_warnings.includes('OpenAPI proxy is running without PROXMOX_API_KEY.'));
    assert.ok(body.security_warnings.some((w: string) => w.startsWith('PROXMOX_ALLOW_NO_AUTH=true is set;')));
  });
});

/** Runs the built CLI to its end (or kills it after 20 s) and returns its exit code and output. */
async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  return { status, stdout, stderr };
}

describe('item 7: start-up as the reference started', () => {
  let sim: PveSimulator;
  let dir: string;
  let child: ChildProcess | undefined;
  before(async () => {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, nodes: 1, guests: 2, taskSeconds: 0 });
    dir = mkdtempSync(join(tmpdir(), 'pmp-compat-start-'));
  });
  after(async () => {
    child?.kill('SIGKILL');
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A config file for the simulator, without API keys, with `extra` merged at the top level. */
  const configFile = (extra: object = {}) => {
    const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        proxmox: { host: sim.host, port: sim.port, fingerprint: sim.fingerprint },
        auth: { user: sim.token.user, token_name: sim.token.tokenName, token_value: sim.token.secret },
        jobs: { sqlite_path: ':memory:' },
        ...extra,
      }),
    );
    return file;
  };

  test('serve --api-key KEY starts, and that key (only) is accepted', async () => {
    const key = 'cli-flag-key-0123456789abcdef';
    const port = await freePort();
    child = spawn(
      process.execPath,
      [BIN, 'serve', '--host', '127.0.0.1', '--port', String(port), '--api-key', key],
      {
        env: { PATH: process.env.PATH ?? '', HOME: dir, PROXMOX_MCP_CONFIG: configFile(), LOG_LEVEL: 'info' },
      },
    );
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const deadline = Date.now() + 20_000;
    while (!output.includes('listening on') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(output, /listening on/, output);
    const url = `http://127.0.0.1:${port}`;
    await request(url)
      .get('/health')
      .set({ authorization: `Bearer ${key}` })
      .expect(200);
    await request(url).get('/health').expect(401);
    await request(url).get('/health').set({ authorization: 'Bearer not-the-key-0123456789' }).expect(401);
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;
  });

  const refused = async (args: string[], env: Record<string, string>, ...patterns: RegExp[]) => {
    const r = await runCli(args, { HOME: dir, ...env });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    for (const p of patterns) assert.match(r.stderr, p);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  };

  test('serve --api-key with a short key: names the flag, why, and how to make one', async () => {
    await refused(
      ['serve', '--api-key', 'short'],
      { PROXMOX_MCP_CONFIG: configFile() },
      /--api-key/,
      /guessed/,
      /openssl rand/,
    );
  });

  test('PROXMOX_API_KEY under 16 characters: names the variable, why and the fix', async () => {
    await refused(
      ['serve'],
      { PROXMOX_MCP_CONFIG: configFile(), PROXMOX_API_KEY: 'secret' },
      /PROXMOX_API_KEY/,
      /at least 16 characters/,
      /guessed/,
      /openssl rand -base64 32/,
    );
  });

  test('CORS * (the reference default when set): names the variable, why, and what to write instead', async () => {
    await refused(
      ['serve'],
      { PROXMOX_MCP_CONFIG: configFile(), PROXMOX_API_KEY: API_KEY, MCPO_CORS_ALLOW_ORIGINS: '*' },
      /MCPO_CORS_ALLOW_ORIGINS/,
      /'\*' is refused: any web page/,
      /MCPO_CORS_ALLOW_ORIGINS=https:\/\/app\.example\.com/,
    );
  });

  test("MCP HTTP without any key (the reference's Docker mcp-http example): why, and the one-line fix", async () => {
    await refused(
      ['serve'],
      { PROXMOX_MCP_CONFIG: configFile() },
      /without an API key: anyone who reaches the port could operate Proxmox/,
      /PROXMOX_API_KEY=\$\(openssl rand -base64 32\)/,
      /serve --api-key KEY/,
    );
  });

  test('ssh.key_file that does not exist: names the setting, the tools it serves, and the fix', async () => {
    await refused(
      ['serve'],
      {
        PROXMOX_MCP_CONFIG: configFile({ ssh: { user: 'root', key_file: join(dir, 'missing_key') } }),
        PROXMOX_API_KEY: API_KEY,
      },
      /ssh\.key_file/,
      /execute_container_command/,
      /fix the path, or remove the ssh section/,
    );
  });
});

describe('item 8: the SSH tools are listed only when ssh is configured', () => {
  let h: Harness;
  after(async () => h?.close());

  test('without ssh: not in tools/list nor in the OpenAPI document; a call is still a clear error', async () => {
    // the command itself is allowed, so what refuses the call is the missing ssh section
    h = await startHarness({ nodes: 1, guests: 4 }, (sim) => {
      const base = testConfig([simulatorTargetConfig(sim)]);
      return {
        ...base,
        commandPolicy: { ...base.commandPolicy, mode: 'allowlist', allowPatterns: ['^uptime$'] },
      };
    });
    const client = await h.mcp();
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const name of SSH_TOOLS) assert.ok(!names.includes(name), `${name} listed without ssh`);
    assert.ok(names.includes('get_container_config'));
    const doc = (await request(h.url).get('/openapi.json').set(h.auth).expect(200)).body;
    const operations = JSON.stringify(Object.keys(doc.paths));
    assert.doesNotMatch(operations, /ssh-keys|execute_container_command/);
    const [ct] = (await request(h.url).get('/containers').set(h.auth).expect(200)).body.containers as Array<{
      vmid: number;
    }>;
    const r = (await client.callTool({
      name: 'execute_container_command',
      arguments: { selector: String(ct.vmid), command: ['uptime'] },
    })) as ToolResult;
    assert.equal(r.isError, true);
    assert.match(textOf(r), /SSH to the Proxmox nodes is not configured on this server/);
  });

  test('with an ssh section: both are listed', async () => {
    await h.close();
    h = await startHarness({ nodes: 1, guests: 4 }, (sim) =>
      testConfig([simulatorTargetConfig(sim)], {
        ssh: {
          user: 'root',
          port: 22,
          password: 'unused-password',
          hostOverrides: {},
          useSudo: false,
          strictHostKeyChecking: true,
          hostKeyFingerprints: {},
        },
      }),
    );
    const names = (await (await h.mcp()).listTools()).tools.map((t) => t.name);
    for (const name of SSH_TOOLS) assert.ok(names.includes(name), `${name} not listed with ssh`);
  });

  test('the stdio fast start (tool manifest) follows the same rule', (t) => {
    const read = readToolManifest(readServerInfo().version);
    if (!read.ok) return t.skip(`no usable manifest: ${read.reason}`);
    const config = placeholderConfig({ LOG_LEVEL: 'silent' });
    const without = stdioToolsFromManifest(config, read.manifest).map((x) => x.name);
    for (const name of SSH_TOOLS) assert.ok(!without.includes(name));
    const withSsh = stdioToolsFromManifest(
      {
        ...config,
        ssh: {
          user: 'root',
          port: 22,
          hostOverrides: {},
          useSudo: false,
          strictHostKeyChecking: true,
          hostKeyFingerprints: {},
        },
      },
      read.manifest,
    ).map((x) => x.name);
    for (const name of SSH_TOOLS) assert.ok(withSsh.includes(name));
  });
});
