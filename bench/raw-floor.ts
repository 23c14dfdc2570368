import { performance } from 'node:perf_hooks';
import { Client } from 'undici';
import { connectorFor } from '../src/proxmox/tls.js';
import { inProcessConfig } from './config.js';
import type { SimHandle } from './sim-handle.js';

/**
 * The floor of an uncached inventory call: what reading `/cluster/resources` costs with nothing of ours around
 * it. One keep-alive connection (undici Client) with the server's own TLS connector (the simulator's certificate
 * pinned, as `connectorFor` builds it for the gateway) and its API-token header; each call is timed from the
 * request to the end of `JSON.parse` of the answer. `warmup` calls first (TLS handshake, JIT) are not counted.
 */
export async function rawResourcesFloor(sim: SimHandle, calls: number, warmup: number): Promise<number[]> {
  const target = inProcessConfig(sim).targets[0];
  const host = target.host.includes(':') && !target.host.startsWith('[') ? `[${target.host}]` : target.host;
  const client = new Client(`https://${host}:${target.port}`, {
    connect: connectorFor(target),
    pipelining: 1,
  });
  const headers = {
    authorization: `PVEAPIToken=${target.user}!${target.tokenName}=${target.tokenValue}`,
    accept: 'application/json',
  };
  const samples: number[] = [];
  try {
    for (let i = 0; i < warmup + calls; i++) {
      const t0 = performance.now();
      const res = await client.request({ method: 'GET', path: '/api2/json/cluster/resources', headers });
      const parsed = JSON.parse(await res.body.text()) as { data?: unknown[] };
      const elapsed = performance.now() - t0;
      if (res.statusCode !== 200 || !Array.isArray(parsed.data)) {
        throw new Error(`GET /cluster/resources answered HTTP ${res.statusCode}`);
      }
      if (i >= warmup) samples.push(elapsed);
    }
  } finally {
    await client.close();
  }
  return samples;
}
