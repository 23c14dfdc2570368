import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { createApp } from '../app.setup.js';
import { securityWarnings } from '../health/security-warnings.js';
import { UsageError } from './cli-errors.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface ServeOptions {
  host?: string;
  port?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  /** The Nest application (tests and the benchmark reach services through it). */
  app: INestApplication;
  close(): Promise<void>;
}

/** Refuses configurations that would expose Proxmox without authentication. */
export function assertAuthConfigured(config: AppConfig, host: string): void {
  // OAuth tokens (auth.oauth) authenticate every caller too
  if (config.http.apiKeys.length > 0 || config.oauth) return;
  if (!config.http.allowNoAuth) {
    throw new UsageError(
      'Refusing to start the HTTP server without an API key: anyone who reaches the port could operate Proxmox. ' +
        'Set one: PROXMOX_API_KEY=$(openssl rand -base64 32) (or MCP_API_KEY, or serve --api-key KEY), and send it ' +
        'as "Authorization: Bearer KEY"; or PROXMOX_ALLOW_NO_AUTH=true for a loopback-only, unauthenticated server.',
    );
  }
  if (!LOOPBACK.has(host)) {
    throw new UsageError(
      `PROXMOX_ALLOW_NO_AUTH=true only works on a loopback bind (127.0.0.1, ::1), not on '${host}'. Set an API key.`,
    );
  }
}

/** Starts the HTTP server and returns once it listens. */
export async function startServer(config: AppConfig, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? config.mcp.host;
  const port = options.port ?? config.mcp.port;
  assertAuthConfigured(config, host);
  const { app, logger } = await createApp({ ...config, mcp: { ...config.mcp, host } });
  hardenHttpServer(app.getHttpServer(), config);
  await app.listen(port, host);
  const address = app.getHttpServer().address() as { port: number };
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${address.port}`;
  logger.info({ url, targets: config.targets.map((t) => t.name) }, `proxmox-mcp-plus listening on ${url}`);
  for (const warning of securityWarnings(config)) logger.warn(warning);
  return {
    url,
    port: address.port,
    app,
    close: async () => {
      await app.close();
      // a log file (logging.file) is written asynchronously: flush what is buffered before returning
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
    },
  };
}

/** Most headers a request may carry; pveproxy allows 64, browsers send ~20. */
const MAX_HEADERS = 100;
/** Total header bytes (Node answers 431 beyond it). */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Limits a slow or flooding client cannot stretch: all headers within http.headers_timeout_seconds, the whole
 * request within http.request_timeout_seconds (408 and the socket closed), at most MAX_HEADERS headers and
 * MAX_HEADER_BYTES of them (431). Responses are not limited: a tool call that waits for a task keeps streaming.
 */
export function hardenHttpServer(server: Server, config: AppConfig): void {
  server.headersTimeout = config.http.headersTimeoutMs;
  server.requestTimeout = Math.max(config.http.requestTimeoutMs, config.http.headersTimeoutMs);
  // how often Node looks for requests over those limits; at most a second late
  // (public properties, read when the server starts listening; @types/node 20 lacks the first two)
  const tunable = server as Server & { connectionsCheckingInterval: number; maxHeaderSize: number };
  tunable.connectionsCheckingInterval = Math.min(1000, config.http.headersTimeoutMs);
  tunable.maxHeaderSize = MAX_HEADER_BYTES;
  server.maxHeadersCount = MAX_HEADERS;
  server.on('clientError', answerClientError);
}

/**
 * What Node answers itself when a request cannot even be parsed (too many or too large headers, a malformed
 * request line, a timeout), with a small JSON body instead of an empty one, so a client can tell why.
 * Registering the listener replaces Node's default answer, so this keeps its rules: nothing is written on a
 * reset connection or once a response is under way, and the socket is always closed.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const known = CLIENT_ERRORS[error.code ?? ''];
  const [status, reason, code, message] = known ?? CLIENT_ERRORS.default;
  const body = JSON.stringify({
    statusCode: status,
    code,
    // which rule of HTTP/1.1 the request broke, as Node's parser names it (HPE_INVALID_METHOD, …)
    message: known || !error.code ? message : `${message} (${error.code.slice(0, 40)})`,
  });
  // the socket is closed once the answer is flushed, whatever the client still sends
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/** Node's parser and timeout errors → status line and JSON body (as in the error mappers: statusCode, code, message). */
const CLIENT_ERRORS: Record<string, readonly [number, string, string, string]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'Request Header Fields Too Large',
    'PAYLOAD_TOO_LARGE',
    `Request headers too large: at most ${MAX_HEADERS} header lines and ${MAX_HEADER_BYTES / 1024} KiB of headers`,
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [
    408,
    'Request Timeout',
    'TIMEOUT',
    'The request did not arrive in time: headers within http.headers_timeout_seconds, all of it within ' +
      'http.request_timeout_seconds',
  ],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [
    413,
    'Content Too Large',
    'PAYLOAD_TOO_LARGE',
    'Chunk extensions too large',
  ],
  default: [400, 'Bad Request', 'VALIDATION', 'Malformed HTTP request'],
};

export async function runServe(config: AppConfig, options: ServeOptions): Promise<number> {
  const server = await startServer(config, options);
  await waitForSignal();
  await server.close();
  return 0;
}

export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
