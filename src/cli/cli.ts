import { parseArgs } from 'node:util';
import { ConfigError, type AppConfig } from '../config/app-config.js';
import { loadConfig } from '../config/config.loader.js';
import { parsePort, UsageError } from './cli-errors.js';
// commands are imported when run: `stdio` must answer its client before the application's modules are loaded

export const USAGE = `Usage: proxmox-mcp-plus [command] [options]

Commands:
  (none)       run the transport from the config (mcp.transport / MCP_TRANSPORT; default STDIO)
  serve        HTTP server: /mcp (Streamable HTTP), REST routes, /docs, /openapi.json, /livez, /readyz, /health
                 --host H  --port P  --api-key K (an admin API key, as PROXMOX_API_KEY=K)
  stdio        MCP over stdin/stdout
  simulator    a simulated Proxmox VE API (HTTPS) for tests and demos
                 --port P --host H --nodes N --guests G --task-seconds S --token USER@REALM!NAME=SECRET
                 --ssh (the nodes' SSH side: pct exec for containers)
  demo         the simulator plus 'serve' against it, with an agent and an operator key
                 --port P  --host H  --api-key K   (other settings: environment or config file)
  doctor       check the config, every target (TLS, token, PVE version, privileges per tool), SSH, job store
                 doctor [--json]   exit 0 ok (warnings allowed), 1 a check failed, 2 bad usage
  approve      grant a high-risk call's approval request; prints its single-use token once
                 approve <request-id> [--json]  |  approve --list [--json]
                 --demo: the running demo's job store (no configuration needed)
  help         this text

Configuration: proxmox-config/config.json (or PROXMOX_MCP_CONFIG), or PROXMOX_* / MCP_* environment variables.
`;

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration. */
export async function runCli(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  const command = first && !first.startsWith('-') ? first : undefined;
  const args = command ? rest : argv;
  try {
    switch (command) {
      case undefined:
        return await runDefault(args);
      case 'serve': {
        const { apiKey, ...flags } = serveFlags(args);
        // --api-key K is PROXMOX_API_KEY=K (as in the reference's proxy and our demo): an admin key, auth enforced
        const config =
          apiKey === undefined ? withConfig() : withConfig({ ...process.env, PROXMOX_API_KEY: apiKey });
        return await (await nest(() => import('./serve.command.js'))).runServe(config, flags);
      }
      case 'stdio': {
        noFlags(args, 'stdio');
        const config = withConfig();
        return await (await import('./stdio.command.js')).runStdio(config);
      }
      case 'simulator':
        await (await import('../simulator/index.js')).runSimulatorCli(args);
        return 0;
      case 'approve': {
        // --demo: the running demo's configuration (it leaves a pointer in a per-user place), not the environment's
        const config = args.includes('--demo')
          ? (await import('./demo-state.js')).runningDemoConfig()
          : withConfig();
        return await (await nest(() => import('./approve.command.js'))).runApprove(config, args);
      }
      case 'demo':
        return await (await nest(() => import('./demo.command.js'))).runDemo(args);
      case 'doctor':
        return await (await nest(() => import('./doctor/doctor.command.js'))).runDoctor(args);
      case 'help':
      case '--help':
        process.stdout.write(USAGE);
        return 0;
      default:
        process.stderr.write(`Unknown command '${command}'.\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    return reportStartupError(error);
  }
}

async function runDefault(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  noFlags(args, 'proxmox-mcp-plus');
  const config = withConfig();
  if (config.mcp.transport === 'STDIO') return (await import('./stdio.command.js')).runStdio(config);
  if (config.mcp.transport === 'SSE') {
    process.stderr.write(
      'MCP_TRANSPORT=SSE is served as Streamable HTTP at /mcp (SSE is deprecated in MCP).\n',
    );
  }
  return (await nest(() => import('./serve.command.js'))).runServe(config, {});
}

/**
 * A command module that loads Nest, imported after reflect-metadata: decorators evaluated without it lose their
 * design-type metadata silently (no error; injection breaks later). The stdio fast start loads it when it boots.
 */
async function nest<T>(load: () => Promise<T>): Promise<T> {
  await import('reflect-metadata');
  return load();
}

function withConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return loadConfig(env);
}

function serveFlags(args: string[]): { host?: string; port?: number; apiKey?: string } {
  const { values } = parseArgs({
    args,
    options: { host: { type: 'string' }, port: { type: 'string' }, 'api-key': { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const apiKey = values['api-key'];
  if (apiKey !== undefined && !/^[\x21-\x7e]{16,512}$/.test(apiKey)) {
    throw new UsageError(
      `--api-key: expected 16-512 printable characters without spaces (got ${apiKey.length} characters): a short key can be guessed. Generate one with: openssl rand -base64 32`,
    );
  }
  return {
    ...(apiKey === undefined ? {} : { apiKey }),
    host: values.host,
    port: values.port === undefined ? undefined : parsePort(values.port, '--port'),
  };
}

function noFlags(args: string[], command: string): void {
  if (args.length) throw new UsageError(`${command} takes no options (got ${args.join(' ')})`);
}

export function reportStartupError(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\nSee proxmox-config/README.md for every key and variable.\n`);
    return 2;
  }
  if (error instanceof UsageError || (error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (error instanceof Error && error.name === 'DatabaseStartupError') {
    process.stderr.write(`Job store: ${error.message}\n`);
    return 2;
  }
  const code = (error as { code?: string })?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    process.stderr.write(`Cannot listen: ${(error as Error).message}. Choose another --port.\n`);
    return 1;
  }
  process.stderr.write(`Startup failed: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}
