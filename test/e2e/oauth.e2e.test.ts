import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { startServer, type RunningServer } from '../../src/cli/serve.command.js';
import { PveSimulator, simulatorTargetConfig } from '../../src/simulator/index.js';
import { DEFAULT_OAUTH_ROLES, OAUTH_ALGORITHMS, type OAuthConfig } from '../../src/config/oauth-config.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { API_KEY, SCHEMA_PATH, testConfig, withOperator } from '../helpers/test-app.js';
import { resultText, type ToolResult } from '../helpers/tools.js';
import { INTROSPECTION_SECRET, startBrokenIssuer, startTestIdp, type TestIdp } from '../helpers/oidc-idp.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const oauthConfig = (issuer: string, resource: string, extra: Partial<OAuthConfig> = {}): OAuthConfig => ({
  issuers: [issuer],
  resource,
  audiences: [resource],
  requiredScopes: [],
  claims: ['scope', 'scp', 'roles', 'groups'],
  roles: DEFAULT_OAUTH_ROLES,
  algorithms: [...OAUTH_ALGORITHMS],
  clockSkewSeconds: 30,
  jwksCacheSeconds: 600,
  apiKeys: false,
  ...extra,
});

/** The MCP SDK client's OAuth side, as a desktop client keeps it: registration, PKCE verifier, tokens. */
class TestOAuthClient implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  authorizationUrl?: URL;
  constructor(private readonly port: number) {}
  get redirectUrl() {
    return `http://127.0.0.1:${this.port}/callback`;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'e2e MCP client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    } as OAuthClientMetadata;
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** Signs in through the identity provider as `account` (granted `roles`) and returns a connected MCP client. */
async function signIn(
  idp: TestIdp,
  mcpUrl: string,
  account: string,
  roles: readonly string[],
): Promise<{ client: Client; provider: TestOAuthClient }> {
  const provider = new TestOAuthClient(await freePort());
  idp.signInAs(account, roles);
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  await assert.rejects(new Client({ name: 'e2e', version: '1.0.0' }).connect(first), UnauthorizedError);
  assert.ok(provider.authorizationUrl, 'the SDK client started the authorization');
  assert.equal(provider.authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(provider.authorizationUrl.searchParams.get('resource'), mcpUrl);
  const callback = await idp.browse(provider.authorizationUrl);
  const code = callback.get('code');
  assert.ok(code, `authorization code in ${callback.toString()}`);
  await first.finishAuth(code);
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
  return { client, provider };
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('OAuth 2.1 resource server: a real OpenID Provider, API keys off', () => {
  let idp: TestIdp;
  let sim: PveSimulator;
  let server: RunningServer;
  let url: string;
  let resource: string;
  let logDir: string;
  let config: AppConfig;
  const clients: Client[] = [];
  /** Every token issued or made up in this suite: none may show up in a log, job, audit row or response. */
  const tokens = new Set<string>();
  const seen: string[] = [];

  before(async () => {
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    idp = await startTestIdp(resource);
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0, nodes: 1, guests: 2 });
    logDir = mkdtempSync(join(tmpdir(), 'oauth-e2e-'));
    const base = withOperator(testConfig([simulatorTargetConfig(sim)]), { highRiskMode: 'enforce' });
    config = {
      ...base,
      mcp: { ...base.mcp, port },
      logging: { level: 'debug', file: join(logDir, 'server.log'), logCommands: false },
      oauth: oauthConfig(idp.issuer, resource, { swaggerClientId: 'docs' }),
    };
    server = await startServer(config);
    url = server.url;
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
    const violations = sim.schemaViolations();
    await sim.stop();
    await idp.close();
    const log = readFileSync(join(logDir, 'server.log'), 'utf8');
    rmSync(logDir, { recursive: true, force: true });
    assert.ok(log.length > 0, 'the server logged');
    for (const token of tokens) {
      assert.ok(!log.includes(token), 'no token in the log file');
      for (const text of seen) assert.ok(!text.includes(token), 'no token in any response, job or audit row');
    }
    assert.deepEqual(violations, [], 'requests that real PVE would refuse');
  });

  const remember = (token: string) => (tokens.add(token), token);
  const bearer = (token: string) => ({ authorization: `Bearer ${remember(token)}` });

  test('Protected Resource Metadata (RFC 9728) at the root and the path-suffixed form, without credentials', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
    ]) {
      const answer = await request(url).get(path).expect(200);
      assert.deepEqual(answer.body, {
        resource,
        authorization_servers: [idp.issuer],
        scopes_supported: ['read', 'operate', 'admin', 'approve'],
        bearer_methods_supported: ['header'],
        resource_signing_alg_values_supported: [...OAUTH_ALGORITHMS],
        resource_name: 'proxmox-mcp-plus',
      });
    }
    await request(url).get('/.well-known/oauth-protected-resource/other').expect(404);
  });

  test('no token: 401 on /mcp and REST with resource_metadata and scope; an API key is refused (keys off)', async () => {
    const challenge =
      `Bearer realm="proxmox-mcp-plus", resource_metadata="${url}/.well-known/oauth-protected-resource/mcp", ` +
      'scope="read operate admin approve"';
    const mcp = await request(url)
      .post('/mcp')
      .set({ accept: 'application/json, text/event-stream' })
      .send({ jsonrpc: '2.0', id: 1, method: 'tools/list' })
      .expect(401);
    assert.equal(mcp.headers['www-authenticate'], challenge);
    assert.equal(mcp.body.error.code, -32001);
    const rest = await request(url).get('/nodes').expect(401);
    assert.equal(rest.headers['www-authenticate'], challenge);
    const key = await request(url)
      .get('/nodes')
      .set({ authorization: `Bearer ${API_KEY}` })
      .expect(401);
    assert.match(
      key.headers['www-authenticate'],
      /error="invalid_token", error_description="not a JWT access token/,
    );
  });

  test('the story with OAuth alone: the SDK client signs in (PKCE), reads, snapshots; a second principal approves the rollback', async () => {
    const { client, provider } = await signIn(idp, `${url}/mcp`, 'alice', ['read', 'operate', 'admin']);
    clients.push(client);
    remember(provider.saved!.access_token);
    if (provider.saved!.refresh_token) remember(provider.saved!.refresh_token);
    const call = async (name: string, args: Record<string, unknown>) => {
      const result = (await client.callTool({ name, arguments: args })) as ToolResult;
      seen.push(JSON.stringify(result));
      return result;
    };
    const vms = await call('get_vms', {});
    assert.equal(vms.isError, undefined, resultText(vms));
    const node = sim.cluster.guest(100)!.node;
    const snap = await call('create_snapshot', { node, vmid: 100, snapname: 'oauth-safe', wait: true });
    assert.equal(snap.isError, undefined, resultText(snap));
    assert.equal(snap.structuredContent?.status, 'completed');
    assert.ok(sim.cluster.guest(100)!.snapshots.has('oauth-safe'));

    const refused = await call('rollback_snapshot', { node, vmid: 100, snapname: 'oauth-safe', wait: true });
    assert.match(resultText(refused), /^APPROVAL_REQUIRED: High-risk operation 'rollback_snapshot'/);
    const requestId = /Approval request ([0-9a-f-]{36})/.exec(resultText(refused))![1];

    // alice has admin but not the approve role: she cannot approve (least of all her own request)
    const self = await request(url)
      .post(`/approvals/${requestId}`)
      .set(bearer(provider.saved!.access_token))
      .expect(403);
    assert.match(self.body.message, /OAuth approve role/);

    // bob, a second principal (client credentials of the approver client), holds the approve role
    const approverToken = await idp.clientToken('approver', 'read approve');
    const shown = await request(url).get(`/approvals/${requestId}`).set(bearer(approverToken)).expect(200);
    assert.equal(shown.body.requested_by ?? shown.body.requestedBy, 'oauth:alice');
    const approved = await request(url)
      .post(`/approvals/${requestId}`)
      .set(bearer(approverToken))
      .expect(200);
    const approvalToken = approved.body.approval_token as string;
    const done = await call('rollback_snapshot', {
      node,
      vmid: 100,
      snapname: 'oauth-safe',
      wait: true,
      approval_token: approvalToken,
    });
    assert.equal(done.isError, undefined, resultText(done));
    assert.equal(done.structuredContent?.status, 'completed');

    // audit: the subject and the client id of each call; the approver by name
    const audit = (await call('list_audit_events', { limit: 100 })).structuredContent as {
      events: Array<{ actor?: string; action: string; details?: Record<string, unknown> }>;
    };
    const rollback = audit.events.find((e) => e.action === 'rollback_snapshot' && e.actor === 'oauth:alice');
    assert.ok(rollback, JSON.stringify(audit.events.map((e) => [e.action, e.actor])));
    assert.equal(rollback.details?.client_id, provider.info!.client_id);
    assert.ok(audit.events.some((e) => e.action === 'approval.approve' && e.actor === 'oauth:approver'));
    seen.push(JSON.stringify(await call('list_jobs', {})));
  });

  test('REST with a client-credentials token: reads and snapshots; destroy needs more than operate', async () => {
    const token = await idp.clientToken('ops', 'read operate');
    const nodes = await request(url).get('/nodes').set(bearer(token)).expect(200);
    seen.push(JSON.stringify(nodes.body));
    const node = sim.cluster.guest(101)!.node;
    const snap = await request(url)
      .post(`/nodes/${node}/guests/101/snapshots`)
      .set(bearer(token))
      .send({
        snapname: 'rest-oauth',
        vm_type: sim.cluster.guest(101)!.type === 'lxc' ? 'lxc' : 'qemu',
        wait: true,
      })
      .expect(202);
    seen.push(JSON.stringify(snap.body));
    assert.equal(snap.body.status, 'completed', JSON.stringify(snap.body));
    const denied = await request(url)
      .delete(`/nodes/${node}/guests/101/snapshots/rest-oauth`)
      .query({ vm_type: sim.cluster.guest(101)!.type === 'lxc' ? 'lxc' : 'qemu' })
      .set(bearer(token))
      .expect(403);
    seen.push(JSON.stringify(denied.body));
    // step-up: the 403 names the role that would allow the call
    assert.match(denied.headers['www-authenticate'], /error="insufficient_scope"/);
    assert.match(denied.headers['www-authenticate'], /scope="admin"/);
    assert.match(denied.headers['www-authenticate'], /resource_metadata="[^"]+\/mcp"/);
    assert.equal(denied.body.code, 'FORBIDDEN');
  });

  test('Swagger UI: the pages open without a credential and offer OAuth (authorization code + PKCE) beside the key', async () => {
    await request(url).get('/docs').expect(200);
    const doc = await request(url).get('/openapi.json').expect(200);
    assert.deepEqual(doc.body.components.securitySchemes.oauth, {
      type: 'openIdConnect',
      openIdConnectUrl: `${idp.issuer}/.well-known/openid-configuration`,
      description: `OAuth 2.1 (authorization code + PKCE) at ${idp.issuer}; client docs`,
    });
    const op = doc.body.paths['/nodes'].get;
    assert.deepEqual(op.security, [{ bearer: [] }, { oauth: [] }]);
    const init = await request(url).get('/docs/swagger-ui-init.js').expect(200);
    assert.match(init.text, /"usePkceWithAuthorizationCodeGrant": ?true/);
    assert.match(init.text, /"clientId": ?"docs"/);
  });

  test('every refused token: 401 invalid_token with the reason; a token without a role: 403 insufficient_scope', async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = { iss: idp.issuer, aud: resource, sub: 'mallory', scope: 'read', iat: now, exp: now + 300 };
    const { generateKeyPair, SignJWT } = await import('jose');
    const other = await generateKeyPair('RS256');
    const valid = await idp.sign(good);
    const [h, p, s] = valid.split('.');
    const tampered = `${h}.${b64url({ ...good, scope: 'admin' })}.${s}`;
    const hs256 = `${b64url({ alg: 'HS256', typ: 'JWT', kid: 'idp-key-1' })}.${p}`;
    const hsSigned = `${hs256}.${createHmac('sha256', idp.publicKeyPem).update(hs256).digest('base64url')}`;
    const cases: Array<[string, string, RegExp]> = [
      ['expired', await idp.sign({ ...good, iat: now - 900, exp: now - 600 }), /has expired/],
      ['not yet valid', await idp.sign({ ...good, nbf: now + 600 }), /not yet valid/],
      ['wrong issuer', await idp.sign({ ...good, iss: 'http://127.0.0.1:1/evil' }), /issuer is not accepted/],
      [
        'wrong audience',
        await idp.sign({ ...good, aud: 'https://other.example/mcp' }),
        /not issued for this resource/,
      ],
      [
        'unknown key',
        await new SignJWT(good).setProtectedHeader({ alg: 'RS256', kid: 'rogue' }).sign(other.privateKey),
        /unknown key/,
      ],
      ['alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${p}.`, /algorithm none is not accepted/],
      ['HS256 with the public key', hsSigned, /algorithm HS256 is not accepted/],
      ['tampered payload', tampered, /signature is invalid/],
      [
        'huge header',
        `${b64url({ alg: 'RS256', kid: 'idp-key-1', x: 'a'.repeat(3000) })}.${p}.${s}`,
        /header is too large/,
      ],
      ['not a JWT', 'opaque-token-without-dots', /not a JWT access token/],
    ];
    for (const [name, token, why] of cases) {
      for (const [method, path] of [
        ['post', '/mcp'],
        ['get', '/nodes'],
      ] as const) {
        const agent = request(url);
        const answer = await (method === 'post' ? agent.post(path) : agent.get(path))
          .set({ ...bearer(token), accept: 'application/json, text/event-stream' })
          .send(method === 'post' ? { jsonrpc: '2.0', id: 1, method: 'tools/list' } : undefined)
          .expect(401);
        seen.push(JSON.stringify(answer.body));
        const header = answer.headers['www-authenticate'];
        assert.match(
          header,
          /^Bearer realm="proxmox-mcp-plus", resource_metadata="[^"]+\/mcp", scope="[^"]+", error="invalid_token"/,
          name,
        );
        assert.match(header, why, `${name}: ${header}`);
      }
    }

    const noRole = await request(url)
      .get('/nodes')
      .set(bearer(await idp.sign({ ...good, scope: 'openid profile' })))
      .expect(403);
    assert.match(noRole.headers['www-authenticate'], /error="insufficient_scope"/);
    assert.match(noRole.headers['www-authenticate'], /scope="read"/);
    assert.match(noRole.body.message, /needs at least read/);

    // the refusals are audited (who, where, why) without the token
    const admin = await idp.sign({ ...good, sub: 'auditor', scope: 'admin' });
    const audit = await request(url)
      .get('/audit/events')
      .query({ action: 'auth.failed', limit: 200 })
      .set(bearer(admin))
      .expect(200);
    seen.push(JSON.stringify(audit.body));
    const events = (Array.isArray(audit.body) ? audit.body : audit.body.events) as Array<{ reason?: string }>;
    assert.ok(
      events.some((e) => e.reason === 'invalid OAuth access token'),
      JSON.stringify(events.slice(0, 3)),
    );
    assert.ok(events.some((e) => e.reason === 'OAuth access token without a required scope or role'));
  });
});

