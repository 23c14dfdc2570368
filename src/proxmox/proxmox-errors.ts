import type { TargetConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';
import { scrubSecrets } from '../common/logging/logger.js';
import { isTlsErrorCode, TlsPinMismatchError } from './tls.js';

/**
 * How a failed call to Proxmox becomes a DomainError: PVE's status answers (proxmox-api.md §3-§4: status, `message`
 * or else the reason phrase, `errors`), transport faults (security-and-faults.md §4.3: deadline, resets, TLS, a
 * body cut off) and the caller's cancel. Also which failures a GET may retry.
 */

export type PveMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The call a failure belongs to. */
export interface UpstreamCallContext {
  method: PveMethod;
  /** Path without query string: safe for messages and details. */
  path: string;
  timeoutMs: number;
  deadline: AbortSignal;
  callerSignal?: AbortSignal;
}

/** Codes of connection failures that are safe to retry for an idempotent GET. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const NETWORK_ERROR_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'temporary DNS failure',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed while sending',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
};

/** A non-2xx answer, kept raw until it is classified (retry or not) and mapped to a DomainError. */
export class UpstreamStatusError extends Error {
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly body: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${status}`);
  }
}

/** The connection broke after the headers: the body is incomplete. Retryable for GET, like a reset. */
export class BodyCutError extends Error {
  constructor(
    readonly bytesRead: number,
    cause: unknown,
  ) {
    super(`response cut off after ${bytesRead} bytes`, { cause });
  }
}

/**
 * Maps the failures of one target's calls. Every message is passed through scrub(): it may quote PVE, and nothing
 * may echo the token.
 */
export class ProxmoxErrorMapper {
  constructor(private readonly target: TargetConfig) {}

  toDomainError(error: unknown, ctx: UpstreamCallContext): DomainError {
    const details = (status?: number): Record<string, unknown> => ({
      target: this.target.name,
      ...(status === undefined ? {} : { status }),
      method: ctx.method,
      path: ctx.path,
    });

    if (ctx.deadline.aborted) {
      const seconds = Math.round(ctx.timeoutMs / 100) / 10;
      return new DomainError(
        'TIMEOUT',
        `Proxmox did not answer ${ctx.method} ${ctx.path} within ${seconds} s`,
        {
          hint: 'Proxmox or the network is slow or stuck; retry later, or raise proxmox.timeout for slow clusters.',
          details: details(),
          cause: error,
        },
      );
    }
    if (ctx.callerSignal?.aborted) return this.cancelledError(ctx);
    if (error instanceof DomainError) {
      return new DomainError(error.code, error.message, {
        hint: error.hint,
        details: { ...details(), ...error.details },
      });
    }
    if (error instanceof UpstreamStatusError) return this.statusError(error, details(error.status), ctx);
    if (error instanceof BodyCutError) {
      return new DomainError(
        'UPSTREAM_PROTOCOL',
        `Proxmox's response was cut off after ${error.bytesRead} bytes (the connection closed mid-body)`,
        {
          hint: 'A network or proxy problem between this server and Proxmox; retry later.',
          details: details(),
        },
      );
    }

    const code = errorCode(error);
    const where = `${this.target.host}:${this.target.port}`;
    if (error instanceof TlsPinMismatchError || isTlsErrorCode(code)) {
      const reason = error instanceof Error ? error.message : String(error);
      return new DomainError(
        'UPSTREAM_TLS',
        this.scrub(`TLS check failed for Proxmox at ${where}: ${reason}`),
        {
          hint:
            error instanceof TlsPinMismatchError
              ? 'The certificate is not the pinned one. If the node certificate was renewed on purpose, update ' +
                "proxmox.fingerprint (Datacenter → node → Certificates, or 'pvenode cert info'); otherwise " +
                'something is intercepting the connection.'
              : 'The certificate could not be verified. Set proxmox.fingerprint (SHA-256 of the node certificate) ' +
                'or proxmox.ca_file (e.g. a copy of /etc/pve/pve-root-ca.pem).',
          details: { ...details(), ...(code ? { tls_error: code } : {}) },
        },
      );
    }
    const text = (code && NETWORK_ERROR_TEXT[code]) ?? 'connection failed';
    return new DomainError('UPSTREAM_UNAVAILABLE', `Cannot reach Proxmox at ${where}: ${text}`, {
      hint: `Check that ${where} (proxmox.host and proxmox.port) is right and that pveproxy is running and reachable from here.`,
      details: { ...details(), ...(code ? { network_error: code } : {}) },
    });
  }

  private statusError(
    e: UpstreamStatusError,
    details: Record<string, unknown>,
    ctx: UpstreamCallContext,
  ): DomainError {
    const body = parseJsonObject(e.body);
    const upstreamMessage = typeof body?.message === 'string' ? body.message.trim() : '';
    const message = this.scrub(upstreamMessage || e.statusText.trim() || `HTTP ${e.status}`);
    const { method, path } = ctx;

    if (e.status === 401) {
      return new DomainError('UPSTREAM_AUTH', `Proxmox rejected the API token (${message})`, {
        hint:
          `Check auth.user, auth.token_name and auth.token_value of target '${this.target.name}', that the token exists, ` +
          'is not expired and that its user is enabled.',
        details,
      });
    }
    if (e.status === 403) {
      return new DomainError('UPSTREAM_FORBIDDEN', `Proxmox refused ${method} ${path}: ${message}`, {
        hint:
          "The API token lacks a privilege; Proxmox's message names the path and privilege. Grant it to the " +
          "token's user and, with privilege separation, to the token itself (pveum acl modify ... --tokens ...).",
        details,
      });
    }
    if (e.status === 400) {
      const errors = fieldErrors(body?.errors, (text) => this.scrub(text));
      const summary = errors ? Object.entries(errors).map(([field, text]) => `${field}: ${text}`) : [];
      return new DomainError(
        'UPSTREAM_REJECTED',
        `Proxmox rejected the parameters of ${method} ${path}: ${summary.length ? summary.join('; ') : message}`,
        { details: errors ? { ...details, errors } : details },
      );
    }
    if (e.status === 501) {
      return new DomainError(
        'UPSTREAM_REJECTED',
        `Proxmox does not implement ${method} ${path}: ${message}`,
        {
          hint: 'This Proxmox VE version has no such endpoint; it may be older than the feature needs.',
          details,
        },
      );
    }
    if (e.status === 595 || e.status === 596) {
      return new DomainError(
        'UPSTREAM_UNAVAILABLE',
        `Proxmox could not reach the node for ${path}: ${message}`,
        {
          hint: 'The node is unreachable from the cluster (offline, or the node name is wrong; names are case-sensitive).',
          details,
        },
      );
    }
    if (e.status === 500 && /does not exist|not found|no such/i.test(message)) {
      return new DomainError('UPSTREAM_NOT_FOUND', message, { details });
    }
    if (e.status === 502 || e.status === 503 || e.status === 504) {
      return new DomainError('UPSTREAM_UNAVAILABLE', `Proxmox is unavailable (${e.status} ${message})`, {
        hint: 'A transient failure in front of or inside pveproxy; retry in a moment.',
        details,
      });
    }
    if (e.status >= 500) return new DomainError('UPSTREAM_ERROR', `Proxmox error: ${message}`, { details });
    return new DomainError(
      'UPSTREAM_REJECTED',
      `Proxmox refused ${method} ${path} (${e.status}): ${message}`,
      {
        details,
      },
    );
  }

  cancelledError(ctx: { method: PveMethod; path: string }): DomainError {
    return new DomainError('INTERNAL', `Request to Proxmox was cancelled (${ctx.method} ${ctx.path})`, {
      hint: 'The caller cancelled the request before Proxmox answered.',
      details: { target: this.target.name, method: ctx.method, path: ctx.path },
    });
  }

  /** Removes anything token-like from text that may quote the upstream. */
  private scrub(text: string): string {
    const secret = this.target.tokenValue;
    const withoutSecret = secret && secret.length >= 4 ? text.split(secret).join('<redacted>') : text;
    return scrubSecrets(withoutSecret);
  }
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof UpstreamStatusError) return [502, 503, 504].includes(error.status);
  if (error instanceof BodyCutError) return true;
  const code = errorCode(error);
  return code !== undefined && RETRYABLE_NETWORK_CODES.has(code);
}

/** The Node/undici error code, looking through `cause` (undici wraps some socket errors). */
function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** PVE's `errors` object (param → message ending in "\n"), trimmed; undefined when absent or empty. */
function fieldErrors(value: unknown, scrub: (text: string) => string): Record<string, string> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([field, text]) => [field, scrub(String(text).replace(/\s+$/, ''))] as const,
  );
  return entries.length ? Object.fromEntries(entries) : undefined;
}
