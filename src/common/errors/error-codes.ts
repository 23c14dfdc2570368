/**
 * The one error taxonomy. Services and gateways throw DomainError with one of these codes; the HTTP filter and
 * the MCP mapper each switch over all of them exhaustively, so a new code does not compile until both map it.
 */
export const ERROR_CODES = [
  'VALIDATION',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'POLICY_DENIED',
  'APPROVAL_REQUIRED',
  'FROZEN',
  'PROTECTED',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'UPSTREAM_AUTH',
  'UPSTREAM_FORBIDDEN',
  'UPSTREAM_NOT_FOUND',
  'UPSTREAM_REJECTED',
  'UPSTREAM_ERROR',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_PROTOCOL',
  'UPSTREAM_TLS',
  'TIMEOUT',
  'STORE_UNAVAILABLE',
  'JOB_FAILED',
  'NOT_IMPLEMENTED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
