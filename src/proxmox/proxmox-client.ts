import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { TargetConfig } from '../config/app-config.js';
import { approvalCheckpoint } from '../common/context/call-context.js';
import { DomainError } from '../common/errors/domain-error.js';
import { plannedMutation, plannedRead, plannedTaskRead } from '../common/plan/plan-mode.js';
import type { UpstreamCall } from '../metrics/upstream-call.js';
import {
  BodyCutError,
  isRetryable,
  ProxmoxErrorMapper,
  UpstreamStatusError,
  type PveMethod,
  type UpstreamCallContext,
} from './proxmox-errors.js';
import { connectorFor, tlsModeOf } from './tls.js';
import type { MutationHook } from './mutation-hook.js';

export type PveParamValue = string | number | boolean | string[] | undefined;
/** Query or body parameters. `undefined` is dropped; booleans are sent as 1/0 (PVE rejects "true" at top level). */
export type PveParams = Record<string, PveParamValue>;

export interface PveCallOptions {
  /** Caller-side cancellation (e.g. the MCP request went away). */
  signal?: AbortSignal;
  /** Total deadline for this call, headers and body and retries included; defaults to the target's timeoutMs. */
  timeoutMs?: number;
}

export interface ProxmoxLogger {
  warn(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

export interface ProxmoxClientOptions {
  /** Bodies larger than this are cut off and reported as UPSTREAM_PROTOCOL. Default 16 MiB. */
  maxResponseBytes?: number;
  /** Extra attempts for GETs after a reset/refused connection or a 502/503/504. Default 2. */
  getRetries?: number;
  /** First backoff step; doubles per attempt, with jitter. Default 200 ms. */
  retryBaseDelayMs?: number;
  logger?: ProxmoxLogger;
  /**
   * Called when a POST, PUT or DELETE has ended (answered or failed: either may have changed something), so
   * cached reads of this target can be dropped.
   */
  onMutation?: () => void;
  /** Called once per logical call (retries included) when it has ended: /metrics records PVE latency and errors. */
  onCall?: (call: UpstreamCall) => void;
  /** Wraps each POST/PUT/DELETE after its approval checkpoint (the change journal; mutation-hook.ts). */
  mutationHook?: MutationHook;
}

/** A PVE success envelope: `{"data": ..., "total"?: N}`. */
interface Envelope {
  data: unknown;
  total?: number;
}

/** A GET shared by concurrent identical callers; aborted only when every caller has given up. */
interface SharedGet {
  promise: Promise<Envelope>;
  controller: AbortController;
  waiters: number;
  /** The first caller gets the parsed answer itself, later ones a copy, so no caller sees another's mutations. */
  handedOut: boolean;
}

const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Error bodies are small JSON (`message`, `errors`); anything bigger is not worth reading. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const RETRY_AFTER_CAP_MS = 5_000;
const CONNECTIONS_PER_TARGET = 16;
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * HTTP client for ONE Proxmox VE target (cluster or standalone node), over an undici keep-alive pool.
 *
 * Returns the unwrapped `data` of PVE's envelope and throws only DomainError, with messages that never contain
 * the token. Error forms handled are those of proxmox-api.md §3-§4 (status, `message` or else the reason phrase,
 * `errors`); transport faults those of security-and-faults.md §4.3 (deadline, size cap, resets, non-JSON).
 *
 * Deadline vs cancel: the per-call deadline (timeoutMs, headers + body + retries) gives TIMEOUT; the caller's own
 * AbortSignal gives INTERNAL "request cancelled", since the caller chose to stop and nothing upstream failed.
 */
export class ProxmoxClient {
  readonly name: string;
  private readonly pool: Pool;
  private readonly authorization: string;
  private readonly maxResponseBytes: number;
  private readonly getRetries: number;
  private readonly retryBaseDelayMs: number;
  private readonly logger?: ProxmoxLogger;
  private readonly onMutation?: () => void;
  private readonly onCall?: (call: UpstreamCall) => void;
  private readonly mutationHook?: MutationHook;
  private readonly inflight = new Map<string, SharedGet>();
  private readonly errors: ProxmoxErrorMapper;

  constructor(
    private readonly target: TargetConfig,
    options: ProxmoxClientOptions = {},
  ) {
    this.name = target.name;
    this.errors = new ProxmoxErrorMapper(target);
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.getRetries = options.getRetries ?? 2;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 200;
    this.logger = options.logger;
    this.onMutation = options.onMutation;
    this.onCall = options.onCall;
    this.mutationHook = options.mutationHook;
    this.authorization = `PVEAPIToken=${target.user}!${target.tokenName}=${target.tokenValue}`;
    const host = target.host.includes(':') && !target.host.startsWith('[') ? `[${target.host}]` : target.host;

    if (tlsModeOf(target) === 'insecure') {
      this.logWarn(
        { target: target.name, host: target.host, port: target.port },
        `TLS verification is DISABLED for Proxmox target '${target.name}' (verify_ssl=false, dev mode): ` +
          'anyone on the network path can read the API token and impersonate Proxmox. ' +
          'Set proxmox.fingerprint or proxmox.ca_file instead.',
      );
    }

    this.pool = new Pool(`https://${host}:${target.port}`, {
      connections: CONNECTIONS_PER_TARGET,
      pipelining: 1,
      connect: connectorFor(target, CONNECT_TIMEOUT_MS),
      // undici's timeouts are idle timers (bodyTimeout never fires on a slow trickle); every call carries its
      // own total deadline instead, so these are disabled rather than left to fire at odd moments.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  async get<T>(path: string, query?: PveParams, opts?: PveCallOptions): Promise<T> {
    const planned = plannedTaskRead(path); // a dry run follows its placeholder task without asking PVE
    if (planned) return planned.answer as T;
    return plannedRead(path, async () => (await this.coalescedGet(path, query, opts)).data as T);
  }

  /** For paged lists that carry a top-level `total` (task log, task list, syslog). */
  async getWithTotal<T>(
    path: string,
    query?: PveParams,
    opts?: PveCallOptions,
  ): Promise<{ data: T; total?: number }> {
    const planned = plannedTaskRead(path);
    if (planned) return { data: planned.answer as T, total: 0 };
    const envelope = await plannedRead(path, () => this.coalescedGet(path, query, opts));
    return envelope.total === undefined
      ? { data: envelope.data as T }
      : { data: envelope.data as T, total: envelope.total };
  }

  async post<T>(path: string, body?: PveParams, opts?: PveCallOptions): Promise<T> {
    return this.mutate<T>('POST', path, undefined, body, opts);
  }

  async put<T>(path: string, body?: PveParams, opts?: PveCallOptions): Promise<T> {
    return this.mutate<T>('PUT', path, undefined, body, opts);
  }

  async delete<T>(path: string, query?: PveParams, opts?: PveCallOptions): Promise<T> {
    return this.mutate<T>('DELETE', path, query, undefined, opts);
  }

  private async mutate<T>(
    method: Exclude<PveMethod, 'GET'>,
    path: string,
    query: PveParams | undefined,
    body: PveParams | undefined,
    opts: PveCallOptions | undefined,
  ): Promise<T> {
    // a dry run records the request instead of sending it (src/common/plan)
    const planned = plannedMutation(method, path, query ?? body);
    if (planned) return planned.answer as T;
    // a gated call is approved (or refused) before its first change is sent, after its read-only checks
    await approvalCheckpoint();
    try {
      const send = async () => (await this.call(method, path, query, body, opts)).data;
      if (!this.mutationHook) return (await send()) as T;
      const read = (p: string) => this.get<unknown>(p, undefined, opts);
      return (await this.mutationHook(
        { target: this.name, method, path, params: body ?? query, read },
        send,
      )) as T;
    } finally {
      // after the answer, not before: a read that started meanwhile must not be kept as the new state
      this.onMutation?.();
    }
  }

  /** Closes the pool; requests still running after a short grace period are aborted. */
  async close(): Promise<void> {
    const closed = this.pool.close();
    const graceOver = sleep(2_000, 'timeout' as const, { ref: false });
    if ((await Promise.race([closed, graceOver])) === 'timeout') await this.pool.destroy();
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** Identical concurrent GETs (same path, query and deadline) share one upstream request. */
  private coalescedGet(
    path: string,
    query: PveParams | undefined,
    opts: PveCallOptions = {},
  ): Promise<Envelope> {
    const timeoutMs = opts.timeoutMs ?? this.target.timeoutMs;
    const key = `${timeoutMs} ${path}?${queryString(query)}`;
    let shared = this.inflight.get(key);
    if (!shared) {
      const controller = new AbortController();
      const promise = this.call('GET', path, query, undefined, { timeoutMs, signal: controller.signal });
      const entry: SharedGet = { promise, controller, waiters: 0, handedOut: false };
      promise
        .finally(() => {
          if (this.inflight.get(key) === entry) this.inflight.delete(key);
        })
        .catch(() => undefined); // callers observe the rejection through their own await
      this.inflight.set(key, entry);
      shared = entry;
    }
    return this.awaitShared(key, shared, {
      method: 'GET',
      path: stripQuery(path),
      callerSignal: opts.signal,
    });
  }

  private awaitShared(
    key: string,
    shared: SharedGet,
    ctx: { method: PveMethod; path: string; callerSignal?: AbortSignal },
  ): Promise<Envelope> {
    const signal = ctx.callerSignal;
    if (signal?.aborted) return Promise.reject(this.errors.cancelledError(ctx));
    shared.waiters++;
    return new Promise<Envelope>((resolve, reject) => {
      const leave = () => {
        signal?.removeEventListener('abort', onAbort);
        shared.waiters--;
      };
      const onAbort = () => {
        leave();
        if (shared.waiters === 0) {
          // Nobody is waiting any more: stop the upstream request and let the next caller start afresh.
          if (this.inflight.get(key) === shared) this.inflight.delete(key);
          shared.controller.abort();
        }
        reject(this.errors.cancelledError(ctx));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      shared.promise.then(
        (value) => {
          leave();
          resolve(shared.handedOut ? structuredClone(value) : value);
          shared.handedOut = true;
        },
        (error: unknown) => {
          leave();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /** One logical call, reported to `onCall` when it has ended. */
  private async call(
    method: PveMethod,
    path: string,
    query: PveParams | undefined,
    body: PveParams | undefined,
    opts: PveCallOptions = {},
  ): Promise<Envelope> {
    const report = this.onCall;
    if (!report) return this.send(method, path, query, body, opts);
    const started = performance.now();
    const done = (errorCode?: string) =>
      report({
        target: this.name,
        method,
        path: stripQuery(path),
        durationMs: performance.now() - started,
        ...(errorCode ? { errorCode } : {}),
      });
    try {
      const envelope = await this.send(method, path, query, body, opts);
      done();
      return envelope;
    } catch (error) {
      done(opts.signal?.aborted ? 'CANCELLED' : error instanceof DomainError ? error.code : 'INTERNAL');
      throw error;
    }
  }

  /** Deadline, retries for GET, and the mapping of every failure to a DomainError. */
  private async send(
    method: PveMethod,
    path: string,
    query: PveParams | undefined,
    body: PveParams | undefined,
    opts: PveCallOptions = {},
  ): Promise<Envelope> {
    if (!path.startsWith('/')) {
      throw new DomainError('INTERNAL', `Proxmox API path must start with '/' (got ${JSON.stringify(path)})`);
    }
    const timeoutMs = opts.timeoutMs ?? this.target.timeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    const ctx: UpstreamCallContext = {
      method,
      path: stripQuery(path),
      timeoutMs,
      deadline,
      callerSignal: opts.signal,
    };
    const signal = opts.signal ? AbortSignal.any([deadline, opts.signal]) : deadline;
    const startedAt = Date.now();
    const maxAttempts = 1 + (method === 'GET' ? this.getRetries : 0);

    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(method, path, query, body, signal);
      } catch (error) {
        const mapped = this.errors.toDomainError(error, ctx);
        if (attempt >= maxAttempts || signal.aborted || !isRetryable(error)) throw mapped;
        const delayMs = this.retryDelayMs(attempt, error);
        if (Date.now() - startedAt + delayMs >= timeoutMs) throw mapped; // would not finish in time anyway
        this.logger?.debug?.(
          { target: this.name, method, path: ctx.path, attempt, delayMs, code: mapped.code },
          `Retrying Proxmox GET after: ${mapped.message}`,
        );
        try {
          await sleep(delayMs, undefined, { signal });
        } catch (sleepError) {
          throw this.errors.toDomainError(sleepError, ctx);
        }
      }
    }
  }

  private async attempt(
    method: PveMethod,
    path: string,
    query: PveParams | undefined,
    body: PveParams | undefined,
    signal: AbortSignal,
  ): Promise<Envelope> {
    const qs = queryString(query);
    const headers: Record<string, string> = { authorization: this.authorization, accept: 'application/json' };
    let payload: string | undefined;
    if (body !== undefined) {
      // form-encoded like pvesh, proxmoxer and the Terraform provider: every PVE version, reverse proxy and
      // PVE-compatible emulator takes it (an array is a repeated key, a boolean 1/0, as PVE decodes them)
      payload = formBody(body);
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await this.pool.request({
      method,
      path: `/api2/json${path}${qs ? (path.includes('?') ? '&' : '?') + qs : ''}`,
      headers,
      body: payload,
      signal,
    });

    if (res.statusCode < 200 || res.statusCode >= 300) {
      // The body of an error is optional (401 has none; PVE < 8.3 has no `message`): read what there is.
      const text = await readBody(res.body, res.headers, MAX_ERROR_BODY_BYTES, signal).catch(() => '');
      throw new UpstreamStatusError(res.statusCode, res.statusText ?? '', text, retryAfterMs(res.headers));
    }
    const contentType = headerValue(res.headers['content-type']) ?? '';
    if (!/^application\/json\b/i.test(contentType)) {
      discard(res.body);
      throw new DomainError(
        'UPSTREAM_PROTOCOL',
        `Proxmox answered with ${contentType ? `'${contentType.split(';')[0]}'` : 'no content type'} instead of JSON`,
        {
          hint: 'Something other than the PVE API answered: check proxmox.host/port and any proxy in between.',
        },
      );
    }
    const text = await readBody(res.body, res.headers, this.maxResponseBytes, signal);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new DomainError('UPSTREAM_PROTOCOL', 'Proxmox sent invalid or truncated JSON');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !('data' in parsed)) {
      throw new DomainError('UPSTREAM_PROTOCOL', "Proxmox's answer has no 'data' field");
    }
    const envelope = parsed as { data: unknown; total?: unknown };
    const total = envelope.total === undefined ? undefined : Number(envelope.total);
    return Number.isFinite(total) ? { data: envelope.data, total } : { data: envelope.data };
  }

  private retryDelayMs(attempt: number, error: unknown): number {
    const backoff = this.retryBaseDelayMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
    const hinted = error instanceof UpstreamStatusError ? error.retryAfterMs : undefined;
    return Math.round(
      hinted === undefined ? backoff : Math.min(Math.max(hinted, backoff), RETRY_AFTER_CAP_MS),
    );
  }

  private logWarn(obj: object, msg: string): void {
    if (this.logger) this.logger.warn(obj, msg);
    else process.emitWarning(msg, { code: 'PROXMOX_INSECURE_TLS' });
  }
}

// ---------------------------------------------------------------------------------------------------------------

function stripQuery(path: string): string {
  const i = path.indexOf('?');
  return i === -1 ? path : path.slice(0, i);
}

/** Stable (sorted) query string, so identical queries coalesce whatever the key order. */
function queryString(params: PveParams | undefined): string {
  if (!params) return '';
  const search = new URLSearchParams();
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) search.append(key, item);
    else search.append(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  }
  return search.toString();
}

/** POST/PUT parameters as x-www-form-urlencoded: the same encoding as a query string. */
const formBody = (params: PveParams): string => queryString(params);

/** Reads a body up to `limit` bytes; past it, stops reading (the socket is dropped) and reports UPSTREAM_PROTOCOL. */
async function readBody(
  body: Readable,
  headers: IncomingHttpHeaders,
  limit: number,
  signal: AbortSignal,
): Promise<string> {
  const tooLarge = () => {
    discard(body);
    return new DomainError('UPSTREAM_PROTOCOL', `Proxmox response larger than ${limit} bytes`, {
      hint: 'Narrow the request (filters, limit/start paging) so the answer stays smaller.',
    });
  };
  const declared = Number(headerValue(headers['content-length']));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    // An abort (deadline, caller) is classified by the caller; anything else broke the connection mid-body.
    if (error instanceof DomainError || signal.aborted) throw error;
    throw new BodyCutError(size, error);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** Drops a body we will not read. Destroying it emits an AbortError that nobody awaits; swallow that one. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function retryAfterMs(headers: IncomingHttpHeaders): number | undefined {
  const value = headerValue(headers['retry-after']);
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
