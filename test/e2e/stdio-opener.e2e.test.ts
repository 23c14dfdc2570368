import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import type { INestApplication } from '@nestjs/common';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { createApp } from '../../src/app.setup.js';
import { loadConfig } from '../../src/config/config.loader.js';
import { McpServerFactory } from '../../src/mcp/transport/mcp-server.factory.js';
import { OPENER_PROTOCOL_VERSIONS, STDIO_PRINCIPAL } from '../../src/mcp/transport/stdio-opener.js';
import { PveSimulator, simulatorTargetEnv } from '../../src/simulator/index.js';
import { startModernStdio } from '../helpers/modern-stdio.js';
import { SCHEMA_PATH } from '../helpers/test-app.js';

// `proxmox-mcp-plus stdio` answers a 2025-era opening (initialize, ping, the first tools/list) before the MCP SDK
// is loaded (src/mcp/transport/stdio-opener.ts), then hands the rest of stdin to the SDK. A client must not be
// able to tell: every answer here is compared, line for line and byte for byte, with what the SDK's own stdio
// entry writes for the same input, serving the same application (the process without the opener).

interface Answer {
  id?: string | number;
  result?: any;
  error?: { code: number; message: string };
}

const rpc = (id: number | string | null, method: string, params?: unknown): string =>
  JSON.stringify({
    jsonrpc: '2.0',
    ...(id !== null && { id }),
    method,
    ...(params !== undefined && { params }),
  });
const initialize = (id: number | string, protocolVersion: string, capabilities: unknown = {}) =>
  rpc(id, 'initialize', { protocolVersion, capabilities, clientInfo: { name: 'opener-test', version: '1' } });
const initialized = rpc(null, 'notifications/initialized');
const lines = (...messages: string[]) => messages.map((m) => `${m}\n`).join('');

