import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeConfig } from '../../src/config/config.loader.js';
import { configSecrets } from '../../src/config/config-secrets.js';
import { DEFAULT_OAUTH_ROLES, OAUTH_ALGORITHMS } from '../../src/config/oauth-config.js';
import { envCredentials, findProblem, minimalFile, Sandbox, TOKEN } from './helpers.js';

const ISSUER = 'https://sso.example.org/realms/ops';
const RESOURCE = 'https://mcp.example.org/mcp';

describe('auth.oauth (MCP_OAUTH_*): the OAuth resource server settings', () => {
  const sandbox = new Sandbox();
  after(() => sandbox.remove());

  test('absent: off, and nothing else changes', () => {
    const config = sandbox.load(minimalFile());
    assert.equal(config.oauth, undefined);
    assert.equal('auth' in describeConfig(config) && 'oauth' in (describeConfig(config) as any).auth, false);
  });

  test('from the file, with the defaults; beside the legacy target credentials', () => {
    const file = {
      ...minimalFile(),
      auth: { ...minimalFile().auth, oauth: { issuers: [`${ISSUER}/`], resource: RESOURCE } },
    };
    const config = sandbox.load(file);
    assert.deepEqual(config.oauth, {
      issuers: [`${ISSUER}/`],
      resource: RESOURCE,
      audiences: [RESOURCE],
      requiredScopes: [],
      claims: ['scope', 'scp', 'roles', 'groups'],
      roles: DEFAULT_OAUTH_ROLES,
      algorithms: [...OAUTH_ALGORITHMS],
      clockSkewSeconds: 30,
      jwksCacheSeconds: 600,
      apiKeys: true,
    });
    assert.equal(config.targets[0].tokenValue, TOKEN);
  });

  test('beside targets: an auth section holding only oauth is allowed', () => {
    const { proxmox, auth } = minimalFile();
    const config = sandbox.load({
      targets: { lab: { proxmox, auth } },
      auth: { oauth: { issuers: [ISSUER], resource: RESOURCE, api_keys: false } },
    });
    assert.equal(config.oauth?.apiKeys, false);
    assert.deepEqual(
      config.targets.map((t) => t.name),
      ['lab'],
    );
  });

  test('from the environment, variables over the file; the introspection secret is redacted and remembered', () => {
    const config = sandbox.load(undefined, {
      ...envCredentials,
      MCP_OAUTH_ISSUERS: `${ISSUER},https://login.example.com/tenant/v2.0`,
      MCP_OAUTH_RESOURCE: RESOURCE,
      MCP_OAUTH_AUDIENCES: `${RESOURCE},api://proxmox-mcp`,
      MCP_OAUTH_REQUIRED_SCOPES: 'mcp',
      MCP_OAUTH_CLAIMS: 'scp,roles',
      MCP_OAUTH_ROLES: JSON.stringify({
        'Proxmox.Admin': { scope: 'admin', approve: true },
        ops: { scope: 'operate', targets: ['default'], toolsets: ['vms'] },
      }),
      MCP_OAUTH_ALGORITHMS: 'RS256,ES256',
      MCP_OAUTH_CLOCK_SKEW_SECONDS: '5',
      MCP_OAUTH_JWKS_CACHE_SECONDS: '60',
      MCP_OAUTH_API_KEYS: 'false',
      MCP_OAUTH_INTROSPECTION_ENDPOINT: `${ISSUER}/introspect`,
      MCP_OAUTH_INTROSPECTION_CLIENT_ID: 'mcp-rs',
      MCP_OAUTH_INTROSPECTION_CLIENT_SECRET: 'introspection-secret-value',
      MCP_OAUTH_SWAGGER_CLIENT_ID: 'mcp-docs',
    });
    assert.deepEqual(config.oauth, {
      issuers: [ISSUER, 'https://login.example.com/tenant/v2.0'],
      resource: RESOURCE,
      audiences: [RESOURCE, 'api://proxmox-mcp'],
      requiredScopes: ['mcp'],
      claims: ['scp', 'roles'],
      roles: {
        'Proxmox.Admin': { scope: 'admin', approve: true },
        ops: { scope: 'operate', targets: ['default'], toolsets: ['vms'] },
      },
      algorithms: ['RS256', 'ES256'],
      clockSkewSeconds: 5,
      jwksCacheSeconds: 60,
      apiKeys: false,
      introspection: {
        endpoint: `${ISSUER}/introspect`,
        clientId: 'mcp-rs',
        clientSecret: 'introspection-secret-value',
      },
      swaggerClientId: 'mcp-docs',
    });
    const shown = JSON.stringify(describeConfig(config));
    assert.ok(!shown.includes('introspection-secret-value'));
    assert.match(shown, /"introspection_client_secret":"<redacted>"/);
    assert.ok(configSecrets(config).includes('introspection-secret-value'));
  });

  test('bad values name the key, what was seen and what is allowed', () => {
    const problems = sandbox.problems({
      ...minimalFile(),
      auth: {
        ...minimalFile().auth,
        oauth: {
          issuers: ['http://sso.example.org'],
          algorithms: ['HS256', 'none'],
          clock_skew_seconds: 3600,
          roles: { nothing: {}, bad: { scope: 'root' } },
          colour: 'blue',
        },
      },
    });
    findProblem(problems, 'auth.oauth.colour: unknown key');
    assert.match(findProblem(problems, 'auth.oauth.issuers[0]'), /expected an https URL/);
    assert.match(findProblem(problems, 'auth.oauth.resource'), /missing; expected the canonical URL/);
    assert.match(findProblem(problems, 'auth.oauth.algorithms[0]'), /asymmetric algorithms only/);
    findProblem(problems, 'auth.oauth.algorithms[1]');
    assert.match(findProblem(problems, 'auth.oauth.clock_skew_seconds'), /an integer 0-300/);
    assert.match(findProblem(problems, 'auth.oauth.roles.nothing'), /grants nothing/);
    assert.match(findProblem(problems, 'auth.oauth.roles.bad.scope'), /one of read, operate, admin/);
  });
});
