import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { buildConnector } from 'undici';
import { normalizeFingerprint, pinnedConnector, TLS_PIN_MISMATCH } from '../../src/proxmox/tls.js';

type Connector = buildConnector.connector;

/** Opens one connection with an undici connector; resolves with the socket or the connector's error. */
function connectWith(
  connector: Connector,
  port: number,
): Promise<{ socket?: TLSSocket; error?: Error & { code?: string } }> {
  return new Promise((resolve) => {
    connector(
      { hostname: '127.0.0.1', host: '127.0.0.1', protocol: 'https:', port: String(port) },
      (error, socket) =>
        resolve({ error: error ?? undefined, socket: (socket as TLSSocket | null) ?? undefined }),
    );
  });
}

/** Lets the client receive the TLS 1.3 session ticket, which arrives after the handshake. */
async function exchangeByte(socket: TLSSocket): Promise<void> {
  socket.write('x');
  await new Promise((resolve) => socket.once('data', resolve));
}

describe('pinned TLS connector', () => {
  let server: Server;
  let port: number;
  let fingerprint: string;

  before(async () => {
    const pems = await generate([{ name: 'commonName', value: 'pve.test' }], {
      keyType: 'ec',
      algorithm: 'sha256',
    });
    fingerprint = new X509Certificate(pems.cert).fingerprint256;
    // An echo server that supports session resumption (tickets are on by default).
    server = createServer({ key: pems.private, cert: pems.cert }, (socket: Socket) => {
      socket.on('data', (d: Buffer) => socket.write(d));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('normalizeFingerprint accepts lower case, no colons and a sha256// prefix', () => {
    assert.equal(normalizeFingerprint('sha256//aabb0c'), 'AA:BB:0C');
    assert.equal(normalizeFingerprint('aa:bb:0c'), 'AA:BB:0C');
  });

  test('the right pin connects to a self-signed server', async () => {
    const { socket, error } = await connectWith(pinnedConnector(fingerprint), port);
    assert.equal(error, undefined);
    socket!.destroy();
  });

  test('a wrong pin fails with the expected and seen fingerprints, and no socket is handed to undici', async () => {
    const wrong = fingerprint.replace(/^../, fingerprint.startsWith('00') ? '11' : '00');
    const { error, socket } = await connectWith(pinnedConnector(wrong), port);
    assert.equal(socket, undefined);
    assert.equal(error?.code, TLS_PIN_MISMATCH);
    assert.ok(error?.message.includes(`expected SHA-256 ${wrong}`), error?.message);
    assert.ok(error?.message.includes(fingerprint), error?.message);
  });

  test('the server resumes sessions for a default connector (so the next test means something)', async () => {
    const connector = buildConnector({ rejectUnauthorized: false });
    const first = await connectWith(connector, port);
    await exchangeByte(first.socket!);
    const second = await connectWith(connector, port);
    assert.equal(second.socket!.isSessionReused(), true);
    first.socket!.destroy();
    second.socket!.destroy();
  });

  test('every pinned connection makes a full handshake, so the pin is checked each time', async () => {
    // Without this, a resumed TLS 1.3 session shows no peer certificate in Node 20 and the pin could not be checked.
    const connector = pinnedConnector(fingerprint);
    const first = await connectWith(connector, port);
    await exchangeByte(first.socket!);
    const second = await connectWith(connector, port);
    assert.equal(second.error, undefined);
    assert.equal(second.socket!.isSessionReused(), false);
    first.socket!.destroy();
    second.socket!.destroy();
  });
});
