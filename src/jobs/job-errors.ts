import { DomainError } from '../common/errors/domain-error.js';

/** The text kept in a job's last_error: a DomainError's message (never a stack or a secret-bearing cause). */
export function jobFailureMessage(error: unknown): string {
  if (error instanceof DomainError) return error.message;
  return 'the request failed unexpectedly (see the server log)';
}