describe('OAuth: the issuer keys cannot be fetched', () => {
  test('fail closed: 401 for the call, 503 readiness naming the issuer; API keys still work beside OAuth', async () => {
    const broken = await startBrokenIssuer();
    const sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0, nodes: 1, guests: 1 });
    const port = await freePort();
    const resource = `http://127.0.0.1:${port}/mcp`;
    const base = testConfig([simulatorTargetConfig(sim)]);
    const server = await startServer({
      ...base,
      mcp: { ...base.mcp, port },
      oauth: oauthConfig(broken.issuer, resource, { apiKeys: true }),
    });
    try {
      const { SignJWT, generateKeyPair } = await import('jose');
      const key = await generateKeyPair('RS256');
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({
        iss: broken.issuer,
        aud: resource,
        sub: 'x',
        scope: 'read',
        exp: now + 60,
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .sign(key.privateKey);
      const call = await request(server.url)
        .get('/nodes')
        .set({ authorization: `Bearer ${token}` })
        .expect(401);
      assert.match(
        call.headers['www-authenticate'],
        /error="invalid_token", error_description="the issuer's signing keys cannot be fetched/,
      );
      const ready = await request(server.url)
        .get('/readyz')
        .set({ authorization: `Bearer ${API_KEY}` })
        .expect(503);
      assert.equal(ready.body.oauth.ok, false);
      assert.equal(ready.body.oauth.issuers[0].issuer, broken.issuer);
      assert.match(ready.body.oauth.issuers[0].error, /503|keys unavailable/);
      await request(server.url)
        .get('/nodes')
        .set({ authorization: `Bearer ${API_KEY}` })
        .expect(200);
      const health = await request(server.url)
        .get('/health')
        .set({ authorization: `Bearer ${API_KEY}` });
      assert.deepEqual(health.body.auth.oauth, { issuers: [broken.issuer], resource, api_keys: true });
    } finally {
      await server.close();
      await sim.stop();
      await broken.close();
    }
  });
});

