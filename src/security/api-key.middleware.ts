import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { jsonRpcError } from '../common/http/json-rpc-error.js';
import type { ApiKeyConfig } from '../config/app-config.js';
import type { Principal } from '../common/tools/tool-definition.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import type { BearerTokenHook } from './oauth/bearer-hook.js';

/** Routes anyone may call: the liveness probe of orchestrators. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/livez']);
const DOC_PATHS = /^\/(docs(\/.*)?|openapi\.json|docs-json)$/;

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

interface StoredKey {
  principal: Principal;
  digest: Buffer;
}

/** A refused attempt, for the audit log. Never carries the presented credential. */
export interface AuthDenial {
  /** basic-scheme: a valid key sent with Basic auth to a route that only takes Bearer. */
  reason: 'missing' | 'invalid' | 'basic-scheme' | 'throttled' | 'oauth-invalid' | 'oauth-forbidden';
  address?: string;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Failures from this address in the current window. */
  failures: number;
}

export interface ApiKeyAuthOptions {
  keys: ApiKeyConfig[];
  /** PROXMOX_ALLOW_NO_AUTH on a loopback bind: every caller is the local operator. */
  allowNoAuth: boolean;
  /** After this many failures per address and window, further failures get 429 + Retry-After. */
  failureLimit: number;
  failureWindowMs: number;
  /**
   * Called for the failures up to the limit and once when an address becomes throttled; not for the throttled
   * attempts after that, so a brute-force run cannot flood the audit log.
   */
  onDenied?: (denial: AuthDenial) => void;
  /** auth.oauth: Bearer credentials that are no API key are OAuth access tokens (src/security/oauth). */
  oauth?: BearerTokenHook;
}

/**
 * Authentication for every HTTP route but /livez: `Authorization: Bearer <key>`, compared as SHA-256 digests
 * in constant time (equal lengths, so timingSafeEqual never throws). Keys in the URL are never accepted.
 * The documentation pages also accept Basic auth (password = key, GET only) so a browser can open /docs;
 * Basic is refused everywhere else, so a cached browser credential can never drive a tool.
 *
 * Failed attempts are counted per client address (AuthFailureLimiter). Over the limit, a failed attempt gets
 * 429 with Retry-After instead of 401; a request with a valid key is still served, so clients sharing an address
 * (NAT, a reverse proxy) with a misbehaving one keep working. Guessing is made infeasible by key length (16+
 * characters, enforced at boot), not by the lockout; the lockout tells scanners to back off and bounds the audit
 * and log volume they cause.
 */
export function apiKeyMiddleware(options: ApiKeyAuthOptions) {
  const keys: StoredKey[] = options.keys.map((k) => ({
    principal: {
      name: k.name,
      scope: k.scope,
      via: 'api-key',
      ...(k.targets ? { targets: Object.freeze([...k.targets]) } : {}),
      ...(k.tools ? { tools: Object.freeze([...k.tools]) } : {}),
      ...(k.toolsets ? { toolsets: Object.freeze([...k.toolsets]) } : {}),
    },
    digest: digest(k.secret),
  }));
  const limiter = new AuthFailureLimiter(options.failureLimit, options.failureWindowMs);

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
    // Node keeps only the first of repeated Authorization headers; refuse them rather than let the first win
    const header = authorizationHeaderCount(req.rawHeaders) > 1 ? '' : req.headers.authorization;
    if (isDocs && header === undefined && options.oauth?.publicDocs) return next();
    const presented = presentedCredential(header);
    const key = presented && (presented.scheme === 'bearer' || isDocs) ? match(presented.secret) : undefined;
    if (key) {
      req.principal = key.principal;
      return next();
    }
    const oauth = options.oauth;
    if (oauth && presented?.scheme === 'bearer') {
      oauth.authenticate(presented.secret).then((outcome) => {
        if ('principal' in outcome) {
          req.principal = outcome.principal;
          return next();
        }
        const denial = deny(req, outcome.status === 403 ? 'oauth-forbidden' : 'oauth-invalid');
        if (denial.throttled) return tooManyFailures(req, res, denial.retryAfterMs, oauth.challenge);
        res.setHeader('WWW-Authenticate', outcome.challenge);
        refusal(req, res, outcome.status, outcome.message);
      }, next);
      return;
    }
    // A valid key sent with Basic to an API route (Swagger's "Try it out" before Authorize, a browser's cached
    // login): still refused, so a cached browser credential can never drive a tool, but the answer says how.
    const why: Exclude<AuthDenial['reason'], 'throttled'> =
      header === undefined
        ? 'missing'
        : presented?.scheme === 'basic' && match(presented.secret)
          ? 'basic-scheme'
          : 'invalid';

    const verdict = deny(req, why);
    const challenge = oauth?.challenge ?? 'Bearer realm="proxmox-mcp-plus"';
    if (verdict.throttled) return tooManyFailures(req, res, verdict.retryAfterMs, challenge);
    unauthorized(req, res, isDocs, why, referenceDetail(header, presented, why), challenge);
  };

  function deny(req: Request, why: Exclude<AuthDenial['reason'], 'throttled'>) {
    const verdict = limiter.fail(req.ip ?? req.socket.remoteAddress);
    const denial: AuthDenial = {
      reason: verdict.throttled ? 'throttled' : why,
      address: req.ip ?? req.socket.remoteAddress,
      method: req.method,
      path: req.path,
      failures: verdict.count,
    };
    if (verdict.count <= options.failureLimit + 1) options.onDenied?.(denial);
    return verdict;
  }
}

