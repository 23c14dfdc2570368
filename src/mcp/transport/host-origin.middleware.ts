import type { NextFunction, Request, Response } from 'express';
import { jsonRpcError } from '../../common/http/json-rpc-error.js';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]', '']);

export interface HostOriginPolicy {
  bindHost: string;
  allowedHosts: string[];
  allowedOrigins: string[];
}

const hostnameOf = (hostHeader: string): string => {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d+$/, '');
};

/**
 * DNS-rebinding protection for /mcp. The SDK checks Host only; the MCP spec also requires a 403 for a foreign
 * Origin. Loopback Hosts and Origins are always accepted (any port); others only when configured. On a wildcard
 * bind without MCP_ALLOWED_HOSTS the Host is not checked (the API key still is), and startup warns about it.
 */
export function hostOriginMiddleware(policy: HostOriginPolicy) {
  const hosts = new Set([...LOOPBACK_NAMES, ...policy.allowedHosts.map((h) => hostnameOf(h))]);
  if (!WILDCARD_BINDS.has(policy.bindHost)) hosts.add(hostnameOf(policy.bindHost));
  const checkHost = !(WILDCARD_BINDS.has(policy.bindHost) && policy.allowedHosts.length === 0);
  const origins = new Set(policy.allowedOrigins.map((o) => o.toLowerCase().replace(/\/$/, '')));

  const originAllowed = (origin: string): boolean => {
    if (origins.has(origin.toLowerCase())) return true;
    try {
      const url = new URL(origin);
      return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_NAMES.has(url.hostname);
    } catch {
      return false;
    }
  };

  return (req: Request, res: Response, next: NextFunction): void => {
    const host = req.headers.host;
    if (!host || (checkHost && !hosts.has(hostnameOf(host)))) {
      forbid(res, `Host '${host ?? ''}' is not allowed; add it to mcp.allowed_hosts (MCP_ALLOWED_HOSTS)`);
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin)) {
      forbid(res, `Origin '${origin}' is not allowed; add it to mcp.allowed_origins (MCP_ALLOWED_ORIGINS)`);
      return;
    }
    next();
  };
}

function forbid(res: Response, message: string): void {
  res.status(403).json(jsonRpcError(-32000, `Forbidden: ${message}`));
}
