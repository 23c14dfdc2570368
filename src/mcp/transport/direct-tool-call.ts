import { isJsonContentType, ProtocolError, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import type { IncomingHttpHeaders } from 'node:http';
import type { Response } from 'express';
import { checkedCallParams, type CheckedCallParams } from './call-tool-request.js';
import { isSharedAnswer } from '../../common/tools/shared-answer.js';

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
 * handler: a 2025-era protocol version (or none), so no 2026-07-28 envelope can be claimed (`_meta` may hold
 * nothing but a progress token), headers its transport accepts, and plain params (a name we serve, arguments).
 * Those conditions are what the SDK's classifier (classifyInboundRequest) calls a legacy request without a claim;
 * they are checked directly because the classifier's schema parse cost a tenth of the call. Anything
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
 * The JSON of shared results (common/tools/shared-answer.ts: frozen, the same object for every caller while the
 * inventory answer it was built from is cached), serialised once rather than per call; dropped with the result.
 */
const sharedJson = new WeakMap<object, string>();

function resultJson(result: object): string {
  let json = sharedJson.get(result);
  if (json === undefined) {
    json = JSON.stringify(result);
    sharedJson.set(result, json);
  }
  return json;
}

/**
 * The answer on the Node response, framed as the SDK's transport frames it (an SSE stream: notifications such as
 * progress or a waited-for task's log lines as they happen, then the result), so a client or a script that reads
 * `data:` lines sees no difference between the two paths.
 */
export class DirectCallResponse {
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
    this.write({ jsonrpc: '2.0', ...notification });
    return Promise.resolve();
  };

  result(result: unknown): void {
    if (!isSharedAnswer(result)) {
      this.write({ jsonrpc: '2.0', id: this.id, result }, true);
      return;
    }
    // the same bytes as JSON.stringify({ jsonrpc, id, result }) (which nests each member's JSON as it is), with
    // the result's JSON kept from an earlier call
    this.send(`{"jsonrpc":"2.0","id":${JSON.stringify(this.id)},"result":${resultJson(result)}}`, true);
  }

  /** A protocol error thrown by the handler, as the SDK's server would have answered it. */
  error(error: unknown): void {
    const known = error instanceof ProtocolError;
    this.write(
      {
        jsonrpc: '2.0',
        id: this.id,
        error: {
          code: known ? error.code : -32603,
          message: known ? error.message : 'Internal error',
          ...(known && error.data !== undefined ? { data: error.data } : {}),
        },
      },
      true,
    );
  }

  private write(message: object, last = false): void {
    this.send(JSON.stringify(message), last);
  }

  /** One SSE event carrying one serialised JSON-RPC message. */
  private send(json: string, last: boolean): void {
    const res = this.res;
    if (res.writableEnded || res.destroyed) return;
    const event = sseEvent(json);
    if (!res.headersSent) {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        // the usual answer, a result with nothing before it, is one event: sent whole, not chunked
        ...(last ? { 'content-length': event.length } : {}),
      });
    }
    if (last) res.end(event);
    else res.write(event);
  }
}

const SSE_PREFIX = 'event: message\ndata: ';
const SSE_SUFFIX = '\n\n';

/**
 * `event: message\ndata: <json>\n\n` as bytes, encoded once straight into a buffer of the right size: its length is
 * the content-length and the socket is handed these bytes. A string would be joined (a copy of the JSON), measured,
 * then encoded again on the write: about 0.5 ms of a 1,000-VM get_vms answer (npm run bench, 5,000 guests).
 */
function sseEvent(json: string): Buffer {
  const size = Buffer.byteLength(json);
  const event = Buffer.allocUnsafe(SSE_PREFIX.length + size + SSE_SUFFIX.length);
  event.write(SSE_PREFIX, 0, 'latin1');
  event.write(json, SSE_PREFIX.length, size, 'utf8');
  event.write(SSE_SUFFIX, SSE_PREFIX.length + size, 'latin1');
  return event;
}

function acceptsBoth(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/json') && accept.includes('text/event-stream');
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
