import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { buildConnector } from 'undici';
import type { TargetConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';

/** Error code set on the socket error when the leaf certificate does not match the pin. */
export const TLS_PIN_MISMATCH = 'ERR_TLS_PIN_MISMATCH';

export class TlsPinMismatchError extends Error {
  readonly code = TLS_PIN_MISMATCH;
  constructor(
    readonly expected: string,
    readonly seen: string | undefined,
  ) {
    super(
      `certificate fingerprint mismatch: expected SHA-256 ${expected}, the server presented ${seen ?? 'no certificate'}`,
    );
    this.name = 'TlsPinMismatchError';
  }
}

/** `aa:bb...`, `AABB...` or `sha256//AA:BB` → `AA:BB:...`, the form Node's fingerprint256 uses. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp
    .replace(/^sha256\/\//i, '')
    .replace(/[^0-9a-f]/gi, '')
    .toUpperCase();
  return hex.match(/.{1,2}/g)?.join(':') ?? '';
}

/**
 * An undici connector that trusts exactly one leaf certificate, by SHA-256 fingerprint.
 *
 * Chain and hostname verification are off (a pinned PVE node usually has a self-signed or cluster-CA certificate
 * for a name the client does not use), so the pin is the only check, and it runs on the socket of EVERY
 * connection before undici writes a byte. `checkServerIdentity` cannot do this: Node skips it when chain
 * verification failed and on resumed sessions (security-and-faults.md §3.6).
 *
 * Session caching is disabled so every connection makes a full handshake and presents its certificate: on a
 * resumed TLS 1.3 session Node 20 reports no peer certificate at all (checked), so with caching on, the check
 * below would refuse every reconnection. A connection that shows no certificate fails the comparison (closed).
 */
export function pinnedConnector(pin: string, timeoutMs?: number): buildConnector.connector {
  const expected = normalizeFingerprint(pin);
  const connect = buildConnector({ rejectUnauthorized: false, maxCachedSessions: 0, timeout: timeoutMs });
  return (options, callback) => {
    connect(options, (error, socket) => {
      if (error) {
        callback(error, null);
        return;
      }
      const seenRaw = (socket as TLSSocket).getPeerCertificate?.()?.fingerprint256;
      const seen = seenRaw ? normalizeFingerprint(seenRaw) : undefined;
      if (seen !== expected) {
        socket.destroy();
        callback(new TlsPinMismatchError(expected, seen), null);
        return;
      }
      callback(null, socket);
    });
  };
}

/** How the connection to one target is secured; picked once per client from the target config. */
export type TlsMode = 'pinned' | 'ca-file' | 'system-ca' | 'insecure';

export function tlsModeOf(target: TargetConfig): TlsMode {
  if (target.fingerprint) return 'pinned'; // the strictest option wins when several are configured
  if (!target.verifySsl) return 'insecure';
  return target.caFile ? 'ca-file' : 'system-ca';
}

/** The undici connector for a target. The CA file is read here, once. */
export function connectorFor(target: TargetConfig, connectTimeoutMs?: number): buildConnector.connector {
  switch (tlsModeOf(target)) {
    case 'pinned':
      return pinnedConnector(target.fingerprint!, connectTimeoutMs);
    case 'insecure':
      return buildConnector({ rejectUnauthorized: false, timeout: connectTimeoutMs });
    case 'ca-file':
      return buildConnector({ ca: readCaFile(target), rejectUnauthorized: true, timeout: connectTimeoutMs });
    case 'system-ca':
      return buildConnector({ rejectUnauthorized: true, timeout: connectTimeoutMs });
  }
}

function readCaFile(target: TargetConfig): string {
  try {
    return readFileSync(target.caFile!, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new DomainError('UPSTREAM_TLS', `Cannot read the CA file for target '${target.name}' (${reason})`, {
      hint: 'Check proxmox.ca_file: it must be a readable PEM file, e.g. a copy of /etc/pve/pve-root-ca.pem.',
      details: { target: target.name, ca_file: target.caFile },
    });
  }
}

const TLS_ERROR_CODE =
  /^(ERR_TLS_|ERR_SSL_|EPROTO$)|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY|DECRYPT|DECODE)|INVALID_CA|HOSTNAME_MISMATCH|PATH_LENGTH/;

/** True for certificate verification failures, pin mismatches and handshake errors. */
export function isTlsErrorCode(code: string | undefined): boolean {
  return code !== undefined && TLS_ERROR_CODE.test(code);
}
