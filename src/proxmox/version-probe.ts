import { DomainError } from '../common/errors/domain-error.js';

/**
 * True when GET /version failed because the target ANSWERED without serving it (a PVE-compatible emulator or a
 * proxy that exposes only part of the API: 400/403/404/501, or PVE's "does not exist"): the target is
 * reachable and its token accepted, only its version is unknown. Network, TLS, token and timeout failures are not.
 */
export function answeredWithoutVersion(error: unknown): boolean {
  return (
    error instanceof DomainError &&
    (error.code === 'UPSTREAM_REJECTED' ||
      error.code === 'UPSTREAM_NOT_FOUND' ||
      error.code === 'UPSTREAM_FORBIDDEN')
  );
}
