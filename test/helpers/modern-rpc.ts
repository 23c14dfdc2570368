/**
 * Raw MCP 2026-07-28 requests over HTTP, as the wire carries them: the `_meta` envelope (protocol version, client
 * info and capabilities) on every request and the Mcp-Method / Mcp-Name routing headers. For what the SDK
 * clients do not send or do not accept (the Tasks extension's task handles, tasks/get, tasks/cancel).
 */
export const MODERN = '2026-07-28';
export const TASKS = 'io.modelcontextprotocol/tasks';

export interface RpcAnswer {
  status: number;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
  /** Notifications the server sent before the answer (an SSE response). */
  notifications: Array<{ method: string; params?: any }>;
}

export interface ModernRpcOptions {
  /** Client capabilities for the envelope; default none. */
  capabilities?: Record<string, unknown>;
  /** Headers to send instead of the derived Mcp-Method / Mcp-Name (to test the server's header checks). */
  headers?: Record<string, string>;
}

let nextId = 1;

export function modernRpc(url: string, auth: Record<string, string>) {
  return async (method: string, params: Record<string, unknown> = {}, options: ModernRpcOptions = {}) => {
    const id = nextId++;
    const name =
      typeof params.name === 'string'
        ? params.name
        : typeof params.taskId === 'string'
          ? params.taskId
          : undefined;
    const res = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: {
        ...auth,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': method,
        ...(name === undefined ? {} : { 'mcp-name': name }),
        ...options.headers,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id,
        method,
        params: {
          ...params,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN,
            'io.modelcontextprotocol/clientInfo': { name: 'raw-e2e', version: '1' },
            'io.modelcontextprotocol/clientCapabilities': options.capabilities ?? {},
          },
        },
      }),
    });
    const text = await res.text();
    const messages = res.headers.get('content-type')?.includes('text/event-stream')
      ? text
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => JSON.parse(line.slice(5)))
      : text
        ? [JSON.parse(text)]
        : [];
    const answer = messages.find((m) => m.id === id) ?? messages.find((m) => m.error) ?? {};
    return {
      status: res.status,
      result: answer.result,
      error: answer.error,
      notifications: messages.filter((m) => m.method !== undefined),
    } as RpcAnswer;
  };
}

/** Client capabilities that declare the Tasks extension. */
export const WITH_TASKS = { capabilities: { extensions: { [TASKS]: {} } } };
