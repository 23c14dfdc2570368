import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { DEFAULT_OAUTH_ROLES, OAUTH_ALGORITHMS, type OAuthConfig } from '../../src/config/oauth-config.js';
import { TokenVerifier } from '../../src/security/oauth/token-verifier.js';

/** An issuer whose key set the test rotates; it counts JWKS fetches. */
describe('TokenVerifier: key rotation and the rate-limited JWKS refetch', () => {
  let server: Server;
  let issuer: string;
  let keys: JWK[] = [];
  let fetches = 0;
  const pair = async (kid: string) => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
  };
  const resource = 'http://127.0.0.1/mcp';

  before(async () => {
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') {
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      } else if (req.url === '/jwks') {
        fetches++;
        res.end(JSON.stringify({ keys }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a new kid is picked up by one refetch, at most once per cooldown, however many forged kids arrive', async () => {
    const config: OAuthConfig = {
      issuers: [issuer],
      resource,
      audiences: [resource],
      requiredScopes: [],
      claims: ['scope'],
      roles: DEFAULT_OAUTH_ROLES,
      algorithms: [...OAUTH_ALGORITHMS],
      clockSkewSeconds: 0,
      jwksCacheSeconds: 600,
      apiKeys: true,
    };
    const verifier = new TokenVerifier(config, fetch, 300);
    const k1 = await pair('k1');
    const k2 = await pair('k2');
    keys = [k1.jwk];
    const token = (k: typeof k1) =>
      new SignJWT({ sub: 'u', scope: 'read' })
        .setProtectedHeader({ alg: 'ES256', kid: k.kid })
        .setIssuer(issuer)
        .setAudience(resource)
        .setExpirationTime('2m')
        .sign(k.privateKey);
    assert.equal((await verifier.verify(await token(k1))).ok, true);
    assert.equal(fetches, 1);

    keys = [k1.jwk, k2.jwk]; // the issuer rotates in a new key
    const forged = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => verifier.verify(await token({ ...k2, kid: `forged-${i}` }))),
    );
    assert.ok(forged.every((v) => !v.ok && v.description === 'the token is signed with an unknown key'));
    assert.equal(fetches, 1, 'within the cooldown, unknown kids cause no fetch');

    await new Promise((resolve) => setTimeout(resolve, 350));
    const rotated = await verifier.verify(await token(k2));
    assert.equal(rotated.ok, true, JSON.stringify(rotated));
    assert.equal(fetches, 2, 'one refetch found the new key');
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => verifier.verify(await token({ ...k2, kid: `x${i}` }))),
    );
    assert.equal(fetches, 2);
  });
});
