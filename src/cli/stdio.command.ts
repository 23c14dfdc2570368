import type { INestApplication } from '@nestjs/common';
import { ConfigError, type AppConfig } from '../config/app-config.js';
import { readServerInfo } from '../mcp/server-info.js';
import { readToolManifest, type ManifestTool, type ToolManifest } from '../mcp/tool-manifest.js';
import type { McpServerFactory } from '../mcp/transport/mcp-server.factory.js';
import { BOOT_AFTER_IDLE_MS, openStdio, STDIO_PRINCIPAL } from '../mcp/transport/stdio-opener.js';
import {
  exposureLists,
  listedToolNames,
  unknownToolNameProblems,
  visibleToolNames,
} from '../security/tool-visibility.js';

/*
 * MCP over stdin/stdout: the same application and tool table, without an HTTP listener.
 *
 * An MCP client starts this process and waits for tools/list. Loading the whole application (Nest, every module,
 * TypeORM, Swagger metadata) takes seconds, so when the build-time tool manifest can be trusted, `initialize` and
 * the first tools/list are answered from it and the application starts right after (serveStdioFast). Even the
 * MCP SDK (with zod, the largest part of the start) waits: the stdio opener answers a 2025-era opening without
 * it (stdio-opener.ts) and hands the rest of stdin to the SDK. Only this file's static imports are loaded before
 * those answers: keep Nest and the SDK out of them.
 */
export async function runStdio(config: AppConfig): Promise<number> {
  let app: INestApplication | undefined;
  const probing = new AbortController();
  const boot = async (): Promise<McpServerFactory> => {
    probeTls(); // with the application, after the opening answers (it loads undici and the logger)
    await import('reflect-metadata'); // before any decorated class is evaluated
    const [{ createApp }, { McpServerFactory }] = await Promise.all([
      import('../app.setup.js'),
      import('../mcp/transport/mcp-server.factory.js'),
    ]);
    app = (await createApp(config)).app;
    return app.get(McpServerFactory);
  };
  const probeTls = () => {
    // A client shows only "Connection closed" for a server that exits, and a tool error only to the model: a target
    // whose TLS cannot work is said on stderr (the client's server log) with its fix, and the process exits 2.
    void import('../proxmox/tls-advice.js')
      .then(({ firstTlsFailure }) =>
        firstTlsFailure(config.targets, AbortSignal.any([probing.signal, AbortSignal.timeout(15_000)])),
      )
      .then(
        (failure) => {
          if (!failure || probing.signal.aborted) return;
          process.stderr.write(`proxmox-mcp-plus stdio: TLS to Proxmox cannot work: ${failure}\n`);
          exit(2);
        },
        () => undefined,
      );
  };
  const exit = (code: number) => void (app?.close() ?? Promise.resolve()).then(() => process.exit(code));
  const stop = () => exit(0);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const info = readServerInfo();
  const tools = manifestTools(config, info.version);
  if (tools) {
    const warn = (message: string) => process.stderr.write(`proxmox-mcp-plus stdio: ${message}\n`);
    const opening = await openStdio({ info, tools, idleMs: BOOT_AFTER_IDLE_MS });
    // after the opener's last answer: loading the SDK holds the event loop
    const { serveStdioFast } = await import('../mcp/transport/stdio.transport.js');
    await serveStdioFast({ info, tools, boot, warn, opening });
  } else {
    const { serveStdio } = await import('../mcp/transport/stdio.transport.js');
    await serveStdio(await boot());
  }
  probing.abort();
  await app?.close();
  return 0;
}

/** The manifest if it can be trusted, else undefined (then the application starts first, as it always did). */
function manifestTools(config: AppConfig, version: string): ManifestTool[] | undefined {
  const read = readToolManifest(version);
  if (read.ok) return stdioToolsFromManifest(config, read.manifest);
  if (config.logging.level === 'debug' || config.logging.level === 'trace') {
    process.stderr.write(`proxmox-mcp-plus stdio: starting without the tool manifest: ${read.reason}\n`);
  }
  return undefined;
}

/** tools/list for the stdio caller from the manifest, through the same access rules the application applies. */
export function stdioToolsFromManifest(config: AppConfig, manifest: ToolManifest): ManifestTool[] {
  // the application refuses these at boot; refuse them before serving a list too
  const problems = unknownToolNameProblems(new Set(manifest.facts.map((f) => f.name)), config);
  if (problems.length) throw new ConfigError(problems);
  const lists = exposureLists(config.mcp);
  const listed = listedToolNames(visibleToolNames(manifest.facts, lists, config, STDIO_PRINCIPAL), lists);
  return manifest.tools.filter((t) => listed.has(t.name));
}
