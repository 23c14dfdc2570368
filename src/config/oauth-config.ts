/** The API-key scopes (ApiKeyScope of app-config.ts, which imports this file). */
type ApiKeyScope = 'read' | 'operate' | 'admin';
import {
  fileSection,
  isPlainObject,
  overlay,
  parseBoolean,
  parseInteger,
  parseList,
  parseString,
  REDACTED,
  textOf,
  type Field,
  type Problems,
} from './config-fields.js';
import { isToolset } from '../common/tools/toolsets.js';

/**
 * `auth.oauth` (and MCP_OAUTH_* variables): this server as an OAuth 2.1 resource server (issue 19). Absent = off.
 * Parsed here, in one block, rather than through the field tables: it is one nested object of the `auth` section,
 * whose other keys are the legacy target's Proxmox credentials.
 */
export interface OAuthRoleConfig {
  /** The key scope this claim value grants (the highest granted wins). */
  scope?: ApiKeyScope;
  /** The holder may approve other principals' gated calls (POST /approvals/{id}). */
  approve?: boolean;
  /** Limits like an API key's; the union over the matched roles, absent on any matched role = no limit. */
  targets?: string[];
  tools?: string[];
  toolsets?: string[];
}

export interface OAuthConfig {
  /** Accepted token issuers (the `iss` claim, exact); their discovery documents name the JWKS. */
  issuers: string[];
  /** Our resource identifier: the canonical URL of /mcp (RFC 8707, RFC 9728 `resource`). */
  resource: string;
  /** Accepted `aud` values; by default only `resource`. */
  audiences: string[];
  /** Scopes every token must carry (403 insufficient_scope otherwise). */
  requiredScopes: string[];
  /** Claims read for roles, in order (space-separated strings or arrays): scope, scp, roles, groups. */
  claims: string[];
  /** Claim value → what it grants. Default: read, operate, admin, approve grant what their names say. */
  roles: Record<string, OAuthRoleConfig>;
  /** Accepted JWS algorithms (asymmetric only). */
  algorithms: string[];
  clockSkewSeconds: number;
  jwksCacheSeconds: number;
  /** API keys keep working beside OAuth (auth.oauth.api_keys); false = OAuth tokens only. */
  apiKeys: boolean;
  /** RFC 7662 introspection for opaque (non-JWT) tokens; absent = opaque tokens are refused. */
  introspection?: { endpoint: string; clientId: string; clientSecret: string };
  /** The client id Swagger UI signs in with (authorization code + PKCE); absent = no OAuth in Swagger UI. */
  swaggerClientId?: string;
}

export const OAUTH_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

export const DEFAULT_OAUTH_ROLES: Record<string, OAuthRoleConfig> = {
  read: { scope: 'read' },
  operate: { scope: 'operate' },
  admin: { scope: 'admin' },
  approve: { approve: true },
};

/** File key → environment variable. */
const OAUTH_ENV: Record<string, string> = {
  enabled: 'MCP_OAUTH_ENABLED',
  issuers: 'MCP_OAUTH_ISSUERS',
  resource: 'MCP_OAUTH_RESOURCE',
  audiences: 'MCP_OAUTH_AUDIENCES',
  required_scopes: 'MCP_OAUTH_REQUIRED_SCOPES',
  claims: 'MCP_OAUTH_CLAIMS',
  roles: 'MCP_OAUTH_ROLES',
  algorithms: 'MCP_OAUTH_ALGORITHMS',
  clock_skew_seconds: 'MCP_OAUTH_CLOCK_SKEW_SECONDS',
  jwks_cache_seconds: 'MCP_OAUTH_JWKS_CACHE_SECONDS',
  api_keys: 'MCP_OAUTH_API_KEYS',
  introspection_endpoint: 'MCP_OAUTH_INTROSPECTION_ENDPOINT',
  introspection_client_id: 'MCP_OAUTH_INTROSPECTION_CLIENT_ID',
  introspection_client_secret: 'MCP_OAUTH_INTROSPECTION_CLIENT_SECRET',
  swagger_client_id: 'MCP_OAUTH_SWAGGER_CLIENT_ID',
};
export const OAUTH_KEYS = Object.keys(OAUTH_ENV);

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An absolute https URL (http only on a loopback host or in dev mode), without fragment or credentials. */
function isServerUrl(value: string, devMode: boolean): boolean {
  try {
    const url = new URL(value);
    if (url.hash || url.username || url.password) return false;
    if (url.protocol === 'https:') return true;
    return url.protocol === 'http:' && (devMode || LOOPBACK_HOSTS.has(url.hostname));
  } catch {
    return false;
  }
}

