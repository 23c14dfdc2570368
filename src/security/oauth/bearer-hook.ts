import type { Principal } from '../../common/tools/tool-definition.js';

/** How the OAuth resource server plugs into the API-key middleware, which knows nothing else of it. */
export interface BearerTokenHook {
  authenticate(
    token: string,
  ): Promise<{ principal: Principal } | { status: 401 | 403; challenge: string; message: string }>;
  /** WWW-Authenticate of every 401 (RFC 9728 resource_metadata). */
  challenge: string;
  /** The documentation pages open without a credential (Swagger UI then signs in with OAuth). */
  publicDocs: boolean;
}
