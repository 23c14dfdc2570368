import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { simulatorTargetEnv } from '../../src/simulator/index.js';
import { API_KEY, SCHEMA_PATH, startHarness, type Harness } from '../helpers/test-app.js';
import { resultText, type ToolResult } from '../helpers/tools.js';

// MCP 2026-07-28 ("modern" era): no initialize handshake, a `_meta` envelope on every request, server/discover.
// One /mcp endpoint and stdio serve it beside the 2025-era clients every other suite uses (SDK 1.32); here the
// v2 SDK client, pinned to 2026-07-28 so it can never fall back to initialize, drives the same tools.

const MODERN = '2026-07-28';

function modernClient(): Client {
  return new Client(
    { name: 'modern-e2e', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: MODERN } } },
  );
}

describe('MCP 2026-07-28 over Streamable HTTP and stdio', () => {
  let h: Harness;
  let dir: string;
  const opened: Client[] = [];

  before(async () => {
    h = await startHarness();
    dir = mkdtempSync(join(tmpdir(), 'pmp-modern-'));
  });
  after(async () => {
    await Promise.all(opened.map((c) => c.close().catch(() => undefined)));
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function overHttp(headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` }) {
    const client = modernClient();
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), { requestInit: { headers } }),
    );
    opened.push(client);
    return client;
  }

  test('a pinned client connects without initialize, lists the same tools as a 2025 client and calls them', async () => {
    const modern = await overHttp();
    assert.equal(modern.getProtocolEra(), 'modern');
    assert.equal(modern.getServerVersion()?.name, 'proxmox-mcp-plus');
    const legacy = await h.mcp();
    const [now, before] = await Promise.all([modern.listTools(), legacy.listTools()]);
    assert.deepEqual(
      now.tools.map((t) => [t.name, t.inputSchema, t.outputSchema]),
      before.tools.map((t) => [t.name, t.inputSchema, t.outputSchema]),
    );

    const vms = (await modern.callTool({ name: 'get_vms', arguments: { node: 'pve1' } })) as ToolResult;
    assert.equal(vms.isError, undefined, resultText(vms));
    const same = (await legacy.callTool({ name: 'get_vms', arguments: { node: 'pve1' } })) as ToolResult;
    assert.deepEqual(vms.structuredContent, same.structuredContent);
    assert.ok(vms.structuredContent.vms.length > 0);
  });

  test('refusals read the same as for a 2025 client: a tool error result, an unknown tool a protocol error', async () => {
    const modern = await overHttp();
    const bad = (await modern.callTool({ name: 'get_vms', arguments: { colour: 'red' } })) as ToolResult;
    assert.equal(bad.isError, true);
    assert.match(resultText(bad), /^VALIDATION: .*unknown argument 'colour'/);
    await assert.rejects(
      modern.callTool({ name: 'no_such_tool', arguments: {} }),
      /Unknown tool: no_such_tool/,
    );
  });

  test('the API key still guards /mcp: a modern request without one is refused before the MCP layer', async () => {
    await assert.rejects(overHttp({}), /401|Unauthorized|authentication/i);
    const res = await fetch(`${h.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: {} }),
    });
    assert.equal(res.status, 401);
  });

  test('server/discover over plain HTTP names 2026-07-28 and the tools capability, with no session id', async () => {
    const res = await fetch(`${h.url}/mcp`, {
      method: 'POST',
      headers: {
        ...h.auth,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': 'server/discover',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'server/discover',
        params: {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientInfo': { name: 'curl', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('mcp-session-id'), null);
    const body = (await res.json()) as {
      result: { supportedVersions: string[]; capabilities: { tools?: object } };
    };
    assert.ok(body.result.supportedVersions.includes(MODERN), JSON.stringify(body));
    assert.ok(body.result.capabilities.tools);
  });

  test('over stdio a pinned client lists the manifest tools and calls through the application', async () => {
    const client = modernClient();
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['bin/proxmox-mcp-plus.js', 'stdio'],
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          PVE_API_SCHEMA: SCHEMA_PATH,
          ...simulatorTargetEnv(h.sim),
          PROXMOX_JOBS_SQLITE_PATH: join(dir, 'jobs.sqlite3'),
          LOG_LEVEL: 'error',
        },
        stderr: 'pipe',
      }),
    );
    opened.push(client);
    assert.equal(client.getProtocolEra(), 'modern');
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'create_snapshot'));
    const nodes = (await client.callTool({ name: 'get_nodes', arguments: {} })) as ToolResult;
    assert.equal(nodes.isError, undefined, resultText(nodes));
    assert.deepEqual(
      nodes.structuredContent.nodes.map((n: { node: string }) => n.node).sort(),
      h.sim.cluster
        .nodes()
        .map((n) => n.name)
        .sort(),
    );
  });
});