const urlItem = (devMode: boolean) => ({
  check: (s: string) => isServerUrl(s, devMode),
  expected: 'an https URL (http only on 127.0.0.1/localhost or with security.dev_mode)',
});
const SCOPE_TOKEN = {
  check: (s: string) => /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/.test(s),
  expected: 'a scope name',
};

/** Reads `auth.oauth` (file value, may be undefined) with its variables over it. Undefined = OAuth off. */
export function parseOAuthConfig(
  problems: Problems,
  env: NodeJS.ProcessEnv,
  value: unknown,
  devMode: boolean,
): OAuthConfig | undefined {
  const section = overlay(fileSection(problems, value, 'auth.oauth', OAUTH_KEYS), env, OAUTH_ENV);
  const get = (key: string, secret = false) => section.get(key, { secret });
  // kept as written (the metadata names them so); compared without a trailing slash
  const issuers = parseList(problems, get('issuers'), [], urlItem(devMode));
  // set issuers (even bad ones, reported above) turn it on
  const enabled = parseBoolean(problems, get('enabled'), get('issuers').value !== undefined);
  if (!enabled) return undefined;
  if (issuers.length === 0) problems.missing(get('issuers').label, 'the URL of at least one token issuer');
  const resourceField = get('resource');
  const resource = parseString(problems, resourceField, {
    expected: "the canonical https URL of this server's /mcp, e.g. https://mcp.example.org/mcp",
    pattern: /^https?:\/\/\S+$/,
  });
  if (resourceField.value === undefined) {
    problems.missing(resourceField.label, "the canonical URL of this server's /mcp (the token audience)");
  } else if (resource !== undefined && !isServerUrl(resource, devMode)) {
    problems.bad(resourceField, urlItem(devMode).expected);
  }
  const algorithms = parseList(problems, get('algorithms'), OAUTH_ALGORITHMS, {
    check: (s) => (OAUTH_ALGORITHMS as readonly string[]).includes(s),
    expected: `one of ${OAUTH_ALGORITHMS.join(', ')} (asymmetric algorithms only)`,
  });
  const endpoint = parseString(problems, get('introspection_endpoint'), {
    expected: urlItem(devMode).expected,
    pattern: /^https?:\/\/\S+$/,
  });
  const clientId = parseString(problems, get('introspection_client_id'), { expected: 'a client id' });
  const clientSecret = parseString(problems, get('introspection_client_secret', true), {
    expected: 'the client secret',
  });
  if (endpoint !== undefined && (clientId === undefined || clientSecret === undefined)) {
    problems.missing(
      get('introspection_client_id').label,
      'introspection_client_id and introspection_client_secret with introspection_endpoint',
    );
  }
  const swaggerClientId = parseString(problems, get('swagger_client_id'), { expected: 'a client id' });
  return {
    issuers,
    resource: resource ?? '',
    audiences: parseList(problems, get('audiences'), resource ? [resource] : [], {
      check: (s) => s.length <= 512,
      expected: 'an audience value',
    }),
    requiredScopes: parseList(problems, get('required_scopes'), [], SCOPE_TOKEN),
    claims: parseList(problems, get('claims'), ['scope', 'scp', 'roles', 'groups'], {
      check: (s) => /^[A-Za-z0-9_.:/-]{1,128}$/.test(s),
      expected: 'a claim name (dots reach into objects, e.g. realm_access.roles)',
    }),
    roles: parseRoles(problems, get('roles')),
    algorithms,
    clockSkewSeconds: parseInteger(problems, get('clock_skew_seconds'), 0, 300, 30),
    jwksCacheSeconds: parseInteger(problems, get('jwks_cache_seconds'), 1, 86_400, 600),
    apiKeys: parseBoolean(problems, get('api_keys'), true),
    ...(endpoint && clientId && clientSecret ? { introspection: { endpoint, clientId, clientSecret } } : {}),
    ...(swaggerClientId ? { swaggerClientId } : {}),
  };
}

