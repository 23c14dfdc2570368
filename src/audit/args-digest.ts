import { createHash } from 'node:crypto';
import { redactValue } from '../common/redaction/redactor.js';

/** Left out of the digest: the target has its own column, and an approval token is not part of the call. */
const NOT_DIGESTED = new Set(['target', 'approval_token']);

/**
 * SHA-256 (hex) of a call's arguments in canonical form: secrets redacted first (a digest of a weak password
 * could be brute-forced offline), keys sorted, null/undefined dropped, numbers and booleans as strings, so the
 * same call has the same digest over MCP (typed JSON) and REST (path and query values are strings).
 */
export function argsDigest(args: Record<string, unknown>): string {
  const redacted = redactValue(args);
  const material: Record<string, unknown> = {};
  for (const key of Object.keys(redacted).sort()) {
    if (NOT_DIGESTED.has(key)) continue;
    const value = canonical(redacted[key]);
    if (value !== undefined) material[key] = value;
  }
  return createHash('sha256').update(JSON.stringify(material)).digest('hex');
}

function canonical(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => canonical(v) ?? null);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = canonical((value as Record<string, unknown>)[key]);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }
  return undefined; // functions and symbols do not occur in JSON arguments
}
