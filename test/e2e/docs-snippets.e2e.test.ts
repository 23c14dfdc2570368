import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPromises from 'node:dns/promises';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { PveSimulator, simulatorTargetConfig, simulatorTargetEnv } from '../../src/simulator/index.js';
import { API_KEY, SCHEMA_PATH, startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { readSnippets, runShell, type CurlResult } from '../helpers/doc-shell.js';

/**
 * "The docs' client snippets are the ones the tests use": this file reads docs/clients.md and docs/examples/*.md,
 * finds every fenced block preceded by `<!-- snippet: NAME -->`, and runs it:
 *
 * - JSON/TOML stdio configs: command, args and env start the server and the MCP SDK client connects over stdio
 *   (initialize, tools/list, a read call). One documented mapping: `npx -y proxmox-mcp-plus …` runs as
 *   `node bin/proxmox-mcp-plus.js …` from this checkout (the packed-package test covers npx). Every env value is
 *   replaced by the simulator's value for the same key (the snippet's placeholders say what goes there), and
 *   PROXMOX_PORT is always the simulator's (it cannot listen on 8006); an env key this test does not know fails it.
 * - HTTP configs: the URL's path and the headers (with `${env:…}`, `${input:…}` and `bearer_token_env_var`
 *   resolved the way the client resolves them) connect the SDK's Streamable HTTP client to a harness server.
 * - curl blocks: run in order by a small interpreter of the shell subset the docs use (below), with fetch.
 *
 * TOML: no TOML parser is a dependency, so the Codex snippets must stay within what `parseSimpleToml` reads
 * (tables, `key = "string"`, `key = ["strings"]`); anything else fails the test instead of being misread.
 */

// Tests run from the repository root (node scripts/run-tests.mjs); bin/ is not compiled.
const BIN = 'bin/proxmox-mcp-plus.js';
const OPERATOR_KEY = 'operator-key-0123456789abcdef';

// ---------------------------------------------------------------------------------------------------------------
// Minimal TOML: [table.path] headers, key = "basic string", key = ["basic", "strings"], comments, blank lines.

function parseSimpleToml(text: string): Record<string, any> {
  const root: Record<string, any> = {};
  let table = root;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[([A-Za-z0-9_.-]+)\]$/.exec(line);
    if (header) {
      table = root;
      for (const part of header[1].split('.')) table = table[part] ??= {};
      continue;
    }
    const pair = /^([A-Za-z0-9_-]+)\s*=\s*(".*"|\[.*\])$/.exec(line);
    if (!pair) throw new Error(`TOML line ${index + 1} is outside the subset this test reads: ${raw}`);
    // A basic string without escapes, and an array of them, read the same as JSON.
    table[pair[1]] = JSON.parse(pair[2]);
  }
  return root;
}

async function runShellBlock(block: string, preset: Record<string, string>): Promise<CurlResult[]> {
  return (await runShell(block, preset)).runs;
}

// ---------------------------------------------------------------------------------------------------------------

/** A Streamable HTTP snippet's URL, moved to the harness's origin (the path is kept and must be /mcp). */
function harnessUrl(documented: string, h: Harness): URL {
  const url = new URL(documented);
  assert.equal(url.pathname, '/mcp');
  return new URL(url.pathname, h.url);
}

async function checkClient(client: Client) {
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === 'get_vms'));
  const r = (await client.callTool({ name: 'get_nodes', arguments: {} })) as any;
  assert.equal(r.isError, undefined, JSON.stringify(r));
  assert.deepEqual(
    r.structuredContent.nodes.map((n: any) => n.node),
    ['pve1', 'pve2', 'pve3'],
  );
}

