import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ApiKeyConfig } from '../../src/config/app-config.js';

/** One key per scope (plus the harness's own admin key `test`), distinct and long enough for the loader. */
export const KEYS = {
  read: 'sec-read-key-0123456789abcdef',
  operate: 'sec-operate-key-0123456789abcdef',
  admin: 'sec-admin-key-0123456789abcdef',
} as const;

export const scopedKeys = (): ApiKeyConfig[] => [
  { name: 'reader', secret: KEYS.read, scope: 'read' },
  { name: 'operator', secret: KEYS.operate, scope: 'operate' },
  { name: 'boss', secret: KEYS.admin, scope: 'admin' },
];

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export type ToolResult = {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: any;
};
export const textOf = (r: ToolResult) => r.content.map((c) => c.text ?? '').join('\n');

/** MCP clients connected with a given key; close them all at the end. */
export class Clients {
  private readonly open: Client[] = [];

  async as(url: string, key: string): Promise<Client> {
    const client = new Client({ name: 'security-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
        requestInit: { headers: bearer(key) },
      }),
    );
    this.open.push(client);
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((c) => c.close()));
  }
}

export const callTool = (client: Client, name: string, args: Record<string, unknown> = {}) =>
  client.callTool({ name, arguments: args }) as Promise<ToolResult>;

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with exactly these headers (fetch and supertest normalise Host, duplicates and friends). */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    path?: string;
    /** An object, or a flat [name, value, name, value…] list to send repeated headers as they are. */
    headers?: http.OutgoingHttpHeaders | string[];
    body?: string;
  },
): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: options.path ?? `${u.pathname}${u.search}`,
        method: options.method ?? 'GET',
        headers: options.headers,
        setHost: !Array.isArray(options.headers) && options.headers?.host === undefined,
      },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

export const initializeMessage = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
