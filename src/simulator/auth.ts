import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The API-token check of pveproxy (proxmox-api.md §2a): `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`
 * (a space instead of the first `=` works too), split at the last `=`. No token → 401 `No ticket`; anything that
 * does not verify → 401 `Authentication failed!`. Tickets (PVEAuthCookie) are not simulated: one always fails.
 */
export interface ApiToken {
  /** `user@realm` */
  user: string;
  tokenName: string;
  secret: string;
}

export type AuthOutcome = { ok: true; tokenUser: string } | { ok: false; message: string };

const TOKEN_ID_RE = /^([^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+)!([A-Za-z][A-Za-z0-9.\-_]+)$/;

/** Parses `user@realm!name=secret` (the CLI's --token form). */
export function parseTokenSpec(spec: string): ApiToken {
  const eq = spec.lastIndexOf('=');
  const m = eq > 0 ? TOKEN_ID_RE.exec(spec.slice(0, eq)) : null;
  const secret = eq > 0 ? spec.slice(eq + 1) : '';
  if (!m || !/^[\x21-\x7e]+$/.test(secret)) {
    throw new TypeError(
      'token must look like USER@REALM!TOKENNAME=SECRET (e.g. root@pam!mcp=0b1c…), secret without spaces',
    );
  }
  return { user: m[1], tokenName: m[2], secret };
}

export function formatTokenSpec(token: ApiToken): string {
  return `${token.user}!${token.tokenName}=${token.secret}`;
}

/** `PVEAPIToken=…` value of the header the way pve-http-server's extract_auth_value reads it. */
function extractTokenValue(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /(?:^|\s)PVEAPIToken(?:=| )([^;]*)/.exec(header);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

function hasTicketCookie(headers: IncomingHttpHeaders): boolean {
  return /(?:^|;\s*)PVEAuthCookie=/.test(headers.cookie ?? '');
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function authenticate(headers: IncomingHttpHeaders, token: ApiToken): AuthOutcome {
  const failed: AuthOutcome = { ok: false, message: 'Authentication failed!' };
  if (hasTicketCookie(headers)) return failed; // a ticket wins over a token, and we issue none
  const value = extractTokenValue(headers.authorization);
  if (value === undefined) return { ok: false, message: 'No ticket' };
  const eq = value.lastIndexOf('=');
  if (eq <= 0) return failed;
  const m = TOKEN_ID_RE.exec(value.slice(0, eq));
  if (!m || m[1] !== token.user || m[2] !== token.tokenName) return failed;
  if (!sameSecret(value.slice(eq + 1), token.secret)) return failed;
  return { ok: true, tokenUser: `${m[1]}!${m[2]}` };
}
