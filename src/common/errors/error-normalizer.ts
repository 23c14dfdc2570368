import { HttpException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DomainError } from './domain-error.js';
import type { ErrorCode } from './error-codes.js';

const STATUS_TO_CODE: Record<number, ErrorCode> = {
  400: 'VALIDATION',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  501: 'NOT_IMPLEMENTED',
};

/** Flattens class-validator's nested messages ("vmid must be ...") into one list. */
function messagesOf(response: unknown): string[] {
  if (typeof response === 'string') return [response];
  if (response && typeof response === 'object' && 'message' in response) {
    const m = response.message;
    if (Array.isArray(m)) return m.map(String);
    if (typeof m === 'string') return [m];
  }
  return [];
}

/**
 * Every error that can leave a handler becomes a DomainError here, so both transport mappers deal with one
 * shape. Unexpected errors get a reference id; their details go to the log only, never to the caller.
 */
export function normalizeError(
  error: unknown,
  onUnexpected?: (ref: string, error: unknown) => void,
): DomainError {
  if (error instanceof DomainError) return error;
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = STATUS_TO_CODE[status] ?? (status >= 500 ? 'INTERNAL' : 'VALIDATION');
    const messages = messagesOf(error.getResponse());
    if (code === 'VALIDATION' && messages.length) {
      return new DomainError('VALIDATION', `Invalid arguments: ${messages.join('; ')}`, {
        details: { errors: messages },
        hint: 'Fix the named arguments and call again; the tool schema lists what each one accepts.',
      });
    }
    return new DomainError(code, messages[0] ?? error.message);
  }
  const ref = randomUUID();
  onUnexpected?.(ref, error);
  if (isDatabaseError(error)) {
    return new DomainError('STORE_UNAVAILABLE', `The job store is unavailable (ref ${ref})`, {
      hint: 'Retry later; an operator can check the job database (jobs.sqlite_path / jobs.database_url) and the log.',
    });
  }
  return new DomainError('INTERNAL', `Internal error (ref ${ref})`, {
    hint: 'This is a server bug or an unexpected condition; the server log has details under this reference.',
  });
}

/** TypeORM query/connection failures and the SQLite/PostgreSQL driver errors under them. */
function isDatabaseError(error: unknown): boolean {
  const name = error instanceof Error ? error.name : '';
  return (
    ['QueryFailedError', 'SqliteError', 'DriverException', 'ConnectionIsNotSetError'].includes(name) ||
    (error instanceof Error && /^(SQLITE_|ECONNREFUSED)/.test((error as { code?: string }).code ?? ''))
  );
}
