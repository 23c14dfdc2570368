import {
  classifyInboundRequest,
  isJsonContentType,
  ProtocolError,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/server';
import type { IncomingHttpHeaders } from 'node:http';
import type { Response } from 'express';
import { checkedCallParams, type CheckedCallParams } from './call-tool-request.js';

/** A 2025-era stateless tools/call the direct path may answer: its JSON-RPC id and checked params. */
export interface DirectToolCall {
  id: string | number;
  params: CheckedCallParams;
}

/**
 * The hot path of `POST /mcp`: the message most traffic is, a 2025-era tools/call without a session, answered
 * without the SDK's per-request machinery (a web Request built from the Node request, a server and a transport
 * built and connected, an SSE stream piped back into the Node response), which cost more than the tool call itself
 * (`npm run bench`, docs/benchmarks.md). It is taken only when the SDK would do nothing more than call our
 * handler: the SDK's own classifier says the request is 2025-era with no envelope, the headers are ones its
 * transport accepts, and the params are plain (a name we serve, arguments, at most a progress token). Anything
 * else — a 2026-07-28 request, a batch, an unknown tool, a malformed or unusual call, another method — goes to the
 * SDK, which answers it as before, errors included. Returns undefined for those.
 */
export function directToolCall(
  body: unknown,
  headers: IncomingHttpHeaders,
  serves: (tool: string) => boolean,
): DirectToolCall | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const message = body as Record<string, unknown>;
  if (message.jsonrpc !== '2.0' || message.method !== 'tools/call') return undefined;
  const id = message.id;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isInteger(id))) return undefined;
  if (!acceptsBoth(headers.accept) || !isJsonContentType(headers['content-type'] ?? null)) return undefined;
  if (headers['mcp-session-id'] !== undefined) return undefined;
  const version = single(headers['mcp-protocol-version']);
  if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
  const route = classifyInboundRequest({
    httpMethod: 'POST',
    body,
    protocolVersionHeader: version,
    mcpMethodHeader: single(headers['mcp-method']),
    mcpNameHeader: single(headers['mcp-name']),
  });
  if (route.kind !== 'legacy' || route.reason !== 'no-claim') return undefined;
  let params: CheckedCallParams;
  try {
    params = checkedCallParams(message.params);
  } catch {
    return undefined; // the SDK path answers the field-by-field -32602
  }
  const extra = Object.keys(params).filter((k) => k !== 'name' && k !== 'arguments' && k !== '_meta');
  const meta =
    params._meta === undefined ? [] : Object.keys(params._meta).filter((k) => k !== 'progressToken');
  if (extra.length > 0 || meta.length > 0 || !serves(params.name)) return undefined;
  return { id, params };
}

/**
 * The answer on the Node response: plain JSON when the call sent no notification before its result (almost every
 * call), else an SSE stream begun at the first notification (progress, a task's log lines while waiting), so
 * nothing the SDK's transport would have streamed is lost or delayed. Streamable HTTP lets the server pick either.
 */
export class DirectCallResponse {
  private streaming = false;
  private readonly aborter = new AbortController();

  constructor(
    private readonly res: Response,
    private readonly id: string | number,
  ) {
    // the client went away before the answer: the call's signal stops its waits
    res.once('close', () => {
      if (!res.writableFinished) this.aborter.abort();
    });
  }

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  notify = (notification: { method: string; params: Record<string, unknown> }): Promise<void> => {
    if (this.res.writableEnded || this.res.destroyed) return Promise.resolve();
    if (!this.streaming) {
      this.streaming = true;
      this.res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      });
    }
    this.res.write(sseEvent({ jsonrpc: '2.0', ...notification }));
    return Promise.resolve();
  };

  result(result: unknown): void {
    this.end({ jsonrpc: '2.0', id: this.id, result });
  }

  /** A protocol error thrown by the handler, as the SDK's server would have answered it. */
  error(error: unknown): void {
    const known = error instanceof ProtocolError;
    this.end({
      jsonrpc: '2.0',
      id: this.id,
      error: {
        code: known ? error.code : -32603,
        message: known ? error.message : 'Internal error',
        ...(known && error.data !== undefined ? { data: error.data } : {}),
      },
    });
  }

  private end(message: object): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (this.streaming) {
      this.res.end(sseEvent(message));
      return;
    }
    const text = JSON.stringify(message);
    this.res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    this.res.end(text);
  }
}

function sseEvent(message: object): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

function acceptsBoth(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/json') && accept.includes('text/event-stream');
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