describe('docs/clients.md snippets', () => {
  const snippets = readSnippets('docs/clients.md');
  let sim: PveSimulator;
  let h: Harness;
  let dir: string;

  before(async () => {
    h = await startHarness({ nodes: 3, guests: 12 });
    sim = h.sim;
    dir = mkdtempSync(join(tmpdir(), 'pmp-docs-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await h.close();
  });

  test('every client has its snippets', () => {
    assert.deepEqual([...snippets.keys()].sort(), [
      'claude-desktop-stdio',
      'codex-http',
      'codex-stdio',
      'curl-mcp',
      'curl-rest',
      'cursor-http',
      'cursor-stdio',
      'vscode-http',
      'vscode-stdio',
    ]);
  });

  /** What a real deployment fills in for each documented variable, here the simulator's values. */
  const simValue = (key: string, name: string): string => {
    const values: Record<string, string> = {
      ...simulatorTargetEnv(sim),
      PROXMOX_JOBS_SQLITE_PATH: join(dir, `${name}.sqlite3`),
    };
    assert.ok(key in values, `${name}: env ${key} is not one this test knows how to fill in`);
    return values[key];
  };

  async function runStdio(
    name: string,
    server: { command: string; args: string[]; env: Record<string, string> },
  ) {
    assert.equal(server.command, 'npx', name);
    assert.deepEqual(server.args, ['-y', 'proxmox-mcp-plus', 'stdio'], name);
    for (const key of ['PROXMOX_HOST', 'PROXMOX_USER', 'PROXMOX_TOKEN_NAME', 'PROXMOX_TOKEN_VALUE'])
      assert.ok(key in server.env, `${name} sets ${key}`);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PVE_API_SCHEMA: SCHEMA_PATH,
      PROXMOX_PORT: String(sim.port),
    };
    for (const key of Object.keys(server.env)) env[key] = simValue(key, name);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, ...server.args.slice(2)],
      env,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const client = new Client({ name: `docs-${name}`, version: '1' });
    try {
      await client.connect(transport);
      await checkClient(client);
      if (env.PROXMOX_JOBS_SQLITE_PATH) {
        assert.ok(
          existsSync(env.PROXMOX_JOBS_SQLITE_PATH),
          `${name}: the job database is where the doc says`,
        );
      }
    } catch (error) {
      throw new Error(`${name}: ${(error as Error).message}\nserver stderr:\n${stderr.slice(-2000)}`);
    } finally {
      await client.close();
    }
  }

  async function runHttp(name: string, url: URL, headers: Record<string, string>) {
    const client = new Client({ name: `docs-${name}`, version: '1' });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
    try {
      await checkClient(client);
    } finally {
      await client.close();
    }
  }

  for (const name of ['claude-desktop-stdio', 'cursor-stdio']) {
    test(`${name}: the JSON config starts the server over stdio`, async () => {
      const config = JSON.parse(snippets.get(name)!.body);
      await runStdio(name, config.mcpServers.proxmox);
    });
  }

  test('vscode-stdio: a stdio server whose token comes from a declared password input', async () => {
    const config = JSON.parse(snippets.get('vscode-stdio')!.body);
    const server = config.servers.proxmox;
    assert.equal(server.type, 'stdio');
    const input = /^\$\{input:([\w-]+)\}$/.exec(server.env.PROXMOX_TOKEN_VALUE);
    assert.ok(input, 'the token is an input');
    assert.ok(config.inputs.some((i: any) => i.id === input[1] && i.password === true));
    await runStdio('vscode-stdio', server);
  });

  test('codex-stdio: the TOML table starts the server over stdio', async () => {
    const config = parseSimpleToml(snippets.get('codex-stdio')!.body);
    await runStdio('codex-stdio', config.mcp_servers.proxmox);
  });

  test('cursor-http: URL and headers, the key from ${env:…}', async () => {
    const server = JSON.parse(snippets.get('cursor-http')!.body).mcpServers.proxmox;
    const clientEnv: Record<string, string> = { PROXMOX_MCP_API_KEY: API_KEY };
    const headers = Object.fromEntries(
      Object.entries(server.headers as Record<string, string>).map(([k, v]) => [
        k,
        v.replace(/\$\{env:(\w+)\}/g, (_, n: string) => clientEnv[n]),
      ]),
    );
    await runHttp('cursor-http', harnessUrl(server.url, h), headers);
  });

  test('vscode-http: type http, URL and a header from a password input', async () => {
    const config = JSON.parse(snippets.get('vscode-http')!.body);
    const server = config.servers.proxmox;
    assert.equal(server.type, 'http');
    const inputs = new Map<string, any>(config.inputs.map((i: any) => [i.id, i]));
    const headers = Object.fromEntries(
      Object.entries(server.headers as Record<string, string>).map(([k, v]) => [
        k,
        v.replace(/\$\{input:([\w-]+)\}/g, (_, id: string) => {
          assert.equal(inputs.get(id)?.password, true, `input ${id} is declared as a password`);
          return API_KEY; // what the user types when VS Code asks
        }),
      ]),
    );
    await runHttp('vscode-http', harnessUrl(server.url, h), headers);
  });

  test('codex-http: url and bearer_token_env_var', async () => {
    const server = parseSimpleToml(snippets.get('codex-http')!.body).mcp_servers.proxmox;
    const clientEnv: Record<string, string> = { [server.bearer_token_env_var]: API_KEY };
    await runHttp('codex-http', harnessUrl(server.url, h), {
      Authorization: `Bearer ${clientEnv[server.bearer_token_env_var]}`,
    });
  });

  test('curl-mcp: initialize, initialized, tools/call over Streamable HTTP', async () => {
    const [init, initialized, call] = await runShellBlock(snippets.get('curl-mcp')!.body, {
      PMP: h.url,
      KEY: API_KEY,
    });
    const data = (r: CurlResult) => {
      assert.equal(r.status, 200, r.body);
      const line = r.body.split('\n').find((l) => l.startsWith('data: '));
      assert.ok(line, `an event with data: ${r.body}`);
      return JSON.parse(line.slice('data: '.length));
    };
    assert.equal(data(init).result.serverInfo.name.length > 0, true);
    assert.equal(initialized.status, 202);
    const result = data(call).result;
    assert.equal(result.isError, undefined, JSON.stringify(result));
    assert.ok(result.structuredContent.vms.length > 0);
    assert.ok(result.structuredContent.vms.every((vm: any) => vm.status === 'running'));
  });

  test('curl-rest: the REST route, the config route and POST /{tool} answer JSON', async () => {
    const [vms, config, toolRoute] = await runShellBlock(snippets.get('curl-rest')!.body, {
      PMP: h.url,
      KEY: API_KEY,
    });
    for (const r of [vms, config, toolRoute]) assert.equal(r.status, 200, `${r.command}: ${r.body}`);
    assert.ok(vms.json.vms.every((vm: any) => vm.status === 'running'));
    assert.equal(config.json.vmid, 100);
    assert.deepEqual(toolRoute.json.vms, vms.json.vms, 'POST /get_vms answers like GET /vms');
  });

  test('Open WebUI (OpenAPI route): the document lists each tool as its REST route and as POST /{tool}', async () => {
    const res = await fetch(`${h.url}/openapi.json`, { headers: h.auth });
    assert.equal(res.status, 200);
    const doc = (await res.json()) as any;
    const operationIds: string[] = Object.values(doc.paths).flatMap((item: any) =>
      Object.values(item).map((op: any) => op.operationId),
    );
    assert.equal(doc.paths['/vms'].get.operationId, 'get_vms');
    assert.equal(doc.paths['/get_vms'].post.operationId, 'get_vms_tool');
    // POST /{tool} operations (describe_tool and call_tool are tools whose own names end in _tool)
    const tools = operationIds.filter(
      (id) => id.endsWith('_tool') && doc.paths[`/${id.slice(0, -'_tool'.length)}`]?.post?.operationId === id,
    );
    assert.ok(tools.includes('call_tool_tool'));
    for (const id of tools) assert.ok(operationIds.includes(id.slice(0, -'_tool'.length)), `${id} twice`);
  });
});

