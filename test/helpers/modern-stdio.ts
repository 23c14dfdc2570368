import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { simulatorTargetEnv, type PveSimulator } from '../../src/simulator/index.js';
import { MODERN } from './modern-rpc.js';
import { SCHEMA_PATH } from './test-app.js';

export interface StdioMessage {
  jsonrpc: '2.0';
  id?: string | number;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: any };
}

/**
 * `proxmox-mcp-plus stdio` as a raw MCP 2026-07-28 peer: one JSON-RPC message per line each way, every request
 * with the `_meta` envelope, against the simulator and its own SQLite job store. For what the SDK clients do not
 * drive over stdio (task handles, tasks/*, task listens, multi round-trip retries).
 */
export function startModernStdio(sim: PveSimulator, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pmp-stdio-raw-'));
  const child = spawn(process.execPath, ['bin/proxmox-mcp-plus.js', 'stdio'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PVE_API_SCHEMA: SCHEMA_PATH,
      ...simulatorTargetEnv(sim),
      PROXMOX_JOBS_SQLITE_PATH: join(dir, 'jobs.sqlite3'),
      LOG_LEVEL: 'error',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const received: StdioMessage[] = [];
  let wake = () => {};
  createInterface({ input: child.stdout }).on('line', (line) => {
    received.push(JSON.parse(line) as StdioMessage);
    wake();
  });
  /** The first message received (so far or later) that matches. */
  const until = async (match: (m: StdioMessage) => boolean, ms = 30_000): Promise<StdioMessage> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = received.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(received)}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  };
  const send = (id: number, method: string, params: object, capabilities: object = {}) =>
    child.stdin.write(
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method,
        params: {
          ...params,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientInfo': { name: 'raw-stdio', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': capabilities,
          },
        },
      }) + '\n',
    );
  /** Sends a request and waits for its answer. */
  const call = async (id: number, method: string, params: object, capabilities: object = {}) => {
    send(id, method, params, capabilities);
    return until((m) => m.id === id);
  };
  const close = async () => {
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  };
  return { received, until, send, call, close };
}
