import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { PveSimulator, simulatorTargetEnv } from '../../src/simulator/index.js';
import { SCHEMA_PATH } from '../helpers/test-app.js';

const BIN = 'bin/proxmox-mcp-plus.js';
const baseEnv = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/tmp',
  PVE_API_SCHEMA: SCHEMA_PATH,
};

function run(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [BIN, ...args], {
    env: { ...baseEnv, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('CLI', () => {
  let sim: PveSimulator;
  let dir: string;
  let pveEnv: Record<string, string>;

  before(async () => {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0 });
    dir = mkdtempSync(join(tmpdir(), 'pmp-cli-'));
    pveEnv = {
      ...simulatorTargetEnv(sim),
      PROXMOX_JOBS_SQLITE_PATH: join(dir, 'jobs.sqlite3'),
      LOG_LEVEL: 'error',
    };
  });
  after(() => sim.stop());

  test('a bad config file exits 2 naming the key, the value and what is allowed', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        proxmox: { host: 'pve', port: 'abc' },
        auth: { user: 'root@pam', token_name: 't', token_value: 's' },
      }),
    );
    const r = run(['serve'], { PROXMOX_MCP_CONFIG: file });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /proxmox\.port/);
    assert.match(r.stderr, /abc/);
  });

  test('serve refuses to start without an API key, and no-auth only on loopback', () => {
    const r = run(['serve', '--port', '0'], pveEnv);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /without an API key/);
    const wide = run(['serve', '--host', '0.0.0.0', '--port', '0'], {
      ...pveEnv,
      PROXMOX_ALLOW_NO_AUTH: 'true',
    });
    assert.equal(wide.status, 2);
    assert.match(wide.stderr, /loopback/);
  });

  test('unknown commands and flags exit 2 with usage', () => {
    assert.equal(run(['frobnicate'], pveEnv).status, 2);
    assert.equal(run(['serve', '--prot', '1'], pveEnv).status, 2);
  });

  test('stdio serves the same tools to an MCP client over stdin/stdout', async () => {
    const client = new Client({ name: 'stdio-test', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [BIN, 'stdio'],
        env: { ...baseEnv, ...pveEnv },
        stderr: 'pipe',
      }),
    );
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'get_vms'));
      const r = (await client.callTool({ name: 'get_nodes', arguments: {} })) as any;
      assert.equal(r.isError, undefined, JSON.stringify(r));
      assert.ok(r.structuredContent.nodes.length >= 1);
    } finally {
      await client.close();
    }
  });

  test('demo starts a simulator and the server, prints a banner with the key, and stops on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'demo', '--port', '0', '--api-key', 'demo-key-0123456789abcdef'],
      {
        env: { ...baseEnv, LOG_LEVEL: 'error' },
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 30_000);
      child.stdout.on('data', () => {
        const m = /MCP \(Streamable HTTP\):\s+(http:\/\/\S+)\/mcp/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    assert.match(out, /SIMULATED/);
    assert.match(out, /demo-key-0123456789abcdef/);
    const res = await fetch(`${url}/vms`, { headers: { authorization: 'Bearer demo-key-0123456789abcdef' } });
    assert.equal(res.status, 200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  });
});
