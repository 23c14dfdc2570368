import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig } from '../../config/app-config.js';
import type { Principal } from '../../common/tools/tool-definition.js';

/** The cookie of a signed-in operator; only sent back to the page's own paths. */
export const SESSION_COOKIE = 'pmp_approvals';
/** How long a sign-in lasts; the operator signs in again after it. */
export const SESSION_TTL_MS = 30 * 60 * 1000;

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();
const b64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

interface SessionKey {
  principal: Principal;
  digest: Buffer;
  /** HMAC key of this API key's sessions, derived from the key; never the key itself. */
  macKey: Buffer;
}

/** A verified session: who signed in, and the CSRF token its forms must carry. */
export interface PageSession {
  principal: Principal;
  csrf: string;
  nonce: string;
  expiresAt: number;
}

/**
 * Sessions of the approvals page without server-side state, so that every replica with the same API keys accepts
 * them: the cookie is `name.expires.nonce.mac`, with mac = HMAC-SHA256(key-derived secret, name.expires.nonce).
 * The key never leaves the sign-in request: the cookie holds only its name and a MAC that only a holder of the key
 * (or the server) can produce. Removing the key from the configuration ends its sessions. Sign-out clears the
 * cookie and remembers the nonce on this replica until it expires (a copied cookie is useless after sign-out here).
 */
export class PageSessions {
  private readonly keys: SessionKey[];
  private readonly signedOut = new Map<string, number>();

  constructor(
    apiKeys: readonly ApiKeyConfig[],
    private readonly now: () => number = Date.now,
  ) {
    this.keys = apiKeys.map((k) => ({
      principal: { name: k.name, scope: k.scope, via: 'api-key' },
      digest: sha256(k.secret),
      macKey: createHmac('sha256', 'proxmox-mcp-plus approvals page session').update(k.secret).digest(),
    }));
  }

  get configured(): boolean {
    return this.keys.length > 0;
  }

  /** The key a sign-in form presented, compared as SHA-256 digests in constant time (no early exit). */
  match(secret: string): Principal | undefined {
    const d = sha256(secret);
    let found: SessionKey | undefined;
    for (const key of this.keys) if (timingSafeEqual(d, key.digest)) found = key;
    return found?.principal;
  }

  /** A new session cookie value for this principal (a key of the configuration). */
  issue(principal: Principal): string {
    const key = this.keys.find((k) => k.principal.name === principal.name);
    if (!key) throw new Error(`no API key named ${principal.name}`);
    const payload = `${b64url(principal.name)}.${this.now() + SESSION_TTL_MS}.${randomBytes(18).toString('base64url')}`;
    return `${payload}.${mac(key.macKey, payload)}`;
  }

  /** The session of a cookie value, or undefined when it is missing, forged, expired or signed out. */
  verify(cookie: string | undefined): PageSession | undefined {
    if (!cookie || cookie.length > 512) return undefined;
    const parts = cookie.split('.');
    if (parts.length !== 4) return undefined;
    const [name64, expires, nonce, presented] = parts;
    const name = Buffer.from(name64, 'base64url').toString('utf8');
    const key = this.keys.find((k) => k.principal.name === name);
    if (!key) return undefined;
    const expected = Buffer.from(mac(key.macKey, `${name64}.${expires}.${nonce}`));
    const given = Buffer.from(presented);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const expiresAt = Number(expires);
    if (!Number.isSafeInteger(expiresAt) || expiresAt <= this.now()) return undefined;
    if (this.signedOut.has(nonce)) return undefined;
    return { principal: key.principal, csrf: mac(key.macKey, `csrf.${nonce}`), nonce, expiresAt };
  }

  /** Whether a form's CSRF token is this session's (constant time). */
  csrfMatches(session: PageSession, presented: string | undefined): boolean {
    if (!presented) return false;
    const a = Buffer.from(presented);
    const b = Buffer.from(session.csrf);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  signOut(session: PageSession): void {
    const now = this.now();
    for (const [nonce, until] of this.signedOut) if (until <= now) this.signedOut.delete(nonce);
    this.signedOut.set(session.nonce, session.expiresAt);
  }
}

const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload).digest('base64url');

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for the session: HttpOnly, SameSite=Strict, only for the page's paths, Secure over https. */
export function sessionCookie(value: string, secure: boolean, maxAgeMs = SESSION_TTL_MS): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/approvals',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
