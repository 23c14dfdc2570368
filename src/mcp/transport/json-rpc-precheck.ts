import { jsonRpcError } from '../../common/http/json-rpc-error.js';

/**
 * What the SDK's Streamable HTTP transport would answer wrongly, answered before it sees the body:
 * - an empty batch `[]`: JSON-RPC 2.0 makes it an invalid request (-32600); the SDK found nothing to answer (202);
 * - a request whose `params` is not an object (MCP params are always named): -32602 Invalid params naming it;
 *   the SDK called the whole message unparseable (-32700 Parse error).
 * Returns the HTTP status and JSON-RPC error to send, or undefined to hand the body to the SDK.
 */
export function jsonRpcPrecheck(body: unknown): { status: number; error: object } | undefined {
  if (Array.isArray(body) && body.length === 0) {
    return {
      status: 400,
      error: jsonRpcError(
        -32600,
        'Invalid Request: an empty batch ([]) holds no message; send a JSON-RPC message object (or a non-empty array of them)',
      ),
    };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { method, params, id } = body as Record<string, unknown>;
  if (typeof method !== 'string' || params === undefined) return undefined;
  if (typeof params === 'object' && params !== null && !Array.isArray(params)) return undefined;
  const got = params === null ? 'null' : Array.isArray(params) ? 'an array' : typeof params;
  return {
    status: 400,
    error: jsonRpcError(
      -32602,
      `Invalid params: params of ${method.slice(0, 64)} must be an object of named parameters, got ${got}`,
      typeof id === 'string' || typeof id === 'number' ? id : null,
    ),
  };
}
