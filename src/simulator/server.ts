import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { authenticate, type ApiToken } from './auth.js';
import { handleControlRequest } from './control.js';
import { respondWithFault } from './fault-responses.js';
import type { FaultController } from './faults.js';
import { splitPath } from './path-trie.js';
import { PveError } from './pve-error.js';
import type { RecordedRequest, RequestLog } from './request-log.js';
import { Reply, RouteContext, unknownNode, type Router, type SimulatorServices } from './router.js';
import {
  mergePathParams,
  validateParams,
  type ApiOperation,
  type HttpMethod,
  type PveApiSchema,
} from './schema-validator.js';
import {
  BodyTooLargeError,
  decodeBody,
  decodeForm,
  MalformedBodyError,
  readBody,
  sendData,
  sendError,
} from './wire.js';

/**
 * The HTTPS front of the simulator. Each /api2/json request goes through PVE's order of checks: body on a
 * GET/DELETE (501) → API token (401) → path and method in the schema (501) → path parameters merged (400 on
 * conflict) → allowtoken (403) → proxy to the node named in the path (500 unknown name, 595 node offline) →
 * parameter verification (400) → the simulator's handler (501 if it has none). Faults apply before all of these.
 */
export interface ApiServerDeps {
  schema: PveApiSchema | null;
  router: Router;
  services: SimulatorServices;
  token: ApiToken;
  faults: FaultController;
  log: RequestLog;
  authFailureDelayMs: number;
}

const METHODS = new Set<string>(['GET', 'POST', 'PUT', 'DELETE']);

interface Failure {
  errors?: Record<string, string>;
  headers?: Record<string, string>;
  emptyBody?: boolean;
  /** Real PVE refuses the request itself (not just this state): counted by schemaViolations(). */
  violation?: boolean;
}

export class ApiServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    tls: { key: string; cert: string },
    private readonly deps: ApiServerDeps,
  ) {
    this.server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, error instanceof Error ? error.message : String(error));
      });
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /** Stops listening and drops every connection, hanging ones included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://simulator.invalid');
    if (url.pathname === '/_simulator' || url.pathname.startsWith('/_simulator/')) {
      return handleControlRequest(req, res, url, this.deps);
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const api = /^\/api2\/json(\/.*)?$/.exec(url.pathname);
    const segments = splitPath(api ? (api[1] ?? '') : url.pathname);
    const path = api ? `/${segments.join('/')}` : url.pathname;
    const query = decodeForm(url.search.slice(1));
    const record = this.deps.log.add({ method, path, query, body: null, status: 0 });
    const fail = (status: number, message: string, f: Failure = {}): void => {
      record.status = status;
      if (f.errors) record.schemaErrors = f.errors;
      if (f.violation) record.violation = message;
      sendError(res, status, message, f);
    };

    let rawBody: Buffer;
    try {
      rawBody = await readBody(req);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return fail(413, 'request too large', { violation: true });
      throw error;
    }
    if (!api) {
      return url.pathname.startsWith('/api2')
        ? fail(501, 'no such uri', { violation: true })
        : fail(404, 'Not found');
    }

    const { delayMs, fault } = this.deps.faults.take(method, path);
    if (delayMs > 0) await sleep(delayMs);
    if (fault) {
      record.fault = fault.spec.mode;
      record.status = respondWithFault(fault.spec, req, res);
      return;
    }

    if (rawBody.length > 0 && method !== 'POST' && method !== 'PUT') {
      return fail(501, `Unexpected content for method '${method}'`, { violation: true });
    }
    const auth = authenticate(req.headers, this.deps.token);
    if (!auth.ok) {
      if (this.deps.authFailureDelayMs > 0) await sleep(this.deps.authFailureDelayMs);
      return fail(401, auth.message, { emptyBody: true });
    }

    let params: Record<string, unknown>;
    try {
      const body =
        method === 'POST' || method === 'PUT' ? decodeBody(req.headers['content-type'], rawBody) : {};
      if (rawBody.length > 0) record.body = body;
      params = { ...body, ...query }; // query parameters win, as in pve-http-server extract_params
    } catch (error) {
      if (error instanceof MalformedBodyError) return fail(400, error.message, { violation: true });
      throw error;
    }
    await this.dispatch(method, path, segments, params, auth.tokenUser, record, res, fail);
  }

  private async dispatch(
    method: string,
    path: string,
    segments: string[],
    params: Record<string, unknown>,
    tokenUser: string,
    record: RecordedRequest,
    res: ServerResponse,
    fail: (status: number, message: string, f?: Failure) => void,
  ): Promise<void> {
    const { schema, router } = this.deps;
    const notImplemented = `Method '${method} ${path}' not implemented`;
    let operation: ApiOperation | undefined;
    let pathParams: Record<string, string>;
    if (schema) {
      const resolution = schema.resolve(method, segments);
      if (resolution.kind !== 'found') return fail(501, resolution.message, { violation: true });
      operation = resolution.operation;
      pathParams = resolution.pathParams;
    } else {
      const route = METHODS.has(method) ? router.match(method as HttpMethod, segments) : null;
      if (!route) return fail(501, `${notImplemented} by the PVE simulator`);
      pathParams = route.pathParams;
    }

    const merged = mergePathParams(params, pathParams);
    if (Object.keys(merged.errors).length) {
      return fail(400, 'Parameter verification failed.', { errors: merged.errors, violation: true });
    }
    if (operation?.allowtoken === 0) {
      return fail(
        403,
        `Permission check failed (URI '${path}' not available with API token, need proper ticket.\n)`,
      );
    }
    const proxied = operation ? operation.proxyto === 'node' : segments[0] === 'nodes' && segments.length > 2;
    if (proxied) {
      const nodeName = pathParams.node ?? '';
      const node = this.deps.services.cluster.node(nodeName);
      if (!node) {
        const error = unknownNode(nodeName);
        return fail(error.status, error.message);
      }
      // the receiving node cannot reach the target: AnyEvent::HTTP's 595 passes through unchanged
      if (!node.online) return fail(595, 'Connection refused', { emptyBody: true });
    }
    if (operation) {
      const errors = validateParams(operation, merged.params);
      if (Object.keys(errors).length)
        return fail(400, 'Parameter verification failed.', { errors, violation: true });
    }

    const route = router.match(method as HttpMethod, segments);
    if (!route) return fail(501, `${notImplemented} by the PVE simulator`);
    try {
      const ctx = new RouteContext(
        method as HttpMethod,
        path,
        merged.params,
        this.deps.services,
        tokenUser,
        operation,
      );
      const result: unknown = await route.handler(ctx);
      record.status = 200;
      if (result instanceof Reply) sendData(res, result.data, result.extra);
      else sendData(res, result);
    } catch (error) {
      if (error instanceof PveError) {
        return fail(error.status, error.message, { errors: error.errors, headers: error.headers });
      }
      return fail(500, error instanceof Error ? error.message : String(error));
    }
  }
}
