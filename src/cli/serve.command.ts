import type { INestApplication } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { createApp } from '../app.setup.js';
import { securityWarnings } from '../health/security-warnings.js';
import { UsageError } from './cli.js';

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
  if (config.http.apiKeys.length > 0) return;
  if (!config.http.allowNoAuth) {
    throw new UsageError(
      'Refusing to start the HTTP server without an API key: set MCP_API_KEY (or PROXMOX_API_KEY), or ' +
        'PROXMOX_ALLOW_NO_AUTH=true for a loopback-only, unauthenticated server.',
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
  await app.listen(port, host);
  const address = app.getHttpServer().address() as { port: number };
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${address.port}`;
  logger.info({ url, targets: config.targets.map((t) => t.name) }, `proxmox-mcp-plus listening on ${url}`);
  for (const warning of securityWarnings(config)) logger.warn(warning);
  return { url, port: address.port, app, close: () => app.close() };
}

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
