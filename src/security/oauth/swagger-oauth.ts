import type { DocumentBuilder, OpenAPIObject } from '@nestjs/swagger';
import type { OAuthConfig } from '../../config/oauth-config.js';

export const SWAGGER_OAUTH_SCHEME = 'oauth';

/**
 * Swagger UI signs in with OAuth beside the API key: an OpenID Connect security scheme pointing at the first
 * issuer's discovery document, used with authorization code + PKCE (auth.oauth.swagger_client_id, a public client
 * whose redirect URI is <server>/docs/oauth2-redirect.html). Nothing changes without that client id.
 */
export function swaggerOAuth(builder: DocumentBuilder, config: OAuthConfig | undefined): void {
  if (!config?.swaggerClientId) return;
  builder.addSecurity(SWAGGER_OAUTH_SCHEME, {
    type: 'openIdConnect',
    openIdConnectUrl: `${config.issuers[0].replace(/\/$/, '')}/.well-known/openid-configuration`,
    description: `OAuth 2.1 (authorization code + PKCE) at ${config.issuers[0]}; client ${config.swaggerClientId}`,
  });
}

/** Every operation that takes the API key takes an OAuth token too. */
swaggerOAuth.document = (document: OpenAPIObject, config: OAuthConfig | undefined): OpenAPIObject => {
  if (!config?.swaggerClientId) return document;
  for (const item of Object.values(document.paths)) {
    for (const op of Object.values(item) as Array<{ security?: Array<Record<string, string[]>> }>) {
      if (
        op &&
        typeof op === 'object' &&
        Array.isArray(op.security) &&
        op.security.some((s) => 'bearer' in s)
      ) {
        op.security = [...op.security, { [SWAGGER_OAUTH_SCHEME]: [] }];
      }
    }
  }
  return document;
};

/** swagger-ui's initOAuth: PKCE, the client id, the resource (RFC 8707) so the token's audience is this server. */
swaggerOAuth.uiOptions = (config: OAuthConfig | undefined): Record<string, unknown> =>
  config?.swaggerClientId
    ? {
        initOAuth: {
          clientId: config.swaggerClientId,
          usePkceWithAuthorizationCodeGrant: true,
          scopes: ['openid', ...config.requiredScopes],
          additionalQueryStringParams: { resource: config.resource },
        },
      }
    : {};
