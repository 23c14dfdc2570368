/**
 * The floor of the stdio cold start: the least a node process can do to answer an MCP client's tools/list. It
 * answers `initialize` and `tools/list` on stdio from the build's tool manifest (dist/src/mcp/tool-manifest.json),
 * one JSON-RPC message per line, and nothing else. Only node: built-ins, so its start-up is node's own.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const MANIFEST = new URL('../src/mcp/tool-manifest.json', import.meta.url);
let tools: unknown[] | undefined;

createInterface({ input: process.stdin }).on('line', (line) => {
  const message = JSON.parse(line) as {
    id?: number | string;
    method?: string;
    params?: { protocolVersion?: string };
  };
  if (message.id === undefined) return; // notifications
  let result: unknown;
  if (message.method === 'initialize') {
    result = {
      protocolVersion: message.params?.protocolVersion,
      capabilities: { tools: {} },
      serverInfo: { name: 'stdio-floor', version: '0.0.0' },
    };
  } else if (message.method === 'tools/list') {
    tools ??= (JSON.parse(readFileSync(MANIFEST, 'utf8')) as { tools: unknown[] }).tools;
    result = { tools };
  }
  const answer =
    result === undefined
      ? { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'Method not found' } }
      : { jsonrpc: '2.0', id: message.id, result };
  process.stdout.write(`${JSON.stringify(answer)}\n`);
});
