import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

/**
 * The simulator's self-signed certificate (CN pve-simulator, SAN 127.0.0.1, ::1 and localhost). Generated once per
 * process and shared by every simulator instance, so tests that start many simulators stay fast.
 */
export interface SimulatorCertificate {
  key: string;
  cert: string;
  /** SHA-256 of the DER certificate, upper-case colon hex (AA:BB:…), as PVE shows it. */
  fingerprint: string;
}

let cached: Promise<SimulatorCertificate> | undefined;

export function simulatorCertificate(): Promise<SimulatorCertificate> {
  cached ??= create().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function create(): Promise<SimulatorCertificate> {
  const notBeforeDate = new Date(Date.now() - 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'pve-simulator' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 2 * 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert, fingerprint: new X509Certificate(pems.cert).fingerprint256 };
}
