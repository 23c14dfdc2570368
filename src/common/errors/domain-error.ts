import type { ErrorCode } from './error-codes.js';

export interface DomainErrorOptions {
  /** What the caller can do about it; shown to MCP clients after the message. */
  hint?: string;
  /** Safe, structured details (field errors, upstream status). Never secrets. */
  details?: Record<string, unknown>;
  cause?: unknown;
  /**
   * The tool's own result that goes with this error (a waited-for job that failed): MCP sends it as the error
   * result's structuredContent, so it must match the tool's outputSchema. REST callers find it in `details`.
   */
  structured?: Record<string, unknown>;
}

/** An expected failure with a stable code and a message that is safe to show to callers. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;
  readonly structured?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
    this.structured = options.structured;
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
