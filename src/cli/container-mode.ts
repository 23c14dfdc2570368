/**
 * The container's mode switch (docker/Dockerfile runs container-main.js). The reference image picks its server
 * with PROXMOX_MCP_MODE: the REST/OpenAPI server on API_HOST:API_PORT (0.0.0.0:8811, the default) or the MCP
 * Streamable HTTP server on MCP_HOST:MCP_PORT (0.0.0.0:8000). Here both are the same `serve` (it always answers
 * /mcp, the REST routes and /openapi.json); the mode chooses which variables and ports apply, so a reference
 * deployment keeps its ports. `stdio` and `demo` are modes too, and a first argument picks the mode over the
 * variable (`docker run IMAGE demo`). Any other CLI command passes through (`docker compose run rest approve --list`).
 */

export type ContainerMode = 'rest' | 'mcp' | 'stdio' | 'demo';

/** The reference's spellings plus our own short names. */
const MODE_ALIASES: Record<string, ContainerMode> = {
  rest: 'rest',
  openapi: 'rest',
  api: 'rest',
  mcp: 'mcp',
  'mcp-http': 'mcp',
  'streamable-http': 'mcp',
  streamable: 'mcp',
  stdio: 'stdio',
  demo: 'demo',
};

export const DEFAULT_CONTAINER_MODE: ContainerMode = 'rest';
export const REST_DEFAULT_PORT = 8811;
export const MCP_DEFAULT_PORT = 8000;
/** Inside a container the server must listen beyond loopback to be reachable through a published port. */
const CONTAINER_HOST = '0.0.0.0';

export class ContainerModeError extends Error {}

export interface ContainerCommand {
  mode: ContainerMode | 'passthrough';
  /** Arguments for runCli (src/cli/cli.ts). */
  argv: string[];
  /** Where /livez answers; undefined for modes without an HTTP listener. */
  port?: number;
  host?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export function resolveContainerCommand(args: readonly string[], env: Env): ContainerCommand {
  const [first, ...rest] = args;
  if (first !== undefined) {
    const mode = MODE_ALIASES[first.toLowerCase()];
    // `docker run IMAGE approve --list`, `... --help`: the plain CLI
    if (!mode) return { mode: 'passthrough', argv: [...args] };
    return commandFor(mode, rest, env);
  }
  return commandFor(modeFromEnv(env), [], env);
}

export function modeFromEnv(env: Env): ContainerMode {
  const raw = env.PROXMOX_MCP_MODE?.trim();
  if (!raw) return DEFAULT_CONTAINER_MODE;
  const mode = MODE_ALIASES[raw.toLowerCase()];
  if (!mode) {
    throw new ContainerModeError(
      `Unsupported PROXMOX_MCP_MODE=${JSON.stringify(raw)}: expected rest (or openapi, api), ` +
        'mcp (or mcp-http, streamable-http, streamable), stdio or demo',
    );
  }
  return mode;
}

/** The HTTP modes: the CLI command, the prefix of their HOST/PORT variables, and the reference's port. */
const HTTP_MODES = {
  rest: { command: 'serve', vars: 'API', port: REST_DEFAULT_PORT },
  mcp: { command: 'serve', vars: 'MCP', port: MCP_DEFAULT_PORT },
  // The demo prints its own random API key in its banner (`docker compose logs demo`).
  demo: { command: 'demo', vars: 'MCP', port: MCP_DEFAULT_PORT },
} as const;

function commandFor(mode: ContainerMode, extra: string[], env: Env): ContainerCommand {
  if (mode === 'stdio') return { mode, argv: ['stdio', ...extra] };
  const spec = HTTP_MODES[mode];
  const host = hostFrom(env, `${spec.vars}_HOST`);
  const port = portFrom(env, `${spec.vars}_PORT`, spec.port);
  const argv = [spec.command, '--host', host, '--port', String(port), ...extra];
  // The CLI takes the last --host/--port (`docker run IMAGE mcp --port 9000`), so the healthcheck does too.
  const lastPort = Number(lastOption(argv, 'port'));
  return {
    mode,
    argv,
    host: lastOption(argv, 'host') ?? host,
    port: Number.isInteger(lastPort) && lastPort > 0 ? lastPort : port,
  };
}

/** The value of the last `--name VALUE` or `--name=VALUE` in argv. */
function lastOption(argv: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === `--${name}`) value = argv[i + 1];
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
  });
  return value;
}

function hostFrom(env: Env, name: string): string {
  const value = env[name]?.trim();
  return value ? value : CONTAINER_HOST;
}

function portFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new ContainerModeError(`${name}: got ${JSON.stringify(raw)}; expected a port 1-65535`);
  }
  return port;
}

/**
 * The entrypoint leaves the probe URL here for the HEALTHCHECK (a separate process that cannot see the
 * entrypoint's arguments). /tmp is writable in the image, also with a read-only root (compose mounts a tmpfs).
 */
export function healthFile(env: Env): string {
  return `${env.TMPDIR || '/tmp'}/proxmox-mcp-plus-livez.url`;
}

/** http://HOST:PORT/livez as seen from inside the container: a wildcard bind is probed on loopback. */
export function livezUrl(command: ContainerCommand): string | undefined {
  if (command.port === undefined) return undefined;
  const host = command.host ?? CONTAINER_HOST;
  const probeHost =
    host === '0.0.0.0' || !host
      ? '127.0.0.1'
      : host === '::'
        ? '[::1]'
        : host.includes(':')
          ? `[${host}]`
          : host;
  return `http://${probeHost}:${command.port}/livez`;
}