/** A refusal in the route's own format: JSON-RPC on /mcp, the REST error body elsewhere. */
function refusal(req: Request, res: Response, status: 401 | 403, message: string): void {
  if (req.path === '/mcp') {
    res
      .status(status)
      .json(jsonRpcError(-32001, `${status === 401 ? 'Unauthorized' : 'Forbidden'}: ${message}`));
    return;
  }
  const code = status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN';
  res.status(status).json({ statusCode: status, code, message, detail: message });
}

/**
 * The key in an Authorization header: the token of `Bearer <key>`, or the password of `Basic base64(user:key)`.
 * Whether that key may be used on a given route is the caller's decision (Basic only on the documentation).
 */
export function presentedCredential(
  header: string | undefined,
): { scheme: 'bearer' | 'basic'; secret: string } | undefined {
  const [scheme, credentials, extra] = (typeof header === 'string' ? header.trim() : '').split(/\s+/);
  if (!scheme || !credentials || extra !== undefined) return undefined;
  if (scheme.toLowerCase() === 'bearer') return { scheme: 'bearer', secret: credentials };
  if (scheme.toLowerCase() !== 'basic') return undefined;
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 || colon === decoded.length - 1
    ? undefined
    : { scheme: 'basic', secret: decoded.slice(colon + 1) };
}

function authorizationHeaderCount(rawHeaders: string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === 'authorization') count++;
  return count;
}

/**
 * The reference's own words for a refused Authorization header (its clients read `detail`). A wrong key is 401
 * here, where the reference answered 403: a missing or wrong credential is 401 by RFC 9110.
 */
function referenceDetail(
  header: string | undefined,
  presented: ReturnType<typeof presentedCredential>,
  why: Exclude<AuthDenial['reason'], 'throttled'>,
): string {
  const [scheme = '', credentials] = (header ?? '').trim().split(/\s+/);
  if (why === 'missing' || !credentials) return 'Missing or invalid Authorization header';
  if (scheme.toLowerCase() === 'basic') return presented ? 'Invalid credentials' : BASIC_FORMAT;
  if (scheme.toLowerCase() === 'bearer') return 'Invalid API key';
  return 'Unsupported authorization method';
}

const BASIC_FORMAT = 'Invalid Basic Authentication format';

function unauthorized(
  req: Request,
  res: Response,
  isDocs: boolean,
  why: Exclude<AuthDenial['reason'], 'throttled'>,
  detail: string,
  challenge: string,
): void {
  const message =
    why === 'missing'
      ? 'Missing API key: send `Authorization: Bearer <key>` (keys are never accepted in the URL)'
      : why === 'basic-scheme'
        ? 'Basic authentication is accepted only for the documentation pages (/docs); send this API key as ' +
          '`Authorization: Bearer <key>` (in Swagger UI: Authorize, then paste the key)'
        : detail === BASIC_FORMAT
          ? `${BASIC_FORMAT}: send \`Authorization: Basic base64(user:key)\` (documentation pages only) or \`Authorization: Bearer <key>\``
          : detail === 'Unsupported authorization method'
            ? 'Unsupported authorization method: send `Authorization: Bearer <key>`'
            : 'Invalid API key';
  res.setHeader('WWW-Authenticate', isDocs ? `Basic realm="proxmox-mcp-plus docs", ${challenge}` : challenge);
  if (req.path === '/mcp') {
    res.status(401).json(jsonRpcError(-32001, `Unauthorized: ${message}`));
    return;
  }
  // a valid key sent with Basic to an API route: the reference would have taken it, so our explanation is the detail
  res.status(401).json({
    statusCode: 401,
    code: 'UNAUTHORIZED',
    message,
    detail: why === 'basic-scheme' ? message : detail,
  });
}

function tooManyFailures(req: Request, res: Response, retryAfterMs: number, challenge: string): void {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const message = `Too many failed authentication attempts from this address; retry in ${seconds} s with a valid API key`;
  res.setHeader('Retry-After', String(seconds));
  res.setHeader('WWW-Authenticate', challenge);
  if (req.path === '/mcp') {
    res.status(429).json(jsonRpcError(-32001, message));
    return;
  }
  res.status(429).json({ statusCode: 429, code: 'RATE_LIMITED', message, detail: 'Too many requests' });
}
