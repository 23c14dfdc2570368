import type { ErrorCode } from './error-codes.js';

export interface DomainErrorOptions {
  /** What the caller can do about it; shown to MCP clients after the message. */
  hint?: string;
  /** Safe, structured details (field errors, upstream status). Never secrets. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** An expected failure with a stable code and a message that is safe to show to callers. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
