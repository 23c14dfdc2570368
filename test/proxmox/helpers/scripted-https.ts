import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import type { TargetConfig } from '../../../src/config/app-config.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void;

/**
 * A bare HTTPS server whose answer each test scripts (status line, reason phrase, headers, body). It is not a PVE
 * simulator: it exists for the exact wire forms the simulator does not produce, such as an old PVE's error with
 * only a reason phrase and no `message`.
 */
export class ScriptedHttps {
  readonly requests: RecordedRequest[] = [];
  handler: Handler = (_req, res) => json(res, 200, { data: null });

  private readonly server: Server;
  readonly certPem: string;
  readonly fingerprint: string;
  port = 0;

  private constructor(pems: { private: string; cert: string }) {
    this.certPem = pems.cert;
    this.fingerprint = new X509Certificate(pems.cert).fingerprint256;
    this.server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const recorded = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(recorded);
        this.handler(recorded, res);
      });
    });
  }

  static async start(): Promise<ScriptedHttps> {
    const pems = await generate([{ name: 'commonName', value: 'pve.test' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const scripted = new ScriptedHttps(pems);
    await new Promise<void>((resolve) => scripted.server.listen(0, '127.0.0.1', resolve));
    scripted.port = (scripted.server.address() as AddressInfo).port;
    return scripted;
  }

  target(overrides: Partial<TargetConfig> = {}): TargetConfig {
    return {
      name: 'scripted',
      host: '127.0.0.1',
      port: this.port,
      service: 'PVE',
      timeoutMs: 5_000,
      inventoryCacheMs: 0,
      verifySsl: true,
      fingerprint: this.fingerprint,
      user: 'mcp@pve',
      tokenName: 'ci',
      tokenValue: 'b7c1e0f4-0000-4000-8000-5ecre75ecre7',
      readOnly: false,
      ...overrides,
    };
  }

  reset(): void {
    this.requests.length = 0;
    this.handler = (_req, res) => json(res, 200, { data: null });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Writes a PVE-style JSON answer; `reason` sets the HTTP reason phrase. */
export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  reason?: string,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  const allHeaders = { 'content-type': 'application/json;charset=UTF-8', ...headers };
  if (reason === undefined) res.writeHead(status, allHeaders);
  else res.writeHead(status, reason, allHeaders);
  res.end(text);
}
