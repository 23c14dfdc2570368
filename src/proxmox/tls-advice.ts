import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import type { TargetConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';

/** The certificate a target presented, read without trusting it. */
export interface SeenCertificate {
  fingerprint: string;
  selfSigned: boolean;
}

/**
 * When a call failed because the target's certificate is not trusted (no pin configured, not a pin mismatch),
 * the certificate it presents, so the advice can name the exact fingerprint to pin. Undefined otherwise.
 */
export async function untrustedCertificate(
  error: unknown,
  target: TargetConfig,
): Promise<SeenCertificate | undefined> {
  if (!(error instanceof DomainError) || error.code !== 'UPSTREAM_TLS') return undefined;
  if (target.fingerprint || /fingerprint mismatch/.test(error.message)) return undefined;
  return peerCertificate(target.host, target.port, Math.min(target.timeoutMs, 10_000));
}

/**
 * One TLS handshake without verification, only to read the certificate the target presents. Nothing is sent
 * over the connection; it is closed at once.
 */
export function peerCertificate(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<SeenCertificate | undefined> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      rejectUnauthorized: false,
      ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
    });
    const done = (cert?: PeerCertificate) => {
      socket.destroy();
      resolve(
        cert?.fingerprint256
          ? { fingerprint: cert.fingerprint256, selfSigned: cert.issuer?.CN === cert.subject?.CN }
          : undefined,
      );
    };
    socket.setTimeout(timeoutMs, () => done());
    socket.once('secureConnect', () => done(socket.getPeerCertificate()));
    socket.once('error', () => done());
  });
}

/** The exact config line (and, for the single environment target, the variable) that pins the certificate. */
export function pinAdvice(target: TargetConfig, seen: SeenCertificate): string {
  const fp = seen.fingerprint;
  const kind = seen.selfSigned ? 'a self-signed certificate' : 'a certificate no trusted CA signed';
  const fileLine =
    target.name === 'default'
      ? `"proxmox": { "fingerprint": "${fp}" }`
      : `"targets": { "${target.name}": { "proxmox": { "fingerprint": "${fp}" } } }`;
  const envLine = target.name === 'default' ? `, or in the environment: PROXMOX_FINGERPRINT=${fp}` : '';
  return (
    `${target.host}:${target.port} presents ${kind}. If ${fp} is the node's certificate (check on the node: ` +
    `pvenode cert info), pin it in the config file: ${fileLine}${envLine}. ` +
    `Or trust the cluster CA: proxmox.ca_file = a copy of /etc/pve/pve-root-ca.pem.`
  );
}

/**
 * A start-up check for processes whose operator cannot see tool results (stdio under an MCP client): one
 * GET /version per target; the first TLS failure comes back as a sentence with its fix (the fingerprint to pin).
 * Anything else (unreachable, no /version) is left to the tool calls, which report it themselves.
 */
export async function firstTlsFailure(
  targets: readonly TargetConfig[],
  signal: AbortSignal,
): Promise<string | undefined> {
  const { ProxmoxClient } = await import('./proxmox-client.js');
  const failures = await Promise.all(
    targets.map(async (target) => {
      const client = new ProxmoxClient(target, { getRetries: 0 });
      try {
        await client.get('/version', undefined, { signal });
        return undefined;
      } catch (error) {
        if (!(error instanceof DomainError) || error.code !== 'UPSTREAM_TLS') return undefined;
        const seen = await untrustedCertificate(error, target);
        const fix = seen ? pinAdvice(target, seen) : (error.hint ?? '');
        const where = seen
          ? `${error.message} (the server presented SHA-256 ${seen.fingerprint})`
          : error.message;
        return `target '${target.name}': ${where}. ${fix}`;
      } finally {
        await client.close().catch(() => undefined);
      }
    }),
  );
  return failures.find((f) => f !== undefined);
}