async function waitFor(check: () => boolean, what: () => string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('stdio opener', () => {
  let sim: PveSimulator;
  let dir: string;
  let env: Record<string, string>;
  let app: INestApplication;
  let factory: McpServerFactory;

  before(async () => {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0 });
    dir = mkdtempSync(join(tmpdir(), 'pmp-opener-'));
    env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PROXMOX_MCP_CONFIG: '',
      PVE_API_SCHEMA: SCHEMA_PATH,
      ...simulatorTargetEnv(sim),
      PROXMOX_JOBS_SQLITE_PATH: join(dir, 'jobs.sqlite3'),
      LOG_LEVEL: 'error',
    };
    // the same configuration the stdio process loads, in this process, for the SDK's own answers
    app = (await createApp(loadConfig({ ...env, PROXMOX_JOBS_SQLITE_PATH: ':memory:' }))).app;
    factory = app.get(McpServerFactory);
  });
  after(async () => {
    await app.close();
    const violations = sim.schemaViolations();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(violations, [], 'requests that real PVE would refuse');
  });

  /**
   * `proxmox-mcp-plus stdio` given `input` in one write: its first `count` output lines (and then no more). Then
   * stdin is closed, and the process must exit 0 on its own (nothing left holding stdin after the hand-over).
   */
  async function processAnswers(input: string, count: number): Promise<{ lines: string[]; stderr: string }> {
    const child = spawn(process.execPath, ['bin/proxmox-mcp-plus.js', 'stdio'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: string[] = [];
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => out.push(line));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    child.stdin.write(input);
    try {
      await waitFor(
        () => out.length >= count,
        () => `${count} answers from the process; got ${JSON.stringify(out).slice(0, 2000)} ${stderr}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 200)); // an extra answer would show now
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      assert.equal(await exited, 0, `exit status after stdin closed; stderr: ${stderr}`);
      clearTimeout(timer);
    } finally {
      child.kill('SIGKILL');
    }
    return { lines: out, stderr };
  }

  /** The SDK's stdio entry (what `stdio` runs without the opener) serving the same application, same input. */
  async function sdkAnswers(input: string, count: number): Promise<string[]> {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const out: string[] = [];
    createInterface({ input: stdout }).on('line', (line) => out.push(line));
    const handle = serveStdio(() => factory.create({ principal: STDIO_PRINCIPAL }), {
      legacy: 'serve',
      transport: new StdioServerTransport(stdin, stdout),
    });
    stdin.write(input);
    await waitFor(
      () => out.length >= count,
      () => `${count} answers from the SDK; got ${JSON.stringify(out).slice(0, 2000)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await handle.close();
    return out;
  }

  async function sameAsSdk(input: string, count: number): Promise<Answer[]> {
    const [fromProcess, fromSdk] = await Promise.all([
      processAnswers(input, count),
      sdkAnswers(input, count),
    ]);
    assert.doesNotMatch(fromProcess.stderr, /unlike the SDK/);
    const parsed = fromProcess.lines.map((l) => JSON.parse(l) as Answer);
    assert.deepEqual(
      parsed,
      fromSdk.map((l) => JSON.parse(l) as Answer),
    );
    assert.deepEqual(fromProcess.lines, fromSdk, 'the same bytes, in the same order');
    return parsed;
  }

  test('the versions the opener negotiates are the SDK 2025-era versions, in its order', () => {
    assert.deepEqual(
      OPENER_PROTOCOL_VERSIONS,
      SUPPORTED_PROTOCOL_VERSIONS.filter((v) => v < '2026'),
    );
  });

  for (const [label, open] of [
    ['2025-06-18, no client capabilities', initialize(1, '2025-06-18')],
    [
      '2025-11-25 with roots, sampling and elicitation',
      initialize(1, '2025-11-25', { roots: { listChanged: true }, sampling: {}, elicitation: {} }),
    ],
    ['2024-11-05, a string id', initialize('a-1', '2024-11-05', { experimental: { x: {} } })],
    ['an unsupported version (the SDK answers its own)', initialize(1, '1999-01-01')],
    ['a version the SDK does not know yet', initialize(1, '2026-07-28')],
  ] as const) {
    test(`initialize, ping, tools/list as the SDK answers them: ${label}`, async () => {
      const answers = await sameAsSdk(lines(open, initialized, rpc(7, 'ping'), rpc(2, 'tools/list', {})), 3);
      assert.ok(answers[0].result?.serverInfo, JSON.stringify(answers[0]));
      assert.deepEqual(answers[1], { result: {}, jsonrpc: '2.0', id: 7 });
      assert.ok(answers[2].result?.tools.length > 100);
    });
  }

  test('what the opener does not answer itself is the SDK answer: no capabilities, _meta, tools/list cursor', async () => {
    const noCapabilities = rpc(1, 'initialize', {
      protocolVersion: '2025-06-18',
      clientInfo: { name: 'x', version: '1' },
    });
    assert.ok((await sameAsSdk(lines(noCapabilities), 1))[0].error, 'the SDK refuses it');
    const withMeta = rpc(1, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'x', version: '1' },
      _meta: { progressToken: 1 },
    });
    await sameAsSdk(lines(withMeta, initialized, rpc(2, 'tools/list', { cursor: 'x' })), 2);
  });

  test('a malformed line and a batch before the opening are dropped as the SDK drops them', async () => {
    const batch = `[${initialize(9, '2025-06-18')},${rpc(10, 'ping')}]`;
    const answers = await sameAsSdk(
      lines('{"jsonrpc":"2.0", not json', batch, initialize(1, '2025-06-18'), rpc(2, 'tools/list')),
      2,
    );
    assert.deepEqual(
      answers.map((a) => a.id),
      [1, 2],
    );
  });

  test('initialize, initialized, tools/list and tools/call in one write: every answer, in order', async () => {
    const { lines: out, stderr } = await processAnswers(
      lines(
        initialize(1, '2025-06-18'),
        initialized,
        rpc(2, 'tools/list', {}),
        rpc(3, 'tools/call', { name: 'get_nodes', arguments: {} }),
      ),
      3,
    );
    assert.doesNotMatch(stderr, /unlike the SDK/);
    const answers = out.map((l) => JSON.parse(l) as Answer);
    assert.deepEqual(
      answers.map((a) => a.id),
      [1, 2, 3],
    );
    assert.equal(answers[2].result.isError, undefined, out[2]);
    assert.deepEqual(
      answers[2].result.structuredContent.nodes.map((n: { node: string }) => n.node).sort(),
      sim.cluster
        .nodes()
        .map((n) => n.name)
        .sort(),
    );
  });

  test('a tools/call before tools/list goes to the application; tools/list after it is still the full list', async () => {
    const { lines: out } = await processAnswers(
      lines(
        initialize(1, '2025-06-18'),
        initialized,
        rpc(2, 'tools/call', { name: 'get_nodes', arguments: {} }),
        rpc(3, 'tools/list'),
      ),
      3,
    );
    const answers = new Map(out.map((l) => [(JSON.parse(l) as Answer).id, JSON.parse(l) as Answer]));
    assert.equal(answers.get(2)!.result.isError, undefined, out.join('\n'));
    const reference = await sdkAnswers(lines(initialize(1, '2025-06-18'), rpc(3, 'tools/list')), 2);
    assert.deepEqual(answers.get(3), JSON.parse(reference[1]));
  });

  test('the application fails to start after the opener listed the tools: exit 2 with the reason, stdin still open', async () => {
    const notADatabase = join(dir, 'not-a-database.sqlite3');
    writeFileSync(notADatabase, 'this is not a SQLite database\n'.repeat(100));
    const child = spawn(process.execPath, ['bin/proxmox-mcp-plus.js', 'stdio'], {
      env: { ...env, PROXMOX_JOBS_SQLITE_PATH: notADatabase },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: string[] = [];
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => out.push(line));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const status = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    child.stdin.write(lines(initialize(1, '2025-06-18'), initialized, rpc(2, 'tools/list', {})));
    assert.equal(await status, 2, `stdin was never closed; the process must end on its own: ${stderr}`);
    clearTimeout(timer);
    assert.deepEqual(
      out.map((l) => (JSON.parse(l) as Answer).id),
      [1, 2],
    );
    assert.match(stderr, /not-a-database\.sqlite3/);
  });

  test('a 2026-07-28 opening (server/discover) is the SDK entry answering, then tools/list and a call', async () => {
    const modern = startModernStdio(sim);
    try {
      const discover = await modern.call(1, 'server/discover', {});
      assert.ok(discover.result?.supportedVersions.includes('2026-07-28'), JSON.stringify(discover));
      const listed = await modern.call(2, 'tools/list', {});
      assert.ok(listed.result?.tools.length > 100);
      const called = await modern.call(3, 'tools/call', { name: 'get_nodes', arguments: {} });
      assert.equal(called.result?.isError, undefined, JSON.stringify(called));
    } finally {
      await modern.close();
    }
  });
});
