import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { jsonRpcError } from '../common/http/json-rpc-error.js';
import type { ApiKeyConfig } from '../config/app-config.js';
import type { Principal } from '../mcp/registry/tool-definition.js';

/** Routes anyone may call: the liveness probe of orchestrators. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/livez']);
const DOC_PATHS = /^\/(docs(\/.*)?|openapi\.json|docs-json)$/;

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

interface StoredKey {
  name: string;
  scope: ApiKeyConfig['scope'];
  digest: Buffer;
}

export interface ApiKeyAuthOptions {
  keys: ApiKeyConfig[];
  /** PROXMOX_ALLOW_NO_AUTH on a loopback bind: every caller is the local operator. */
  allowNoAuth: boolean;
}

/**
 * Authentication for every HTTP route but /livez: `Authorization: Bearer <key>`, compared as SHA-256 digests
 * in constant time (equal lengths, so timingSafeEqual never throws). Keys in the URL are never accepted.
 * The documentation pages also accept Basic auth (password = key, GET only) so a browser can open /docs;
 * Basic is refused everywhere else, so a cached browser credential can never drive a tool.
 */
export function apiKeyMiddleware(options: ApiKeyAuthOptions) {
  const keys: StoredKey[] = options.keys.map((k) => ({
    name: k.name,
    scope: k.scope,
    digest: digest(k.secret),
  }));

  const match = (secret: string): StoredKey | undefined => {
    const d = digest(secret);
    let found: StoredKey | undefined;
    for (const key of keys) if (timingSafeEqual(d, key.digest)) found = key; // no early exit
    return found;
  };

  return (req: Request & { principal?: Principal }, res: Response, next: NextFunction): void => {
    if (PUBLIC_PATHS.has(req.path) || req.method === 'OPTIONS') return next();
    if (keys.length === 0 && options.allowNoAuth) {
      req.principal = { name: 'anonymous', scope: 'admin', via: 'no-auth' };
      return next();
    }
    const isDocs = DOC_PATHS.test(req.path) && (req.method === 'GET' || req.method === 'HEAD');
    const header = req.headers.authorization;
    const [scheme, credentials, extra] = (typeof header === 'string' ? header.trim() : '').split(/\s+/);
    let secret: string | undefined;
    if (scheme && credentials && extra === undefined) {
      if (scheme.toLowerCase() === 'bearer') secret = credentials;
      else if (scheme.toLowerCase() === 'basic' && isDocs) {
        const decoded = Buffer.from(credentials, 'base64').toString('utf8');
        secret = decoded.includes(':') ? decoded.slice(decoded.indexOf(':') + 1) : undefined;
      }
    }
    const key = secret ? match(secret) : undefined;
    if (!key) return unauthorized(req, res, isDocs, header !== undefined);
    req.principal = { name: key.name, scope: key.scope, via: 'api-key' };
    next();
  };
}

function unauthorized(req: Request, res: Response, isDocs: boolean, hadHeader: boolean): void {
  const message = hadHeader
    ? 'Invalid API key'
    : 'Missing API key: send `Authorization: Bearer <key>` (keys are never accepted in the URL)';
  res.setHeader(
    'WWW-Authenticate',
    isDocs
      ? 'Basic realm="proxmox-mcp-plus docs", Bearer realm="proxmox-mcp-plus"'
      : 'Bearer realm="proxmox-mcp-plus"',
  );
  if (req.path === '/mcp') {
    res.status(401).json(jsonRpcError(-32001, `Unauthorized: ${message}`));
    return;
  }
  res.status(401).json({ statusCode: 401, code: 'UNAUTHORIZED', message });
}
