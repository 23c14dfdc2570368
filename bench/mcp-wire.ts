/** Raw Streamable HTTP messages: the load generator speaks HTTP itself so the figures are the server's. */
export const MCP_PROTOCOL_VERSION = '2025-06-18';

export function mcpHeaders(apiKey: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MCP_PROTOCOL_VERSION,
    authorization: `Bearer ${apiKey}`,
  };
}

export function jsonRpc(method: string, params: object, id: number | null = 1): string {
  return JSON.stringify(
    id === null ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', id, method, params },
  );
}

export const toolsCallBody = (name: string, args: Record<string, unknown> = {}): string =>
  jsonRpc('tools/call', { name, arguments: args });

export interface JsonRpcAnswer {
  id?: number | string | null;
  result?: { isError?: boolean; tools?: Array<{ name: string }>; [key: string]: unknown };
  error?: { code: number; message: string };
}

/**
 * The JSON-RPC answer in a Streamable HTTP response body: plain JSON, or the last `data:` line of an SSE stream
 * (the stateless transport answers a POST with a short event stream when the client accepts one).
 */
export function parseMcpResponse(text: string): JsonRpcAnswer {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed) as JsonRpcAnswer;
  const data = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trim())
    .filter((line) => line.includes('"jsonrpc"'));
  if (data.length === 0) throw new Error(`not a JSON-RPC answer: ${text.slice(0, 200)}`);
  return JSON.parse(data[data.length - 1]) as JsonRpcAnswer;
}

/** A tools/call answer that is a result and not a tool error. */
export function isToolSuccess(status: number, text: string): boolean {
  return status === 200 && text.includes('"result"') && !text.includes('"isError":true');
}