const SCOPES: readonly ApiKeyScope[] = ['read', 'operate', 'admin'];
const ROLE_KEYS = ['scope', 'approve', 'targets', 'tools', 'toolsets'];

function parseRoles(problems: Problems, field: Field): Record<string, OAuthRoleConfig> {
  if (field.value === undefined) return { ...DEFAULT_OAUTH_ROLES };
  let value: unknown = field.value;
  if (field.fromEnv) {
    try {
      value = JSON.parse(textOf(field.value));
    } catch {
      value = undefined;
    }
  }
  const expected =
    'a JSON object mapping claim values to {"scope": "read"|"operate"|"admin", "approve": true, "targets": [...], "tools": [...], "toolsets": [...]}';
  if (!isPlainObject(value)) {
    problems.bad(field, expected);
    return {};
  }
  const roles: Record<string, OAuthRoleConfig> = {};
  for (const [claim, entry] of Object.entries(value)) {
    const label = `${field.label}.${claim}`;
    if (!isPlainObject(entry)) {
      problems.bad({ ...field, label, value: entry, fromEnv: false }, expected);
      continue;
    }
    const role = fileSection(problems, entry, label, ROLE_KEYS);
    const role_: OAuthRoleConfig = {};
    const scope = role.get('scope');
    if (scope.value !== undefined) {
      if (typeof scope.value === 'string' && (SCOPES as readonly string[]).includes(scope.value)) {
        role_.scope = scope.value as ApiKeyScope;
      } else problems.bad(scope, 'one of read, operate, admin');
    }
    if (parseBoolean(problems, role.get('approve'), false)) role_.approve = true;
    for (const key of ['targets', 'tools', 'toolsets'] as const) {
      const f = role.get(key);
      if (f.value === undefined) continue;
      role_[key] = parseList(
        problems,
        f,
        [],
        key === 'toolsets'
          ? { check: isToolset, expected: 'a toolset name' }
          : { check: (s) => /^[A-Za-z0-9_.-]{1,64}$/.test(s), expected: 'a name' },
      );
    }
    if (role_.scope === undefined && !role_.approve) {
      problems.add(label, 'grants nothing; set "scope" and/or "approve": true');
    }
    roles[claim] = role_;
  }
  return roles;
}

/** describeConfig's view (secrets redacted). */
export function describeOAuth(config: OAuthConfig | undefined): Record<string, unknown> {
  if (!config) return { enabled: false };
  return {
    enabled: true,
    issuers: config.issuers,
    resource: config.resource,
    audiences: config.audiences,
    required_scopes: config.requiredScopes,
    claims: config.claims,
    roles: config.roles,
    algorithms: config.algorithms,
    clock_skew_seconds: config.clockSkewSeconds,
    jwks_cache_seconds: config.jwksCacheSeconds,
    api_keys: config.apiKeys,
    introspection_endpoint: config.introspection?.endpoint ?? null,
    introspection_client_id: config.introspection?.clientId ?? null,
    introspection_client_secret: config.introspection ? REDACTED : null,
    swagger_client_id: config.swaggerClientId ?? null,
  };
}
