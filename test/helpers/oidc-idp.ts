import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';

/** The scopes (roles) of this server that the test identity provider hands out. */
export const ROLES = ['read', 'operate', 'admin', 'approve'] as const;

export interface TestIdp {
  issuer: string;
  /** The account the next browser sign-in logs in as, and the roles (scopes) it may be granted. */
  signInAs(account: string, roles: readonly string[]): void;
  /** A client_credentials token for one of the static clients (`ops` = read operate, `approver` = read approve). */
  clientToken(client: 'ops' | 'approver' | 'reader', scope: string): Promise<string>;
  /** A token signed with the provider's own key, with any claims (for the refusal tests). */
  sign(payload: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  publicKeyPem: string;
  /** Follows the authorization URL like a browser with cookies; returns the redirect's query (code, state, iss). */
  browse(authorizationUrl: URL): Promise<URLSearchParams>;
  close(): Promise<void>;
}

export const INTROSPECTION_SECRET = 'introspection-secret-0123456789ab';

export const CLIENT_SECRETS = {
  ops: 'ops-secret-0123456789abcdef-ops',
  approver: 'approver-secret-0123456789abcdef',
  reader: 'reader-secret-0123456789abcdef-rd',
} as const;

/**
 * A real OpenID Provider (the certified `oidc-provider` package) on loopback, issuing JWT access tokens for
 * `resource` (RFC 8707): static client_credentials clients, dynamic registration for the MCP SDK client, and an
 * interaction that signs the chosen account in and grants what it asks for, limited to that account's roles.
 */
export async function startTestIdp(resource: string, format: 'jwt' | 'opaque' = 'jwt'): Promise<TestIdp> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let account = 'alice';
  let allowed: readonly string[] = ['read'];

  const provider = new Provider(issuer, {
    clients: [
      ...(['ops', 'approver', 'reader'] as const).map((id) => ({
        client_id: id,
        client_secret: CLIENT_SECRETS[id],
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: id === 'ops' ? 'read operate' : id === 'approver' ? 'read approve' : 'read',
      })),
      // this server itself, for RFC 7662 introspection
      {
        client_id: 'mcp-rs',
        client_secret: INTROSPECTION_SECRET,
        grant_types: [],
        redirect_uris: [],
        response_types: [],
      },
    ],
    jwks: { keys: [jwk] },
    scopes: ['openid', 'offline_access', ...ROLES],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      registration: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== resource) throw new Error(`unknown resource ${indicator}`);
          return {
            scope: ROLES.join(' '),
            audience: resource,
            accessTokenFormat: format,
            accessTokenTTL: 600,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
  });
  const callback = provider.callback();

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/interaction/')) {
      void interact(provider, req, res, () => ({ account, allowed })).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    callback(req, res);
  });

  const tokenEndpoint = `${issuer}/token`;
  return {
    issuer,
    publicKeyPem: await exportSPKI(publicKey),
    signInAs(name, roles) {
      account = name;
      allowed = roles;
    },
    async clientToken(client, scope) {
      const response = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client}:${CLIENT_SECRETS[client]}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
      });
      const body = (await response.json()) as { access_token?: string };
      if (!response.ok || !body.access_token)
        throw new Error(`token request failed: ${JSON.stringify(body)}`);
      return body.access_token;
    },
    sign: (payload, header = {}) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', kid: 'idp-key-1', typ: 'at+jwt', ...header })
        .sign(privateKey),
    browse: (url) => browse(url),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The login and consent prompts, answered at once for the chosen account. */
async function interact(
  provider: Provider,
  req: IncomingMessage,
  res: ServerResponse,
  who: () => { account: string; allowed: readonly string[] },
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const { account, allowed } = who();
  const prompt = details.prompt;
  if (prompt.name === 'login') {
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: account } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: account, clientId: details.params.client_id as string });
  const missingOidc = prompt.details.missingOIDCScope as string[] | undefined;
  if (missingOidc) {
    const roles = missingOidc.filter((s) => (ROLES as readonly string[]).includes(s));
    const oidc = missingOidc.filter((s) => !roles.includes(s));
    if (oidc.length) grant!.addOIDCScope(oidc.join(' '));
    if (roles.some((s) => !allowed.includes(s)))
      grant!.rejectOIDCScope(roles.filter((s) => !allowed.includes(s)).join(' '));
    if (roles.some((s) => allowed.includes(s)))
      grant!.addOIDCScope(roles.filter((s) => allowed.includes(s)).join(' '));
  }
  const missingResource = prompt.details.missingResourceScopes as Record<string, string[]> | undefined;
  // the account gets only its own roles; the rest of what the client asked for is rejected
  for (const [indicator, scopes] of Object.entries(missingResource ?? {})) {
    const granted = scopes.filter((s) => allowed.includes(s));
    const rejected = scopes.filter((s) => !allowed.includes(s));
    if (granted.length) grant!.addResourceScope(indicator, granted.join(' '));
    if (rejected.length) grant!.rejectResourceScope(indicator, rejected.join(' '));
  }
  const grantId = await grant!.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

/** A user agent: follows redirects with a cookie jar until the redirect to a loopback `/callback`. */
async function browse(start: URL): Promise<URLSearchParams> {
  const jar = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 20; hop++) {
    if (url.pathname === '/callback') return url.searchParams;
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') jar.delete(pair.slice(0, eq));
      else jar.set(pair.slice(0, eq), value);
    }
    const location = response.headers.get('location');
    if (!location)
      throw new Error(
        `the sign-in stopped at ${url.pathname} (${response.status}): ${await response.text()}`,
      );
    await response.body?.cancel();
    url = new URL(location, url);
  }
  throw new Error('too many redirects');
}

/** An issuer whose discovery works but whose JWKS endpoint answers 503: keys cannot be fetched. */
export async function startBrokenIssuer(): Promise<{ issuer: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      return;
    }
    res.statusCode = 503;
    res.end('down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
