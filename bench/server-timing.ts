import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

/** One HTTP request as the server handled it. */
export interface ServerSample {
  /** From Node's 'request' event to the response's 'finish' (last byte handed to the socket). */
  serverMs: number;
  /**
   * Wall time during which at least one upstream (PVE) request was in flight while this request was handled
   * (parallel upstream requests count once).
   */
  upstreamMs: number;
  upstreamCalls: number;
}

interface Window {
  start: number;
  upstreamMs: number;
  upstreamCalls: number;
  inFlight: number;
  busySince: number;
}

/**
 * Server-side timing for a server running in the bench process, for calls sent ONE AT A TIME (upstream requests
 * are attributed to the request being handled). Upstream requests are timed with undici's diagnostics channels
 * (`undici:request:create` → `undici:request:trailers`: from the moment the gateway issues the request until
 * the last byte of PVE's answer has arrived), for requests to the simulator's origin only, so the load
 * generator's own undici requests to the server are not counted.
 */
export class ServerTimer {
  readonly samples: ServerSample[] = [];
  private current: Window | undefined;
  private readonly upstreamOf = new WeakMap<object, Window>();
  private readonly onRequest = (_req: IncomingMessage, res: ServerResponse) => {
    const window: Window = {
      start: performance.now(),
      upstreamMs: 0,
      upstreamCalls: 0,
      inFlight: 0,
      busySince: 0,
    };
    this.current = window;
    res.once('finish', () => {
      this.samples.push({
        serverMs: performance.now() - window.start,
        upstreamMs: window.upstreamMs,
        upstreamCalls: window.upstreamCalls,
      });
      if (this.current === window) this.current = undefined;
    });
  };
  private readonly onCreate = (message: unknown) => {
    const request = (message as { request: { origin?: unknown } }).request;
    const window = this.current;
    if (!window || !sameOrigin(request.origin, this.upstreamOrigin)) return;
    this.upstreamOf.set(request, window);
    if (window.inFlight++ === 0) window.busySince = performance.now();
  };
  private readonly onDone = (message: unknown) => {
    const request = (message as { request: object }).request;
    const window = this.upstreamOf.get(request);
    if (!window) return;
    this.upstreamOf.delete(request);
    window.upstreamCalls++;
    if (--window.inFlight === 0) window.upstreamMs += performance.now() - window.busySince;
  };

  constructor(
    private readonly server: Server,
    private readonly upstreamOrigin: string,
  ) {
    // first, so the clock starts before Express sees the request
    server.prependListener('request', this.onRequest);
    subscribe('undici:request:create', this.onCreate);
    subscribe('undici:request:trailers', this.onDone);
    subscribe('undici:request:error', this.onDone);
  }

  reset(): void {
    this.samples.length = 0;
  }

  dispose(): void {
    this.server.off('request', this.onRequest);
    unsubscribe('undici:request:create', this.onCreate);
    unsubscribe('undici:request:trailers', this.onDone);
    unsubscribe('undici:request:error', this.onDone);
  }
}

/** undici's request.origin is a string or a URL, depending on the dispatcher. */
function sameOrigin(origin: unknown, expected: string): boolean {
  const text = typeof origin === 'string' ? origin : origin instanceof URL ? origin.href : undefined;
  if (text === undefined) return false;
  try {
    return new URL(text).origin === expected;
  } catch {
    return false;
  }
}