describe('OAuth: opaque tokens through RFC 7662 introspection', () => {
  test('an opaque client-credentials token is introspected and works; a made-up one is not active', async () => {
    const port = await freePort();
    const resource = `http://127.0.0.1:${port}/mcp`;
    const idp = await startTestIdp(resource, 'opaque');
    const sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0, nodes: 1, guests: 1 });
    const base = testConfig([simulatorTargetConfig(sim)]);
    const server = await startServer({
      ...base,
      mcp: { ...base.mcp, port },
      oauth: oauthConfig(idp.issuer, resource, {
        introspection: {
          endpoint: `${idp.issuer}/token/introspection`,
          clientId: 'mcp-rs',
          clientSecret: INTROSPECTION_SECRET,
        },
      }),
    });
    try {
      const token = await idp.clientToken('ops', 'read operate');
      assert.equal(token.split('.').length, 1, 'an opaque token');
      const nodes = await request(server.url)
        .get('/nodes')
        .set({ authorization: `Bearer ${token}` })
        .expect(200);
      assert.ok(!JSON.stringify(nodes.body).includes(token));
      const made = await request(server.url)
        .get('/nodes')
        .set({ authorization: 'Bearer made-up-opaque-token' })
        .expect(401);
      assert.match(
        made.headers['www-authenticate'],
        /error="invalid_token", error_description="the token is not active"/,
      );
    } finally {
      await server.close();
      await sim.stop();
      await idp.close();
    }
  });
});