// ---------------------------------------------------------------------------------------------------------------

const EXAMPLES: Array<{
  file: string;
  snippet: string;
  check: (h: Harness, runs: CurlResult[], vars: Record<string, string>) => void;
}> = [
  // Each story starts with a plan (dry_run: nothing changes) and ends with an undo (issue 17).
  {
    file: 'docs/examples/create-and-boot-vm.md',
    snippet: 'example-create-and-boot-vm',
    check: (h, runs, vars) => {
      assert.equal(runs[1].json.dry_run, true, 'the plan comes first');
      assert.equal(runs[1].json.would_succeed, true);
      assert.equal(runs[2].json.tool_name, 'create_vm', 'the call bound to the plan ran');
      const guest = h.sim.cluster.guest(Number(vars.VMID));
      assert.equal(guest?.type, 'qemu');
      assert.equal(guest?.status, 'running');
      assert.ok(runs[4].json.interfaces.length > 0, 'the guest agent reports addresses');
      const revert = runs.at(-1)!.json;
      assert.equal(revert.reverted_change_id, Number(vars.CHANGE));
      assert.deepEqual(revert.restored, { cores: 2, memory: '2048' }, 'the edit is put back');
    },
  },
  {
    file: 'docs/examples/snapshot-and-rollback.md',
    snippet: 'example-snapshot-and-rollback',
    check: (h, runs, vars) => {
      assert.equal(runs[2].json.dry_run, true, 'the plan comes first');
      assert.equal(runs[2].json.would_succeed, true);
      assert.equal(runs[3].status, 403, 'the first rollback waits for an approval');
      assert.equal(runs[3].json.code, 'APPROVAL_REQUIRED');
      assert.match(vars.SAFETY, /^safety-rollback-snapshot-\d{14}$/, 'the result names the safety snapshot');
      assert.equal(runs[7].json.code, 'APPROVAL_REQUIRED', 'the undo is approved too, bound to its plan');
      assert.equal(runs.at(-1)!.json.tool_name, 'rollback_snapshot');
      const guest = h.sim.cluster.guest(100)!;
      assert.equal(guest.parent, vars.SAFETY, 'rolled back to the safety snapshot');
      assert.equal(guest.status, 'running', 'start: true started it again');
    },
  },
  {
    file: 'docs/examples/template-and-container.md',
    snippet: 'example-template-and-container',
    check: (h, runs, vars) => {
      assert.equal(runs[3].json.dry_run, true, 'the plan comes first');
      assert.equal(runs[3].json.requests[0].params['ssh-public-keys'], '<redacted>');
      const guest = h.sim.cluster.guest(Number(vars.CTID));
      assert.equal(guest?.type, 'lxc');
      assert.equal(guest?.status, 'running');
      assert.match(runs[5].json.primary_ip, /^\d+\.\d+\.\d+\.\d+$/);
      const revert = runs.at(-1)!.json;
      assert.equal(revert.reverted_change_id, Number(vars.CHANGE));
      assert.deepEqual(revert.restored, { memory: 1024 }, 'the edit is put back');
    },
  },
  {
    file: 'docs/examples/backup-and-restore.md',
    snippet: 'example-backup-and-restore',
    check: (h, runs, vars) => {
      assert.equal(runs[1].json.backups[0].notes, 'before upgrade', 'the newest backup is the one just made');
      assert.match(vars.ARCHIVE, /^nas:backup\/vzdump-qemu-100-/);
      assert.equal(runs[3].json.dry_run, true, 'the plan comes first');
      assert.ok(runs[3].json.checks.some((c: any) => c.name === 'backup_exists' && c.ok));
      assert.equal(runs[4].json.code, 'APPROVAL_REQUIRED');
      assert.equal(runs[6].json.tool_name, 'restore_backup');
      assert.equal(h.sim.cluster.guest(Number(vars.NEWID))?.type, 'qemu');
      const revert = runs.at(-1)!.json;
      assert.equal(revert.reverted_change_id, Number(vars.CHANGE));
      assert.match(revert.restored.net0, /bridge=vmbr0/, 'the copy is back on vmbr0');
    },
  },
];

