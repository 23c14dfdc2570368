import type { DomainError } from './domain-error.js';
import type { ErrorCode } from './error-codes.js';

/** HTTP status for each error code. Exhaustive: a new code fails to compile until it is mapped here. */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
    case 'POLICY_DENIED':
    case 'APPROVAL_REQUIRED':
    case 'PROTECTED':
      return 403;
    case 'NOT_FOUND':
    case 'UPSTREAM_NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'FROZEN':
      return 423;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'RATE_LIMITED':
      return 429;
    case 'INTERNAL':
      return 500;
    case 'NOT_IMPLEMENTED':
      return 501;
    case 'UPSTREAM_AUTH':
    case 'UPSTREAM_FORBIDDEN':
    case 'UPSTREAM_REJECTED':
    case 'UPSTREAM_ERROR':
    case 'UPSTREAM_PROTOCOL':
    case 'UPSTREAM_TLS':
    case 'JOB_FAILED':
      return 502;
    case 'UPSTREAM_UNAVAILABLE':
    case 'STORE_UNAVAILABLE':
      return 503;
    case 'TIMEOUT':
      return 504;
  }
}

export interface HttpErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  /**
   * The reference's (FastAPI's) field: a validation failure's field list ({loc, msg: 'Field required', type:
   * 'missing'} …), `{message: "Error executing tool X: …"}` for a failed POST /{tool_name} call, else the message.
   */
  detail: string | Record<string, unknown> | unknown[];
  hint?: string;
  details?: Record<string, unknown>;
}

/** `tool`: the call came through POST /{tool_name}. */
export function httpErrorBody(error: DomainError, tool?: string): HttpErrorBody {
  const fields = error.code === 'VALIDATION' ? error.details?.fields : undefined;
  return {
    statusCode: httpStatusFor(error.code),
    code: error.code,
    message: error.message,
    detail: Array.isArray(fields)
      ? // POST /{tool_name} takes every argument in the body, whatever slot the resource route gives it
        tool
        ? (fields as Array<{ loc: string[] }>).map((f) => ({ ...f, loc: ['body', ...f.loc.slice(1)] }))
        : fields
      : tool
        ? { message: `Error executing tool ${tool}: ${error.message}` }
        : error.message,
    ...(error.hint ? { hint: error.hint } : {}),
    ...(error.details ? { details: error.details } : {}),
  };
}
