import assert from 'node:assert/strict';
import { DomainError } from '../../../src/common/errors/domain-error.js';
import type { ErrorCode } from '../../../src/common/errors/error-codes.js';

/** Awaits a call that must fail with a DomainError of the given code, and returns that error. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    return error;
  }
  assert.fail(`expected a ${code} rejection, but the call succeeded`);
}
