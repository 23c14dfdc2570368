import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { FaultSpec } from './faults.js';
import { baseHeaders, sendError } from './wire.js';

/**
 * How each fault mode answers. The status recorded in the request log is the returned number (0 = no answer).
 */
const HUGE_BYTES = 64 * 1024 * 1024;

export function respondWithFault(spec: FaultSpec, req: IncomingMessage, res: ServerResponse): number {
  switch (spec.mode) {
    case 'status': {
      const status = spec.status ?? 500;
      const message = spec.message ?? STATUS_CODES[status] ?? 'simulated fault';
      const headers: Record<string, string> =
        spec.retryAfterSeconds !== undefined ? { 'Retry-After': String(spec.retryAfterSeconds) } : {};
      sendError(res, status, message, { headers });
      return status;
    }
    case 'reset':
      req.socket.destroy();
      return 0;
    case 'hang':
      return 0; // never answered; the simulator destroys the socket when it stops
    case 'bad-json': {
      const body = '{"data":[{"id":"node/pve1","type":"node","status":"online",';
      res.writeHead(200, 'OK', { ...baseHeaders(), 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return 200;
    }
    case 'html': {
      const body =
        '<!DOCTYPE html>\n<html><head><title>Proxmox Virtual Environment</title></head>' +
        '<body><h1>502 Bad Gateway</h1><p>The upstream server is not available.</p></body></html>\n';
      res.writeHead(200, 'OK', {
        ...baseHeaders('text/html; charset=utf-8'),
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(body);
      return 200;
    }
    case 'huge':
      streamHuge(res);
      return 200;
    case 'truncated': {
      const body = '{"data":[{"id":"qemu/100","type":"qemu","vmid":100,"name":"web-01","status":"running"}';
      res.writeHead(200, 'OK', { ...baseHeaders(), 'Content-Length': Buffer.byteLength(body) + 4096 });
      res.write(body, () => res.socket?.destroy());
      return 200;
    }
    case 'latency':
      throw new Error('latency faults delay the normal answer and never answer themselves');
  }
}

/**
 * A valid JSON body of ~64 MiB, generated chunk by chunk with back-pressure (never held in memory at once) and
 * sent without Content-Length, so a client has to guard the size while reading.
 */
function streamHuge(res: ServerResponse): void {
  const item = JSON.stringify({ id: 'qemu/100', type: 'qemu', padding: 'x'.repeat(900) });
  const chunk = Buffer.from(`${Array.from({ length: 64 }, () => item).join(',')},`);
  const chunks = Math.ceil(HUGE_BYTES / chunk.length);
  res.writeHead(200, 'OK', baseHeaders());
  res.write('{"data":[');
  let sent = 0;
  const pump = (): void => {
    while (sent < chunks) {
      if (res.destroyed) return;
      sent++;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end(`${item}]}`);
  };
  pump();
}
