import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import type { OAuthConfig } from '../../config/oauth-config.js';

type Jose = typeof import('jose');
let joseModule: Promise<Jose> | undefined;
/** jose loads with the first token, not at start-up: a server without OAuth never needs it (issue 18, RSS). */
const loadJose = (): Promise<Jose> => (joseModule ??= import('jose'));

/** Longest access token we look at (headers are bounded by Node anyway); a huge token is refused unread. */
export const MAX_TOKEN_LENGTH = 8192;
/** Longest protected header segment: real headers are ~100 characters (alg, kid, typ). */
export const MAX_HEADER_LENGTH = 1024;

/** Why a token was not accepted; the description goes into WWW-Authenticate and never repeats the token. */
export type TokenRefusal =
  | { kind: 'invalid'; description: string }
  /** The issuer's discovery document or keys could not be fetched: fail closed (401), readiness 503. */
  | { kind: 'unavailable'; description: string };

export type Verified = { ok: true; claims: JWTPayload; issuer: string } | ({ ok: false } & TokenRefusal);

interface IssuerState {
  issuer: string;
  /** Discovery result; retried after a failure once DISCOVERY_RETRY_MS has passed. */
  metadata?: { jwksUri: string; introspectionEndpoint?: string };
  jwks?: JWTVerifyGetKey & { reload(): Promise<void>; fresh: boolean };
  failedAt?: number;
  lastError?: string;
  pending?: Promise<void>;
}

const DISCOVERY_RETRY_MS = 5_000;
const FETCH_TIMEOUT_MS = 5_000;

/**
 * Validates OAuth access tokens for this resource server with `jose`: the issuer's keys are found through its
 * discovery document (OpenID Connect, then RFC 8414); the signature, `iss`, `aud` (= our resource, RFC 8707),
 * `exp`/`nbf` (with the configured skew) and the algorithm (asymmetric, from the configured list) are checked. An
 * unknown `kid` triggers one JWKS refresh, at most every 30 s (jose's cooldown). Opaque tokens go to RFC 7662
 * introspection when it is configured. Nothing here logs or stores a token.
 */
export class TokenVerifier {
  private readonly issuers = new Map<string, IssuerState>();

  constructor(
    private readonly config: OAuthConfig,
    private readonly fetchImpl: typeof fetch = fetch,
    /** Least time between two JWKS fetches caused by unknown `kid`s (tests shorten it). */
    private readonly refetchCooldownMs = 30_000,
  ) {
    for (const issuer of config.issuers)
      this.issuers.set(withoutSlash(issuer), { issuer: withoutSlash(issuer) });
  }

