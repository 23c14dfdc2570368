import { readFileSync } from 'node:fs';
import { healthFile, livezUrl, resolveContainerCommand } from './container-mode.js';

/**
 * The image's HEALTHCHECK: GET /livez of the server the entrypoint started (the slim image has no curl). Exit 0
 * when it answers 2xx, 1 otherwise. A mode without an HTTP listener (stdio, a one-off CLI command) is healthy.
 */
async function main(): Promise<number> {
  const url = probeUrl();
  if (!url) return 0;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
    await response.body?.cancel();
    return response.ok ? 0 : 1;
  } catch {
    return 1;
  }
}

function probeUrl(): string | undefined {
  try {
    return readFileSync(healthFile(process.env), 'utf8').trim() || undefined;
  } catch {
    try {
      return livezUrl(resolveContainerCommand([], process.env));
    } catch {
      return undefined;
    }
  }
}

process.exitCode = await main();
