import { Global, Inject, Injectable, Module } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import type { OAuthConfig } from '../../config/oauth-config.js';
import type { BearerTokenHook } from './bearer-hook.js';
import { TokenVerifier } from './token-verifier.js';
import { principalFromClaims } from './token-principal.js';

export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

/** An RFC 6750 auth-param value: quoted, with the characters that would end it removed. */
const quoted = (value: string) => `"${value.replace(/["\\\r\n]/g, '')}"`;

/**
 * This server as an OAuth 2.1 resource server (MCP authorization specification; issue 19): the Protected Resource
 * Metadata (RFC 9728), the WWW-Authenticate challenges, and the bearer-token check that the API-key middleware
 * calls for every Bearer credential that is no API key. Inert when `auth.oauth` is not configured.
 */
@Injectable()
export class OAuthService {
  readonly config?: OAuthConfig;
  private readonly verifier?: TokenVerifier;

  constructor(@Inject(APP_CONFIG) appConfig: AppConfig) {
    this.config = appConfig.oauth;
    if (this.config) this.verifier = new TokenVerifier(this.config);
  }

  /** The metadata URL of our resource: the path-suffixed form for the resource's path (`…/mcp`). */
  get metadataUrl(): string {
    const url = new URL(this.config!.resource);
    const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
    return `${url.origin}${PROTECTED_RESOURCE_PATH}${path}`;
  }

  /** The scopes a client should ask for: the required ones and every role name carried in a scope claim. */
  get scopes(): string[] {
    return [...new Set([...this.config!.requiredScopes, ...Object.keys(this.config!.roles)])];
  }

  /** RFC 9728 Protected Resource Metadata. */
  document(): Record<string, unknown> {
    const config = this.config!;
    return {
      resource: config.resource,
      authorization_servers: config.issuers,
      scopes_supported: this.scopes,
      bearer_methods_supported: ['header'],
      resource_signing_alg_values_supported: config.algorithms,
      resource_name: 'proxmox-mcp-plus',
    };
  }

  challenge(error?: {
    code: 'invalid_token' | 'insufficient_scope';
    description: string;
    scope?: string;
  }): string {
    const params = [
      'realm="proxmox-mcp-plus"',
      `resource_metadata=${quoted(this.metadataUrl)}`,
      `scope=${quoted(error?.scope ?? this.scopes.join(' '))}`,
    ];
    if (error) params.push(`error=${quoted(error.code)}`, `error_description=${quoted(error.description)}`);
    return `Bearer ${params.join(', ')}`;
  }

  /**
   * Step-up for a REST call refused for its scope: the role that would allow it, as a 403 challenge (RFC 6750).
   * The MCP path answers tool errors inside a 200, so there the error text names the scope instead.
   */
  stepUp(need: 'read' | 'operate' | 'admin'): string | undefined {
    if (!this.config) return undefined;
    const role = Object.entries(this.config.roles).find(([, r]) => r.scope === need)?.[0] ?? need;
    return this.challenge({
      code: 'insufficient_scope',
      description: `this call needs the ${role} role`,
      scope: [...this.config.requiredScopes, role].join(' '),
    });
  }

  /** For /readyz: the issuers' keys can be fetched. Undefined when OAuth is off. */
  health(): ReturnType<TokenVerifier['health']> | undefined {
    return this.verifier?.health();
  }

  /** The hook of the API-key middleware; undefined when OAuth is off. */
  bearerHook(): BearerTokenHook | undefined {
    const config = this.config;
    const verifier = this.verifier;
    if (!config || !verifier) return undefined;
    return {
      challenge: this.challenge(),
      publicDocs: true,
      authenticate: async (token) => {
        const verified = await verifier.verify(token);
        if (!verified.ok) {
          return {
            status: 401,
            challenge: this.challenge({ code: 'invalid_token', description: verified.description }),
            message: `Invalid access token: ${verified.description}`,
          };
        }
        const mapped = principalFromClaims(config, verified.claims, verified.issuer);
        if (!mapped.ok) {
          return {
            status: 403,
            challenge: this.challenge({
              code: 'insufficient_scope',
              description: mapped.description,
              scope: mapped.scope,
            }),
            message: `Insufficient scope: ${mapped.description} (scope "${mapped.scope}")`,
          };
        }
        return { principal: mapped.principal };
      },
    };
  }

  /** GET /.well-known/oauth-protected-resource[/mcp]: public, cacheable, readable from any origin. */
  metadataMiddleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (
        !this.config ||
        (req.path !== PROTECTED_RESOURCE_PATH && !req.path.startsWith(`${PROTECTED_RESOURCE_PATH}/`)) ||
        (req.method !== 'GET' && req.method !== 'HEAD')
      ) {
        return next();
      }
      const suffix = req.path.slice(PROTECTED_RESOURCE_PATH.length);
      const ours = new URL(this.config.resource).pathname.replace(/\/$/, '');
      if (suffix !== '' && suffix !== ours) {
        res
          .status(404)
          .json({ statusCode: 404, code: 'NOT_FOUND', message: `No protected resource at ${suffix}` });
        return;
      }
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.json(this.document());
    };
  }
}

@Global()
@Module({ providers: [OAuthService], exports: [OAuthService] })
export class OAuthModule {}