  async verify(token: string): Promise<Verified> {
    if (token.length > MAX_TOKEN_LENGTH)
      return invalid(`the token is longer than ${MAX_TOKEN_LENGTH} characters`);
    const parts = token.split('.');
    if (parts.length !== 3) {
      return this.config.introspection
        ? this.introspect(token)
        : invalid('not a JWT access token (opaque tokens need introspection, which is not configured)');
    }
    if (parts[0].length > MAX_HEADER_LENGTH) return invalid('the token header is too large');
    const { decodeJwt, decodeProtectedHeader, jwtVerify, errors } = await loadJose();
    let alg: string | undefined;
    let iss: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch {
      return invalid('the token is not a well-formed JWT');
    }
    if (!alg || !this.config.algorithms.includes(alg)) {
      return invalid(`signing algorithm ${alg ?? '(none given)'} is not accepted`);
    }
    const state = iss === undefined ? undefined : this.issuers.get(iss.replace(/\/$/, ''));
    if (!state) return invalid('the token issuer is not accepted by this server');
    const jwks = await this.keysOf(state);
    if (!jwks) return unavailable(state);
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: [state.issuer, `${state.issuer}/`],
        audience: this.config.audiences,
        algorithms: this.config.algorithms,
        clockTolerance: this.config.clockSkewSeconds,
        requiredClaims: ['exp', 'sub'],
      });
      return { ok: true, claims: payload, issuer: state.issuer };
    } catch (error) {
      return this.refusal(error, state, errors);
    }
  }

  /** For /readyz: every issuer's discovery document and keys can be fetched (cached keys count). */
  async health(): Promise<{ ok: boolean; issuers: Array<{ issuer: string; ok: boolean; error?: string }> }> {
    const issuers = await Promise.all(
      [...this.issuers.values()].map(async (state) => {
        const jwks = await this.keysOf(state);
        if (jwks && !jwks.fresh) {
          try {
            await jwks.reload();
          } catch (error) {
            state.lastError = describeFetchError(error);
            return { issuer: state.issuer, ok: false, error: `keys unavailable: ${state.lastError}` };
          }
        }
        return jwks
          ? { issuer: state.issuer, ok: true }
          : { issuer: state.issuer, ok: false, error: state.lastError ?? 'discovery failed' };
      }),
    );
    return { ok: issuers.every((i) => i.ok), issuers };
  }

  private refusal(error: unknown, state: IssuerState, errors: Jose['errors']): Verified {
    if (error instanceof errors.JWTExpired) return invalid('the token has expired');
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === 'nbf') return invalid('the token is not yet valid (nbf)');
      if (error.claim === 'iat') return invalid('the token is issued in the future (iat)');
      if (error.claim === 'aud') return invalid('the token was not issued for this resource (aud)');
      if (error.claim === 'iss') return invalid('the token issuer is not accepted by this server');
      return invalid(`the token lacks a valid ${error.claim} claim`);
    }
    if (error instanceof errors.JWKSNoMatchingKey) return invalid('the token is signed with an unknown key');
    if (error instanceof errors.JWSSignatureVerificationFailed)
      return invalid('the token signature is invalid');
    if (error instanceof errors.JOSEAlgNotAllowed)
      return invalid('the token signing algorithm is not accepted');
    if (
      error instanceof errors.JWKSTimeout ||
      error instanceof errors.JWKSInvalid ||
      (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC') ||
      !(error instanceof errors.JOSEError)
    ) {
      state.lastError = describeFetchError(error);
      state.failedAt = Date.now();
      return unavailable(state);
    }
    return invalid('the token could not be verified');
  }

  private async keysOf(state: IssuerState): Promise<IssuerState['jwks']> {
    if (state.jwks) return state.jwks;
    if (state.failedAt !== undefined && Date.now() - state.failedAt < DISCOVERY_RETRY_MS) return undefined;
    state.pending ??= this.discover(state).finally(() => (state.pending = undefined));
    await state.pending;
    return state.jwks;
  }

  private async discover(state: IssuerState): Promise<void> {
    const url = new URL(state.issuer);
    const path = url.pathname.replace(/\/$/, '');
    const candidates = [
      `${state.issuer}/.well-known/openid-configuration`,
      `${url.origin}/.well-known/oauth-authorization-server${path}`,
    ];
    for (const candidate of candidates) {
      try {
        const response = await this.fetchImpl(candidate, {
          headers: { accept: 'application/json' },
          signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        });
        if (!response.ok) {
          state.lastError = `${candidate} answered ${response.status}`;
          continue;
        }
        const doc = (await response.json()) as Record<string, unknown>;
        if (typeof doc.issuer !== 'string' || doc.issuer.replace(/\/$/, '') !== state.issuer) {
          state.lastError = `${candidate} names another issuer`;
          continue;
        }
        if (typeof doc.jwks_uri !== 'string') {
          state.lastError = `${candidate} has no jwks_uri`;
          continue;
        }
        state.metadata = {
          jwksUri: doc.jwks_uri,
          ...(typeof doc.introspection_endpoint === 'string'
            ? { introspectionEndpoint: doc.introspection_endpoint }
            : {}),
        };
        const { createRemoteJWKSet } = await loadJose();
        state.jwks = createRemoteJWKSet(new URL(doc.jwks_uri), {
          cacheMaxAge: this.config.jwksCacheSeconds * 1000,
          cooldownDuration: this.refetchCooldownMs,
          timeoutDuration: FETCH_TIMEOUT_MS,
        });
        state.failedAt = undefined;
        state.lastError = undefined;
        return;
      } catch (error) {
        state.lastError = `${candidate}: ${describeFetchError(error)}`;
      }
    }
    state.failedAt = Date.now();
  }

  /** RFC 7662: the token is POSTed to the configured endpoint with the resource server's own client credentials. */
  private async introspect(token: string): Promise<Verified> {
    const { endpoint, clientId, clientSecret } = this.config.introspection!;
    let answer: Record<string, unknown>;
    try {
      const response = await this.fetchImpl(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`introspection answered ${response.status}`);
      answer = (await response.json()) as Record<string, unknown>;
    } catch (error) {
      return {
        ok: false,
        kind: 'unavailable',
        description: `token introspection failed (${describeFetchError(error)})`,
      };
    }
    if (answer.active !== true) return invalid('the token is not active');
    const now = Date.now() / 1000;
    const skew = this.config.clockSkewSeconds;
    if (typeof answer.exp === 'number' && answer.exp + skew < now) return invalid('the token has expired');
    if (typeof answer.nbf === 'number' && answer.nbf - skew > now)
      return invalid('the token is not yet valid (nbf)');
    const iss = typeof answer.iss === 'string' ? answer.iss.replace(/\/$/, '') : undefined;
    if (iss !== undefined && !this.issuers.has(iss))
      return invalid('the token issuer is not accepted by this server');
    const aud = typeof answer.aud === 'string' ? [answer.aud] : Array.isArray(answer.aud) ? answer.aud : [];
    if (!aud.some((a) => this.config.audiences.includes(String(a)))) {
      return invalid('the token was not issued for this resource (aud)');
    }
    // RFC 7662 makes sub optional: a client-credentials token is its client
    const sub = typeof answer.sub === 'string' ? answer.sub : answer.client_id;
    if (typeof sub !== 'string') return invalid('the token lacks a valid sub claim');
    return { ok: true, claims: { ...answer, sub }, issuer: iss ?? withoutSlash(this.config.issuers[0]) };
  }
}

const invalid = (description: string): Verified => ({ ok: false, kind: 'invalid', description });

const unavailable = (_state?: IssuerState): Verified => ({
  ok: false,
  kind: 'unavailable',
  description: "the issuer's signing keys cannot be fetched right now, so no token can be verified",
});

function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return cause ? `${error.message} (${cause})` : error.message;
  }
  return String(error);
}

/** Issuers are compared without a trailing slash (Authentik's end with one, Keycloak's do not). */
export const withoutSlash = (url: string): string => url.replace(/\/$/, '');
