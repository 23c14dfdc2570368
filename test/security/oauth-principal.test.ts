import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_OAUTH_ROLES, OAUTH_ALGORITHMS, type OAuthConfig } from '../../src/config/oauth-config.js';
import { principalFromClaims } from '../../src/security/oauth/token-principal.js';

const ISSUER = 'https://sso.example.org/realms/ops';
const config = (extra: Partial<OAuthConfig> = {}): OAuthConfig => ({
  issuers: [ISSUER],
  resource: 'https://mcp.example.org/mcp',
  audiences: ['https://mcp.example.org/mcp'],
  requiredScopes: [],
  claims: ['scope', 'scp', 'roles', 'groups', 'realm_access.roles'],
  roles: DEFAULT_OAUTH_ROLES,
  algorithms: [...OAUTH_ALGORITHMS],
  clockSkewSeconds: 30,
  jwksCacheSeconds: 600,
  apiKeys: true,
  ...extra,
});

describe('OAuth claims → principal (auth.oauth.roles)', () => {
  test('the highest scope of the matched roles; approve; subject and client id', () => {
    const out = principalFromClaims(
      config(),
      { sub: 'alice', scope: 'read approve', roles: ['operate'], azp: 'vscode' },
      ISSUER,
    );
    assert.deepEqual(out, {
      ok: true,
      principal: {
        name: 'oauth:alice',
        scope: 'operate',
        via: 'oauth',
        subject: 'alice',
        clientId: 'vscode',
        approver: true,
      },
    });
  });

  test('limits are the union of the matched roles; a matched role without a limit lifts it', () => {
    const roles = {
      lab: { scope: 'operate' as const, targets: ['lab'], toolsets: ['vms'] },
      prod: { scope: 'read' as const, targets: ['prod'], toolsets: ['vms', 'storage'] },
      everything: { scope: 'read' as const },
    };
    const limited = principalFromClaims(
      config({ roles }),
      { sub: 'b', realm_access: { roles: ['lab', 'prod'] } },
      ISSUER,
    );
    assert.ok(limited.ok);
    assert.deepEqual(limited.principal.targets, ['lab', 'prod']);
    assert.deepEqual(limited.principal.toolsets, ['vms', 'storage']);
    assert.equal(limited.principal.tools, undefined);
    const open = principalFromClaims(config({ roles }), { sub: 'b', groups: ['lab', 'everything'] }, ISSUER);
    assert.ok(open.ok);
    assert.equal(open.principal.targets, undefined);
  });

  test('no role: insufficient scope naming the least role; a missing required scope is named too', () => {
    assert.deepEqual(principalFromClaims(config(), { sub: 'c', scope: 'openid' }, ISSUER), {
      ok: false,
      scope: 'read',
      description: 'the token grants no role of this server; it needs at least read',
    });
    const required = principalFromClaims(
      config({ requiredScopes: ['mcp'] }),
      { sub: 'c', scope: 'admin' },
      ISSUER,
    );
    assert.deepEqual(required, {
      ok: false,
      scope: 'mcp',
      description: 'the token lacks the required scope mcp',
    });
  });

  test('with several issuers the name says which one; odd characters in sub cannot forge a name', () => {
    const out = principalFromClaims(
      config({ issuers: ['https://a.example', ISSUER] }),
      { sub: 'eve\n admin', scope: 'read' },
      ISSUER,
    );
    assert.ok(out.ok);
    assert.equal(out.principal.name, 'oauth:1:eve__admin');
  });
});
