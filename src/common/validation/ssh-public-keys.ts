import { applyDecorators } from '@nestjs/common';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { DomainError } from '../errors/domain-error.js';
import { StringOrStringsSchema } from './string-or-strings.js';

/** Key types an authorized_keys line may carry (OpenSSH's plain public keys; no certificates). */
const KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'ssh-dss',
];

const TYPE_ALTERNATION = KEY_TYPES.map((t) => t.replace(/[.+]/g, '\\$&')).join('|');
/**
 * One authorized_keys line: optional options without spaces (`from="10.0.0.0/8",no-pty`, as PVE's own
 * validate_ssh_public_keys allows), the key type, the base64 blob, an optional comment of printable text.
 */
const KEY_LINE = `(?:[!-~]+ +)?(?:${TYPE_ALTERNATION}) [A-Za-z0-9+/]+={0,3}(?: [^\\x00-\\x1f\\x7f]*)?`;
const KEY_LINE_RE = new RegExp(`^${KEY_LINE}$`);
/** The syntactic rule for schemas: one or more key lines separated by newlines. */
export const SSH_PUBLIC_KEYS_RE = new RegExp(`^${KEY_LINE}(?:\\r?\\n${KEY_LINE})*\\r?\\n?$`);

export const MAX_SSH_KEYS = 100;

/**
 * Splits and checks OpenSSH public keys (one per line, or an array of lines): every non-empty line must be a key
 * whose base64 blob decodes to a key of the type the line names (a pasted private key, a truncated blob or a
 * type/blob mismatch is refused, naming the line). Returns the normalised lines (trimmed, duplicates removed).
 */
export function parsePublicKeys(input: string | string[], field: string): string[] {
  const lines = (Array.isArray(input) ? input : [input])
    .flatMap((chunk) => chunk.split(/\r?\n/))
    .map((line) => line.trim().replace(/ {2,}/g, ' '))
    .filter((line) => line.length > 0);
  if (!lines.length) {
    throw new DomainError('VALIDATION', `${field} must contain at least one OpenSSH public key`);
  }
  if (lines.length > MAX_SSH_KEYS) {
    throw new DomainError('VALIDATION', `${field} may hold at most ${MAX_SSH_KEYS} keys`);
  }
  lines.forEach((line, index) => {
    const problem = keyProblem(line);
    if (problem) {
      throw new DomainError(
        'VALIDATION',
        `${field} line ${index + 1} is not an OpenSSH public key: ${problem}`,
        {
          hint: 'Pass public keys as ssh-keygen writes them to *.pub, e.g. "ssh-ed25519 AAAAC3Nza… user@host", one per line.',
        },
      );
    }
  });
  return [...new Set(lines)];
}

function keyProblem(line: string): string | undefined {
  if (/PRIVATE KEY/.test(line)) return 'this is a private key; never send private keys';
  if (!KEY_LINE_RE.test(line)) {
    return `expected "[options] <type> <base64> [comment]" with a type of ${KEY_TYPES.join(', ')}`;
  }
  const fields = line.split(' ');
  const typeIndex = fields.findIndex((f) => KEY_TYPES.includes(f));
  const type = fields[typeIndex];
  const blob = Buffer.from(fields[typeIndex + 1], 'base64');
  if (blob.length < 4) return 'the key data is too short';
  const len = blob.readUInt32BE(0);
  if (4 + len > blob.length || blob.subarray(4, 4 + len).toString('latin1') !== type) {
    return `the key data is not a ${type} key (truncated or mismatched)`;
  }
  if (type === 'ssh-ed25519' && blob.length !== 4 + len + 4 + 32)
    return 'the ed25519 key data has the wrong length';
  return undefined;
}

/**
 * An optional field of OpenSSH public keys (one string with one key per line, or an array of lines): the shape is
 * checked here; parsePublicKeys() then checks each key's data. Used by every tool that installs keys.
 */
export const IsOpenSshPublicKeys = (description: string, options: { optional?: boolean } = {}) =>
  applyDecorators(
    ...(options.optional === false ? [] : [IsOptional()]),
    IsString({ each: true }),
    MaxLength(65536, { each: true }),
    Matches(SSH_PUBLIC_KEYS_RE, {
      each: true,
      message: '$property must be OpenSSH public keys, one per line (ssh-ed25519 AAAA… comment)',
    }),
    StringOrStringsSchema(description, SSH_PUBLIC_KEYS_RE),
  );
