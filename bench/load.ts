import { performance } from 'node:perf_hooks';
import { Client } from 'undici';

/** One HTTP request the load generator repeats. */
export interface HttpCall {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Whether an answer counts as a success. */
  ok(status: number, text: string): boolean;
}

export interface LoadResult {
  calls: number;
  errors: number;
  durationMs: number;
  /** Client-observed latency of every successful call (request written → body read). */
  latenciesMs: number[];
  firstError?: string;
}

/**
 * Closed-loop load: `concurrency` clients, each with its own keep-alive connection (undici Client, no
 * pipelining), sending the next request as soon as the previous answer is read, for `durationMs`. Raw HTTP
 * instead of the MCP SDK client so the figures are the server's, not the SDK client's.
 */
export async function runLoad(
  origin: string,
  call: HttpCall,
  options: { concurrency: number; durationMs: number },
): Promise<LoadResult> {
  const clients = Array.from({ length: options.concurrency }, () => new Client(origin, { pipelining: 1 }));
  const result: LoadResult = { calls: 0, errors: 0, durationMs: 0, latenciesMs: [] };
  const started = performance.now();
  const deadline = started + options.durationMs;
  try {
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < deadline) await once(client, call, result);
      }),
    );
  } finally {
    result.durationMs = performance.now() - started;
    await Promise.all(clients.map((c) => c.close()));
  }
  return result;
}

/**
 * `count` calls one after another on one connection; `between(i)` runs before each call, outside the timing
 * (the bench uses it to reset a cache or read the simulator's request counter).
 */
export async function runSequential(
  origin: string,
  call: HttpCall,
  count: number,
  between?: (i: number) => Promise<void>,
  after?: (i: number) => Promise<void>,
): Promise<LoadResult> {
  const client = new Client(origin, { pipelining: 1 });
  const result: LoadResult = { calls: 0, errors: 0, durationMs: 0, latenciesMs: [] };
  const started = performance.now();
  try {
    for (let i = 0; i < count; i++) {
      await between?.(i);
      await once(client, call, result);
      await after?.(i);
    }
  } finally {
    result.durationMs = performance.now() - started;
    await client.close();
  }
  return result;
}

async function once(client: Client, call: HttpCall, result: LoadResult): Promise<void> {
  const t0 = performance.now();
  try {
    const res = await client.request({
      method: call.method,
      path: call.path,
      headers: call.headers,
      body: call.body,
    });
    const text = await res.body.text();
    const elapsed = performance.now() - t0;
    result.calls++;
    if (call.ok(res.statusCode, text)) {
      result.latenciesMs.push(elapsed);
    } else {
      result.errors++;
      result.firstError ??= `HTTP ${res.statusCode}: ${text.slice(0, 300)}`;
    }
  } catch (error) {
    result.calls++;
    result.errors++;
    result.firstError ??= error instanceof Error ? error.message : String(error);
  }
}
