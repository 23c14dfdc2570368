import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { resolve } from 'node:path';
import { Agent, request } from 'undici';
import { PveSimulator, type SimulatorOptions } from '../../src/simulator/index.js';

/** The real PVE 9.1 schema dump beside the repository (tests run from the repo root). */
export const SCHEMA_PATH =
  process.env.PVE_API_SCHEMA ?? resolve(process.cwd(), '../shared/pve-api/apidoc.json');

/** JSON from the wire: the tests assert it field by field. */
export type Json = any;

export interface SimResponse {
  status: number;
  reason: string;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: Json;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** false: send no Authorization header; a string: send this one instead of the valid token. */
  auth?: boolean | string;
  signal?: AbortSignal;
}

/** A PVE API client for one simulator: trusts its certificate and sends its token unless told otherwise. */
export class SimClient {
  readonly agent: Agent;

  constructor(readonly sim: PveSimulator) {
    this.agent = new Agent({ connect: { ca: sim.certPem } });
  }

  async call(path: string, options: CallOptions = {}): Promise<SimResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.auth !== false)
      headers.authorization = typeof options.auth === 'string' ? options.auth : this.sim.authorization;
    const url = path.startsWith('/_simulator')
      ? `${this.sim.url}${path}`
      : `${this.sim.url}/api2/json${path}`;
    const res = await request(url, {
      dispatcher: this.agent,
      method: (options.method ?? 'GET') as 'GET',
      headers,
      body: options.body,
      signal: options.signal,
    });
    const text = await res.body.text();
    let json: Json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, reason: res.statusText, headers: res.headers, text, json };
  }

  get(path: string, options: CallOptions = {}): Promise<SimResponse> {
    return this.call(path, options);
  }

  /** POST with a form body (the encoding PVE clients use most). */
  post(
    path: string,
    form: Record<string, string | string[]> = {},
    options: CallOptions = {},
  ): Promise<SimResponse> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const item of [v].flat()) params.append(k, item);
    const body = params.toString();
    return this.call(path, {
      ...options,
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
    });
  }

  /** PUT with a form body. */
  put(path: string, form: Record<string, string | string[]> = {}): Promise<SimResponse> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const item of [v].flat()) params.append(k, item);
    return this.call(path, {
      method: 'PUT',
      body: params.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  /** DELETE with query parameters (PVE takes no body on DELETE). */
  del(path: string, query: Record<string, string> = {}): Promise<SimResponse> {
    const qs = new URLSearchParams(query).toString();
    return this.call(qs ? `${path}?${qs}` : path, { method: 'DELETE' });
  }

  /**
   * Waits for the task a 200 answer started and returns its status as PVE reports it (`exitstatus` etc.); fails
   * the test when the answer was not a UPID.
   */
  async task(res: SimResponse): Promise<Json> {
    if (res.status !== 200 || typeof res.json?.data !== 'string') {
      throw new Error(`expected a UPID, got ${res.status} ${res.reason}`);
    }
    const upid: string = res.json.data;
    await this.sim.tasks.whenDone(upid);
    const node = upid.split(':')[1];
    return this.data(`/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`);
  }

  /** The full log of a task. */
  async taskLog(upid: string): Promise<string[]> {
    const node = upid.split(':')[1];
    const log = await this.data(`/nodes/${node}/tasks/${encodeURIComponent(upid)}/log?limit=0`);
    return (log as Array<{ t: string }>).map((l) => l.t);
  }

  postJson(path: string, json: unknown, options: CallOptions = {}): Promise<SimResponse> {
    return this.call(path, {
      ...options,
      method: 'POST',
      body: JSON.stringify(json),
      headers: { 'content-type': 'application/json', ...options.headers },
    });
  }

  /** `data` of a 200 answer; fails the test with the reason otherwise. */
  async data(path: string): Promise<Json> {
    const res = await this.get(path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.reason}`);
    return res.json.data;
  }

  close(): Promise<void> {
    return this.agent.destroy();
  }
}

/** A schema-checked simulator plus a client; `close()` stops both. */
export async function startSim(
  options: SimulatorOptions = {},
): Promise<{ sim: PveSimulator; api: SimClient; close: () => Promise<void> }> {
  const sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0, ...options });
  const api = new SimClient(sim);
  return {
    sim,
    api,
    close: async () => {
      await api.close();
      await sim.stop();
    },
  };
}

/** A suite's `after`: stops the simulator and client, failing when any request was one real PVE would refuse. */
export async function closeChecked(sim: PveSimulator, close: () => Promise<void>): Promise<void> {
  try {
    assert.deepEqual(sim.schemaViolations(), [], 'every request must pass the PVE schema');
  } finally {
    await close();
  }
}

/**
 * The simulator of one describe block, for suites that speak PVE's API directly: started in its `before`, where
 * `started` receives it (to set the suite's variables and add state), and stopped in its `after`, which fails on
 * any request real PVE would refuse, unless the suite sends such requests on purpose (`schemaViolationsExpected`).
 */
export function simulatorApiSuite(
  options: SimulatorOptions,
  started: (s: { sim: PveSimulator; api: SimClient }) => void,
  { schemaViolationsExpected = false }: { schemaViolationsExpected?: boolean } = {},
): void {
  let running: Awaited<ReturnType<typeof startSim>> | undefined;
  before(async () => {
    running = await startSim(options);
    started(running);
  });
  after(async () => {
    if (!running) return;
    if (schemaViolationsExpected) await running.close();
    else await closeChecked(running.sim, running.close);
  });
}

/** A refusal as PVE's config-file and lock-protected APIs give it: HTTP 500 with the message in the status line. */
export async function refusedWith500(
  response: Promise<{ status: number; reason: string }>,
  message: RegExp,
): Promise<void> {
  const r = await response;
  assert.equal(r.status, 500, r.reason);
  assert.match(r.reason, message);
}
