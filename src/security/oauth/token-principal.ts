import type { JWTPayload } from 'jose';
import type { ApiKeyScope } from '../../config/app-config.js';
import type { OAuthConfig, OAuthRoleConfig } from '../../config/oauth-config.js';
import type { Principal } from '../../common/tools/tool-definition.js';

export type PrincipalOutcome =
  | { ok: true; principal: Principal }
  /** The token is valid but lacks what every call needs: 403 insufficient_scope naming `scope`. */
  | { ok: false; scope: string; description: string };

const RANK: Record<ApiKeyScope, number> = { read: 0, operate: 1, admin: 2 };

/** The values of a claim (`a.b` reaches into objects): a space-separated string or an array of strings. */
export function claimValues(claims: JWTPayload, path: string): string[] {
  let value: unknown = claims;
  for (const part of path.split('.')) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  }
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** A subject as it appears in names and audit rows: printable, bounded. */
const printable = (value: string, max: number) => value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);

/**
 * A verified token's claims → our principal: `oauth:<sub>`, the highest key scope its roles grant (auth.oauth.roles
 * matched against the configured claims), approve when a role says so, and the union of the roles' target, tool
 * and toolset limits (no limit when any matched role has none). Required scopes must all be in `scope`/`scp`.
 */
export function principalFromClaims(
  config: OAuthConfig,
  claims: JWTPayload,
  issuer: string,
): PrincipalOutcome {
  const granted = new Set([...claimValues(claims, 'scope'), ...claimValues(claims, 'scp')]);
  const missing = config.requiredScopes.filter((s) => !granted.has(s));
  if (missing.length > 0) {
    return {
      ok: false,
      scope: [...config.requiredScopes].join(' '),
      description: `the token lacks the required scope ${missing.join(' ')}`,
    };
  }
  const values = new Set(config.claims.flatMap((claim) => claimValues(claims, claim)));
  const roles: OAuthRoleConfig[] = Object.entries(config.roles)
    .filter(([value]) => values.has(value))
    .map(([, role]) => role);
  let scope: ApiKeyScope | undefined;
  for (const role of roles) if (role.scope && (!scope || RANK[role.scope] > RANK[scope])) scope = role.scope;
  if (!scope) {
    const least = Object.entries(config.roles).find(([, role]) => role.scope === 'read')?.[0] ?? 'read';
    return {
      ok: false,
      scope: [...config.requiredScopes, least].join(' '),
      description: `the token grants no role of this server; it needs at least ${least}`,
    };
  }
  const limit = (key: 'targets' | 'tools' | 'toolsets') => {
    const scoped = roles.filter((r) => r.scope);
    if (scoped.some((r) => r[key] === undefined)) return {};
    return { [key]: Object.freeze([...new Set(scoped.flatMap((r) => r[key] ?? []))]) };
  };
  const sub = printable(String(claims.sub), 200);
  const clientId = typeof claims.client_id === 'string' ? claims.client_id : claims.azp;
  const index = config.issuers.findIndex((i) => i.replace(/\/$/, '') === issuer.replace(/\/$/, ''));
  const prefix = config.issuers.length > 1 ? `oauth:${index}:` : 'oauth:';
  return {
    ok: true,
    principal: {
      name: `${prefix}${sub}`,
      scope,
      via: 'oauth',
      subject: sub,
      ...(typeof clientId === 'string' ? { clientId: printable(clientId, 200) } : {}),
      ...(roles.some((r) => r.approve) ? { approver: true } : {}),
      ...limit('targets'),
      ...limit('tools'),
      ...limit('toolsets'),
    },
  };
}
