import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate, type ApiToken } from './auth.js';
import type { FaultController, FaultSpec } from './faults.js';
import type { RequestLog } from './request-log.js';
import { BodyTooLargeError, readBody, sendData, sendError } from './wire.js';

/**
 * The simulator's own control surface, outside /api2 (for the CLI and benchmarks; tests use `sim.faults`
 * directly). Protected by the same API token. Requests here are not recorded.
 *   POST   /_simulator/faults        JSON fault spec; `match.path` is a string, `match.pathPattern` a RegExp source
 *   GET    /_simulator/faults        active faults
 *   DELETE /_simulator/faults[/ID]   clear all, or one
 *   GET    /_simulator/requests?since=N   recorded requests with seq > N (`total` = all requests seen)
 */
/** What the control surface uses of the API server's dependencies. */
export interface ControlDeps {
  token: ApiToken;
  faults: FaultController;
  log: RequestLog;
}

/** A FaultSpec as JSON: the path is a string, or a RegExp source in pathPattern. */
type FaultBody = Omit<FaultSpec, 'match'> & {
  match?: { method?: string; path?: string; pathPattern?: string };
};

export async function handleControlRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: ControlDeps,
): Promise<void> {
  let raw: Buffer;
  try {
    raw = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return sendError(res, 413, 'request too large');
    throw error;
  }
  const auth = authenticate(req.headers, deps.token);
  if (!auth.ok) return sendError(res, 401, auth.message, { emptyBody: true });
  const method = req.method ?? 'GET';
  const path = url.pathname.replace(/\/+$/, '');
  const faultId = /^\/_simulator\/faults\/(\d+)$/.exec(path);

  if (path === '/_simulator/faults' && method === 'POST') {
    try {
      const id = deps.faults.add(toFaultSpec(JSON.parse(raw.toString('utf8') || '{}')));
      return sendData(res, { id });
    } catch (error) {
      return sendError(res, 400, `invalid fault: ${(error as Error).message}`);
    }
  }
  if (path === '/_simulator/faults' && method === 'GET') {
    return sendData(
      res,
      deps.faults
        .list()
        .map((f) => ({ id: f.id, ...serialisable(f.spec), remaining: f.remaining ?? null, hits: f.hits })),
    );
  }
  if (path === '/_simulator/faults' && method === 'DELETE') {
    deps.faults.clear();
    return sendData(res, null);
  }
  if (faultId && method === 'DELETE') {
    return deps.faults.remove(Number(faultId[1]))
      ? sendData(res, null)
      : sendError(res, 404, 'no such fault');
  }
  if (path === '/_simulator/requests' && method === 'GET') {
    const since = Number(url.searchParams.get('since') ?? 0);
    if (!Number.isInteger(since) || since < 0)
      return sendError(res, 400, 'since must be a non-negative integer');
    return sendData(res, deps.log.since(since), { total: deps.log.total });
  }
  return sendError(res, 404, `no simulator control endpoint ${method} ${path}`);
}

function toFaultSpec(body: unknown): FaultSpec {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new TypeError('expected a JSON object');
  const { match, ...rest } = body as FaultBody;
  if (match === undefined) return rest;
  if (typeof match !== 'object' || match === null) throw new TypeError('match must be an object');
  const { pathPattern, ...matchRest } = match;
  if (pathPattern !== undefined) {
    if (typeof pathPattern !== 'string') throw new TypeError('match.pathPattern must be a string');
    return { ...rest, match: { ...matchRest, path: new RegExp(pathPattern) } };
  }
  return { ...rest, match: matchRest };
}

function serialisable(spec: FaultSpec): Record<string, unknown> {
  const path = spec.match?.path;
  return {
    ...spec,
    ...(spec.match
      ? {
          match: {
            ...spec.match,
            ...(path instanceof RegExp ? { path: undefined, pathPattern: path.source } : {}),
          },
        }
      : {}),
  };
}
