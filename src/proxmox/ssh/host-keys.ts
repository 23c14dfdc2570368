import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * SSH host key trust, as OpenSSH decides it, without ever accepting an unknown key (ssh2's default when no
 * verifier is set). A node's key is trusted when it equals the configured pin (`ssh.host_key_fingerprints`, the
 * SHA-256 fingerprint `ssh-keygen -lf` prints) or a key listed for the host in `ssh.known_hosts_file` (plain or
 * hashed entries, `[host]:port` for other ports, wildcards and negations, `@revoked`).
 */

/** `SHA256:<base64 without padding>` of the key blob, exactly as `ssh-keygen -lf` and `ssh -v` print it. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type inside a public key blob (its first SSH string), e.g. `ssh-ed25519`; `unknown` if malformed. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  if (len < 1 || len > 64 || 4 + len > keyBlob.length) return 'unknown';
  const type = keyBlob.subarray(4, 4 + len).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : 'unknown';
}

export interface KnownHostEntry {
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written (comma-separated patterns, or one `|1|salt|hash`). */
  hosts: string;
  keyType: string;
  key: Buffer;
  line: number;
}

/** Parses an OpenSSH known_hosts text; lines that are not entries (comments, garbage) are skipped. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      if (fields[0] === '@revoked') marker = 'revoked';
      else if (fields[0] === '@cert-authority') marker = 'cert-authority';
      else return;
      fields.shift();
    }
    const [hosts, keyType, base64] = fields;
    if (!hosts || !keyType || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return;
    const key = Buffer.from(base64, 'base64');
    // the blob names its own type: a line whose type field disagrees is corrupt, not a key to trust
    if (keyTypeOf(key) !== keyType) return;
    entries.push({ ...(marker ? { marker } : {}), hosts, keyType, key, line: index + 1 });
  });
  return entries;
}

/** The name OpenSSH looks a host up by: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether one known_hosts host field covers `name` (case-insensitive, like OpenSSH). */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) return hashedMatches(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    if (!pattern) continue;
    const negated = pattern.startsWith('!');
    if (wildcardMatch(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false; // a matching negation overrides every positive match on the line
      matched = true;
    }
  }
  return matched;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` (ssh-keygen -H / HashKnownHosts yes). */
function hashedMatches(field: string, name: string): boolean {
  const parts = field.split('|');
  if (parts.length !== 4) return false;
  const salt = Buffer.from(parts[2], 'base64');
  const expected = Buffer.from(parts[3], 'base64');
  if (salt.length === 0 || expected.length !== 20) return false;
  const actual = createHmac('sha1', salt).update(name).digest();
  return timingSafeEqual(actual, expected);
}

/** OpenSSH match_pattern: `*` any run, `?` any one character, case-insensitive. */
function wildcardMatch(pattern: string, name: string): boolean {
  const re = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name.toLowerCase());
}

export type HostKeyDecision =
  | { trusted: true; via: 'fingerprint' | 'known_hosts' }
  | {
      trusted: false;
      reason: 'pin_mismatch' | 'revoked' | 'changed' | 'unknown';
      /** What the node presented. */
      seen: string;
      keyType: string;
      /** The pin, or the fingerprints known_hosts lists for the host (for changed keys). */
      expected?: string[];
    };

export interface HostKeyPolicy {
  /** `ssh.host_key_fingerprints[node]`: when set, it alone decides. */
  pin?: string;
  /** Parsed `ssh.known_hosts_file` (undefined when none is configured). */
  knownHosts?: KnownHostEntry[];
  /** The names to look the host up by: `knownHostsName(host, port)` (and the node name, as an alias). */
  names: string[];
}

/**
 * Decides whether the key a node presented is trusted. A pin, when configured for the node, is the only thing
 * that counts (a pin that disagrees is a mismatch even if known_hosts would accept). Otherwise known_hosts: a
 * matching `@revoked` line refuses, a matching entry with the same key accepts, entries with other keys mean the
 * key changed, no entries means unknown. Nothing is ever accepted on first use.
 */
export function decideHostKey(keyBlob: Buffer, policy: HostKeyPolicy): HostKeyDecision {
  const seen = sshFingerprint(keyBlob);
  const keyType = keyTypeOf(keyBlob);
  if (policy.pin !== undefined) {
    return seen === policy.pin
      ? { trusted: true, via: 'fingerprint' }
      : { trusted: false, reason: 'pin_mismatch', seen, keyType, expected: [policy.pin] };
  }
  const entries = (policy.knownHosts ?? []).filter(
    (e) => e.marker !== 'cert-authority' && policy.names.some((n) => hostFieldMatches(e.hosts, n)),
  );
  if (entries.some((e) => e.marker === 'revoked' && e.key.equals(keyBlob))) {
    return { trusted: false, reason: 'revoked', seen, keyType };
  }
  const known = entries.filter((e) => e.marker === undefined);
  if (known.some((e) => e.key.equals(keyBlob))) return { trusted: true, via: 'known_hosts' };
  if (known.length) {
    return {
      trusted: false,
      reason: 'changed',
      seen,
      keyType,
      expected: known.map((e) => `${sshFingerprint(e.key)} (${e.keyType})`),
    };
  }
  return { trusted: false, reason: 'unknown', seen, keyType };
}

/** SSH signature algorithms per key type, to offer the types known_hosts has for a host first. */
const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * The host key algorithm order for a connection: the types known_hosts lists for this host first (as OpenSSH
 * does), so a node with several host keys presents one we can check rather than one we have never seen.
 */
export function preferredHostKeyAlgorithms(policy: HostKeyPolicy, defaults: string[]): string[] {
  if (policy.pin !== undefined || !policy.knownHosts) return defaults;
  const types = new Set(
    policy.knownHosts
      .filter((e) => e.marker === undefined && policy.names.some((n) => hostFieldMatches(e.hosts, n)))
      .map((e) => e.keyType),
  );
  const first = defaults.filter((alg) =>
    [...types].some((t) => (ALGORITHMS_BY_KEY_TYPE[t] ?? []).includes(alg)),
  );
  return [...first, ...defaults.filter((alg) => !first.includes(alg))];
}