describe('docs/examples walk-throughs: the curl calls, in order, against the simulator', () => {
  // The sandbox has no DNS; the template example names download.proxmox.com. The server's URL guard resolves it
  // with node's dns.promises.lookup, answered here with a stand-in public address (the simulator fetches nothing).
  const realLookup = dnsPromises.lookup;
  before(() => {
    (dnsPromises as any).lookup = async (hostname: string, options: unknown) =>
      hostname === 'download.proxmox.com'
        ? [{ address: '93.184.216.34', family: 4 }]
        : (realLookup as any)(hostname, options);
    syncBuiltinESMExports();
  });
  after(() => {
    (dnsPromises as any).lookup = realLookup;
    syncBuiltinESMExports();
  });

  for (const example of EXAMPLES) {
    test(example.file, async () => {
      const snippet = readSnippets(example.file).get(example.snippet);
      assert.ok(snippet, `${example.file} has snippet ${example.snippet}`);
      // As the examples' README describes: the agent's key and an operator's admin key; approvals enforced.
      const h = await startHarness({ nodes: 3, guests: 12 }, (sim) => {
        const base = testConfig([simulatorTargetConfig(sim)]);
        return {
          ...base,
          http: {
            ...base.http,
            apiKeys: [
              { name: 'agent', secret: API_KEY, scope: 'admin' },
              { name: 'operator', secret: OPERATOR_KEY, scope: 'admin' },
            ],
          },
          commandPolicy: { ...base.commandPolicy, highRiskMode: 'enforce' },
        };
      });
      try {
        const { runs, vars } = await runShell(snippet.body, { PMP: h.url, KEY: API_KEY, OPERATOR_KEY });
        for (const run of runs) {
          if (run.json?.code === 'APPROVAL_REQUIRED') continue; // the documented first step of an approval
          assert.ok(run.status >= 200 && run.status < 300, `${run.command}\n→ ${run.status} ${run.body}`);
          if (run.json?.job_id) assert.equal(run.json.status, 'completed', `${run.command}\n→ ${run.body}`);
        }
        example.check(h, runs, vars);
      } finally {
        await h.close();
      }
    });
  }
});
