import type { Server } from 'node:http';
import { Client } from 'undici';
import { startServer, type RunningServer } from '../src/cli/serve.command.js';
import type { AppConfig } from '../src/config/app-config.js';
import { InventoryService } from '../src/proxmox/inventory.service.js';
import { BENCH_API_KEY, BENCH_INVENTORY_CACHE_MS, inProcessConfig } from './config.js';
import { isToolSuccess, jsonRpc, mcpHeaders, parseMcpResponse, toolsCallBody } from './mcp-wire.js';
import type { HttpCall } from './load.js';
import { ServerTimer } from './server-timing.js';
import type { SimHandle } from './sim-handle.js';

/** The real HTTP server inside the bench process, with server-side timing, pointed at a simulator process. */
export interface InProcessServer {
  server: RunningServer;
  timer: ServerTimer;
  /** Tool names from tools/list. */
  tools: Set<string>;
  /** Drops the /cluster/resources cache, if this build has one (undefined otherwise). */
  invalidateCache?: () => void;
  close(): Promise<void>;
}

/**
 * With the /cluster/resources cache on (BENCH_INVENTORY_CACHE_MS), so both cold and warm calls can be timed.
 * `jobs` overrides the store (default: SQLite in memory), e.g. a SQLite file as shipped.
 */
export async function startInProcessServer(
  sim: SimHandle,
  options: { jobs?: Partial<AppConfig['jobs']> } = {},
): Promise<InProcessServer> {
  const server = await startServer(
    inProcessConfig(sim, { inventoryCacheMs: BENCH_INVENTORY_CACHE_MS, jobs: options.jobs }),
  );
  const timer = new ServerTimer(server.app.getHttpServer() as Server, sim.info.url);
  const tools = await listTools(server.url);
  const resources: Partial<Pick<InventoryService, 'invalidate'>> = server.app.get(InventoryService);
  const invalidateCache = resources.invalidate ? () => resources.invalidate?.() : undefined;
  return {
    server,
    timer,
    tools,
    invalidateCache,
    async close() {
      timer.dispose();
      await server.close();
    },
  };
}

/** tools/list over Streamable HTTP (stateless: no initialize needed). */
export async function listTools(url: string): Promise<Set<string>> {
  const client = new Client(new URL(url).origin);
  try {
    const res = await client.request({
      method: 'POST',
      path: '/mcp',
      headers: mcpHeaders(BENCH_API_KEY),
      body: jsonRpc('tools/list', {}),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`tools/list: HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    const answer = parseMcpResponse(text);
    return new Set((answer.result?.tools ?? []).map((t) => t.name));
  } finally {
    await client.close();
  }
}

export const mcpToolCall = (tool: string, args: Record<string, unknown> = {}): HttpCall => ({
  method: 'POST',
  path: '/mcp',
  headers: mcpHeaders(BENCH_API_KEY),
  body: toolsCallBody(tool, args),
  ok: isToolSuccess,
});

export const restGet = (path: string): HttpCall => ({
  method: 'GET',
  path,
  headers: { authorization: `Bearer ${BENCH_API_KEY}`, accept: 'application/json' },
  ok: (status) => status === 200,
});
