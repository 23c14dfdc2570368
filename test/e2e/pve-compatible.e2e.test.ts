import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import request from 'supertest';
import { ScriptedHttps, json } from '../proxmox/helpers/scripted-https.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';
import { resultText, type ToolResult } from '../helpers/tools.js';

/*
 * A third-party PVE-compatible server (an emulator, a gateway) that serves only part of the API: no /version,
 * no storages in /cluster/resources, 501 for the rest. The server must still list a named storage's content
 * (through /nodes/{node}/storage) and call the target reachable with an unknown version.
 */
const NODE = 'emu1';
const CTIME = 1_760_000_000;
const CONTENT: Record<string, unknown[]> = {
  iso: [{ volid: 'store:iso/debian-12.iso', content: 'iso', format: 'iso', size: 658505728, ctime: CTIME }],
  vztmpl: [
    {
      volid: 'store:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
      content: 'vztmpl',
      format: 'tzst',
      size: 126000000,
      ctime: CTIME,
    },
  ],
  backup: [
    {
      volid: 'store:backup/vzdump-qemu-100-2026_01_02-03_04_05.vma.zst',
      content: 'backup',
      format: 'vma.zst',
      size: 1200000,
      ctime: CTIME,
      vmid: 100,
    },
  ],
};

function emulator(req: { method: string; url: string }, res: Parameters<ScriptedHttps['handler']>[1]) {
  const url = new URL(req.url, 'https://emu');
  const path = url.pathname.replace(/^\/api2\/json/, '');
  if (req.method !== 'GET') return json(res, 501, { data: null, message: 'not implemented' });
  if (path === '/cluster/resources') {
    const nodeRow = { id: `node/${NODE}`, type: 'node', node: NODE, status: 'online' };
    return json(res, 200, { data: url.searchParams.get('type') === 'storage' ? [] : [nodeRow] });
  }
  if (path === '/nodes') return json(res, 200, { data: [{ node: NODE, status: 'online' }] });
  if (path === `/nodes/${NODE}/storage`) {
    return json(res, 200, {
      data: [
        { storage: 'store', type: 'dir', content: 'iso,vztmpl,backup', active: 1, enabled: 1, shared: 0 },
        { storage: 'images', type: 'dir', content: 'images', active: 1, enabled: 1, shared: 0 },
      ],
    });
  }
  if (path === `/nodes/${NODE}/storage/store/content`) {
    return json(res, 200, { data: CONTENT[url.searchParams.get('content') ?? ''] ?? [] });
  }
  return json(res, 501, { data: null, message: `Method 'GET ${path}' not implemented` }, 'Not Implemented');
}

describe('a PVE-compatible server that serves only part of the API', () => {
  let emu: ScriptedHttps;
  let h: Harness;
  let mcp: Client;
  let dir: string;

  before(async () => {
    emu = await ScriptedHttps.start();
    emu.handler = emulator;
    h = await startHarness({ nodes: 1, guests: 0 }, () => testConfig([emu.target({ name: 'emu' })]));
    mcp = await h.mcp();
    dir = mkdtempSync(join(tmpdir(), 'pmp-emu-'));
  });
  after(async () => {
    await h.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (name: string, args: Record<string, unknown>) => {
    const r = (await mcp.callTool({ name, arguments: args })) as ToolResult;
    assert.equal(r.isError, undefined, `${name}: ${resultText(r)}`);
    return r;
  };

  test('list_isos, list_templates and list_backups with an explicit storage read it through /nodes/{node}/storage', async () => {
    const isos = await call('list_isos', { storage: 'store' });
    assert.deepEqual(
      (isos.structuredContent.isos as Array<{ volid: string }>).map((i) => i.volid),
      ['store:iso/debian-12.iso'],
    );
    const templates = await call('list_templates', { storage: 'store', node: NODE });
    assert.deepEqual(
      (templates.structuredContent.templates as Array<{ volid: string }>).map((t) => t.volid),
      ['store:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst'],
    );
    const backups = await call('list_backups', { storage: 'store' });
    assert.deepEqual(
      (backups.structuredContent.backups as Array<{ volid: string }>).map((b) => b.volid),
      ['store:backup/vzdump-qemu-100-2026_01_02-03_04_05.vma.zst'],
    );
    assert.ok(
      emu.requests.some((r) => r.url.startsWith(`/api2/json/nodes/${NODE}/storage/store/content`)),
      'the content was read from the node',
    );
    // a storage neither place knows is still NOT_FOUND
    const missing = (await mcp.callTool({
      name: 'list_isos',
      arguments: { storage: 'nope' },
    })) as ToolResult;
    assert.equal(missing.isError, true);
    assert.match(resultText(missing), /^NOT_FOUND: storage 'nope' does not exist/);
  });

  test('no /version: the target is reachable with an unknown version (list_targets, /health, doctor)', async () => {
    const targets = await call('list_targets', {});
    const [row] = targets.structuredContent.targets as Array<Record<string, unknown>>;
    assert.equal(row.reachable, true, JSON.stringify(row));
    assert.equal(row.pve_version, undefined);
    assert.equal(row.error, undefined);
    assert.match(resultText(targets), /emu: 127\.0\.0\.1:\d+ reachable \(PVE version unknown\)/);
    assert.doesNotMatch(resultText(targets), /UNREACHABLE/);

    const health = await request(h.url).get('/health').set(h.auth).expect(200);
    assert.equal(health.body.targets[0].reachable, true, JSON.stringify(health.body));

    const file = join(dir, 'config.json');
    const t = emu.target();
    writeFileSync(
      file,
      JSON.stringify({
        targets: {
          emu: {
            proxmox: { host: t.host, port: t.port, fingerprint: t.fingerprint },
            auth: { user: t.user, token_name: t.tokenName, token_value: t.tokenValue },
          },
        },
        jobs: { sqlite_path: join(dir, 'jobs.sqlite3') },
      }),
    );
    const child = spawn(process.execPath, ['bin/proxmox-mcp-plus.js', 'doctor', '--json'], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, PROXMOX_MCP_CONFIG: file },
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    const rows = (
      JSON.parse(stdout) as {
        rows: Array<{ target?: string; check: string; status: string; message: string }>;
      }
    ).rows;
    const connection = rows.find((r) => r.target === 'emu' && r.check === 'connection');
    const version = rows.find((r) => r.target === 'emu' && r.check === 'version');
    assert.equal(connection?.status, 'pass', stdout);
    assert.equal(version?.status, 'warn', stdout);
    assert.match(version?.message ?? '', /version unknown: GET \/version is not served/);
  });
});
