import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { validate } from 'dockerfile-utils';
import { livezUrl, resolveContainerCommand } from '../../src/cli/container-mode.js';
import { PveSimulator, simulatorTargetEnv } from '../../src/simulator/index.js';
import { freePort } from '../helpers/server-process.js';
import { API_KEY, SCHEMA_PATH } from '../helpers/test-app.js';

/**
 * The Docker image and compose file, checked without a Docker engine (none runs on the development or CI
 * machines): the Dockerfile is linted, `docker-compose config` (Debian's docker-compose, installed by .ci/run)
 * validates every profile, and the image's entrypoint (dist/src/cli/container-main.js, the same file the
 * Dockerfile's ENTRYPOINT runs) is started in each mode against the simulator to see which server answers where.
 * Runs from the repository root (scripts/run-tests.mjs), on the build.
 */

const DOCKERFILE = 'docker/Dockerfile';
const COMPOSE = 'docker-compose.yml';
const ENTRYPOINT = 'dist/src/cli/container-main.js';
const HEALTHCHECK = 'dist/src/cli/container-healthcheck.js';
const START_TIMEOUT_MS = 30_000;

interface DockerInstruction {
  keyword: string;
  args: string;
}

/** Instructions with continuation lines joined and comments dropped (enough for the assertions below). */
function instructions(text: string): DockerInstruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

describe('docker/Dockerfile', () => {
  const text = readFileSync(DOCKERFILE, 'utf8');
  const steps = instructions(text);
  const finalStage = steps.slice(steps.map((s) => s.keyword).lastIndexOf('FROM'));

  test('passes the dockerfile-utils linter (and the linter does report a broken file)', () => {
    const problems = validate(text).map(
      (d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
    );
    assert.deepEqual(problems, []);
    const broken = validate('FROM node:20 AS build\nEXPOSE port-eighty\nHEALTHCHECK CMD\nUSER\n');
    assert.ok(broken.length >= 2, 'the linter must flag an invalid EXPOSE and an empty USER');
  });

  test('is multi-stage: the runtime stage copies compiled code and production modules from the build', () => {
    assert.ok(steps.filter((s) => s.keyword === 'FROM').length >= 2);
    const copies = finalStage.filter((s) => s.keyword === 'COPY').map((s) => s.args);
    for (const from of ['/app/node_modules', '/app/dist/src', '/app/package.json', '/app/bin']) {
      assert.ok(
        copies.some((c) => c.startsWith('--from=build') && c.includes(from)),
        `runtime stage copies ${from}`,
      );
    }
    assert.ok(!copies.some((c) => /\bsrc\b/.test(c) && !c.includes('dist/src')), 'no TypeScript sources');
    assert.match(text, /npm prune --omit=dev/);
  });

  test('runs as a fixed non-root user and writes only to /app/data (volume) and /tmp', () => {
    const users = finalStage.filter((s) => s.keyword === 'USER').map((s) => s.args);
    assert.equal(users.length, 1);
    assert.match(users[0], /^10001(:10001)?$/, 'a numeric non-root uid (runAsNonRoot can verify it)');
    assert.ok(finalStage.some((s) => s.keyword === 'VOLUME' && s.args.includes('/app/data')));
    const env = finalStage
      .filter((s) => s.keyword === 'ENV')
      .map((s) => s.args)
      .join(' ');
    assert.match(env, /PROXMOX_JOBS_SQLITE_PATH=\/app\/data\//);
  });

  test('the HEALTHCHECK and ENTRYPOINT run built files with node (no curl in the image)', async () => {
    const health = finalStage.find((s) => s.keyword === 'HEALTHCHECK');
    assert.ok(health, 'a HEALTHCHECK');
    assert.match(health.args, /CMD \["node", "dist\/src\/cli\/container-healthcheck\.js"\]/);
    assert.doesNotMatch(JSON.stringify(steps), /curl|wget/);
    const entry = finalStage.find((s) => s.keyword === 'ENTRYPOINT');
    // the container starts node as the launcher does (bin/memory-settings.js: plain JS beside the launcher)
    const { NODE_FLAGS, MALLOC_DEFAULTS } = (await import(
      pathToFileURL(resolve('bin/memory-settings.js')).href
    )) as { NODE_FLAGS: string[]; MALLOC_DEFAULTS: Record<string, string> };
    assert.equal(
      entry?.args,
      JSON.stringify(['node', ...NODE_FLAGS, 'dist/src/cli/container-main.js']).replaceAll(',', ', '),
    );
    const env = finalStage
      .filter((s) => s.keyword === 'ENV')
      .map((s) => s.args)
      .join(' ');
    for (const [name, value] of Object.entries(MALLOC_DEFAULTS))
      assert.match(env, new RegExp(`${name}=${value}\\b`));
    assert.ok(existsSync(ENTRYPOINT) && existsSync(HEALTHCHECK), 'the build produced both files');
    const exposed = finalStage.filter((s) => s.keyword === 'EXPOSE').flatMap((s) => s.args.split(/\s+/));
    assert.deepEqual(exposed.sort(), ['8000', '8811']);
  });

  test('everything the build stage copies exists and is not excluded by .dockerignore', () => {
    const ignored = readFileSync('.dockerignore', 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const secret of ['.tmp', 'node_modules', 'dist', 'proxmox-config/config.json', '.env']) {
      assert.ok(ignored.includes(secret), `.dockerignore keeps ${secret} out of the build context`);
    }
    const sources = steps
      .filter((s) => s.keyword === 'COPY' && !s.args.startsWith('--from'))
      .flatMap((s) => s.args.split(/\s+/).slice(0, -1));
    assert.ok(sources.length >= 5);
    for (const source of sources) {
      assert.ok(existsSync(source), `${source} exists`);
      assert.ok(!ignored.includes(source), `${source} is not in .dockerignore`);
    }
  });
});

interface ComposeService {
  profiles?: string[];
  image?: string;
  read_only?: boolean;
  tmpfs?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

describe('docker-compose.yml', () => {
  /** `docker-compose config` (interpolated and validated), as JSON through PyYAML, which docker-compose needs. */
  function composeConfig(env: Record<string, string>): { services: Record<string, ComposeService> } {
    const config = spawnSync('docker-compose', ['-f', COMPOSE, 'config'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
      encoding: 'utf8',
    });
    if (config.error) {
      throw new Error(
        `docker-compose is not installed (${config.error.message}); .ci/run installs Debian's docker-compose`,
      );
    }
    assert.equal(config.status, 0, `docker-compose config failed:\n${config.stderr}`);
    const json = spawnSync(
      'python3',
      ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
      { input: config.stdout, encoding: 'utf8' },
    );
    assert.equal(json.status, 0, json.stderr);
    return JSON.parse(json.stdout) as { services: Record<string, ComposeService> };
  }

  const inProfile = (services: Record<string, ComposeService>, profile: string) =>
    Object.entries(services).filter(([, s]) => s.profiles?.includes(profile));

  test('validates with no variables set, and every service belongs to a profile', () => {
    const { services } = composeConfig({});
    for (const [name, service] of Object.entries(services)) {
      assert.ok(service.profiles?.length, `${name} has a profile (a bare \`up\` starts nothing by surprise)`);
    }
    for (const profile of ['rest', 'mcp', 'postgres', 'demo']) {
      assert.ok(inProfile(services, profile).length > 0, `profile ${profile}`);
    }
  });

  test("each server publishes, on loopback, the port its mode's entrypoint listens on", () => {
    const { services } = composeConfig({ MCP_API_KEY: API_KEY, POSTGRES_PASSWORD: 'pw' });
    const servers = Object.entries(services).filter(([, s]) => s.image === 'proxmox-mcp-plus:local');
    assert.deepEqual(servers.map(([name]) => name).sort(), ['demo', 'mcp', 'rest', 'rest-postgres']);
    for (const [name, service] of servers) {
      const env = service.environment ?? {};
      const command = resolveContainerCommand([], env);
      assert.ok(command.port, `${name}: an HTTP mode`);
      assert.deepEqual(service.ports, [`127.0.0.1:${command.port}:${command.port}/tcp`], name);
      assert.equal(service.read_only, true, `${name}: read-only root`);
      assert.deepEqual(service.tmpfs, ['/tmp'], `${name}: a writable /tmp`);
      if (name !== 'demo') {
        assert.equal(env.MCP_API_KEY, API_KEY, `${name}: the API key comes from the shell`);
        assert.ok(
          service.volumes?.includes('proxmox-jobs:/app/data:rw'),
          `${name}: the job database is on the named volume`,
        );
        assert.ok(service.volumes?.some((v) => /\/proxmox-config:\/app\/proxmox-config:ro$/.test(v)));
      }
    }
    assert.equal(resolveContainerCommand([], services.rest.environment ?? {}).port, 8811);
    assert.equal(resolveContainerCommand([], services.mcp.environment ?? {}).port, 8000);
  });

  test('a --port or --host after the mode wins for the server and for the healthcheck alike', () => {
    const moved = resolveContainerCommand(['mcp', '--port', '9000'], {});
    assert.deepEqual(moved.argv.slice(-2), ['--port', '9000'], 'the CLI takes the last --port');
    assert.equal(livezUrl(moved), 'http://127.0.0.1:9000/livez');
    const rebound = resolveContainerCommand(['rest', '--host=127.0.0.2'], { API_PORT: '8812' });
    assert.equal(livezUrl(rebound), 'http://127.0.0.2:8812/livez');
    assert.equal(livezUrl(resolveContainerCommand(['mcp'], {})), 'http://127.0.0.1:8000/livez');
  });

  test('the postgres profile runs PostgreSQL and a server whose job store is jobs.database_url', () => {
    const { services } = composeConfig({ MCP_API_KEY: API_KEY, POSTGRES_PASSWORD: 'pw' });
    const names = inProfile(services, 'postgres').map(([name]) => name);
    assert.deepEqual(names.sort(), ['postgres', 'rest-postgres']);
    const server = services['rest-postgres'];
    assert.equal(
      server.environment?.PROXMOX_JOBS_DATABASE_URL,
      'postgres://proxmox_mcp:pw@postgres:5432/proxmox_mcp',
    );
    assert.deepEqual(server.depends_on, { postgres: { condition: 'service_healthy' } });
    assert.ok(services.postgres.volumes?.some((v) => v.startsWith('proxmox-jobs-postgres:')));
  });

  test('the demo profile mounts the PVE schema from PVE_API_SCHEMA_DIR and points PVE_API_SCHEMA at it', () => {
    const { services } = composeConfig({ PVE_API_SCHEMA_DIR: '/srv/pve-api' });
    const demo = services.demo;
    assert.equal(demo.environment?.PROXMOX_MCP_MODE, 'demo');
    assert.equal(demo.environment?.PVE_API_SCHEMA, '/app/pve-api/apidoc.json');
    assert.deepEqual(demo.volumes, ['/srv/pve-api:/app/pve-api:ro']);
  });
});

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

function startEntrypoint(args: string[], env: Record<string, string>): Started {
  const child = spawn(process.execPath, [ENTRYPOINT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

async function waitForLivez(url: string, started: Started): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let done = false;
  void started.exited.then(() => (done = true));
  while (Date.now() < deadline && !done) {
    try {
      const res = await fetch(`${url}/livez`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answered ${url}/livez; entrypoint output:\n${started.output()}`);
}

function runHealthcheck(env: Record<string, string>) {
  return spawnSync(process.execPath, [HEALTHCHECK], { env, encoding: 'utf8', timeout: 15_000 });
}

describe('the image entrypoint switches servers by PROXMOX_MCP_MODE', () => {
  let sim: PveSimulator;
  let dir: string;
  let baseEnv: Record<string, string>;
  const auth = { authorization: `Bearer ${API_KEY}` };

  before(async () => {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0 });
    dir = mkdtempSync(join(tmpdir(), 'pmp-docker-'));
    baseEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      // where the entrypoint leaves the healthcheck's URL (/tmp in the image)
      TMPDIR: dir,
      PROXMOX_MCP_CONFIG: '',
      ...simulatorTargetEnv(sim),
      PROXMOX_JOBS_SQLITE_PATH: join(dir, 'jobs.sqlite3'),
      MCP_API_KEY: API_KEY,
      LOG_LEVEL: 'error',
      ...(process.env.NODE_V8_COVERAGE ? { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE } : {}),
    };
  });
  after(async () => {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(sim.schemaViolations(), []);
  });

  test('rest (the default) serves the REST API and /openapi.json on API_HOST:API_PORT; healthcheck follows it', async () => {
    const port = await freePort();
    const env = { ...baseEnv, API_HOST: '127.0.0.1', API_PORT: String(port) };
    const server = startEntrypoint([], env);
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForLivez(url, server);
      const openapi = await fetch(`${url}/openapi.json`, { headers: auth });
      assert.equal(openapi.status, 200);
      const doc = (await openapi.json()) as { paths: Record<string, unknown> };
      assert.ok(doc.paths['/vms'], 'the REST routes are in the OpenAPI document');
      const vms = await fetch(`${url}/vms`, { headers: auth });
      assert.equal(vms.status, 200);
      assert.equal(readFileSync(join(dir, 'proxmox-mcp-plus-livez.url'), 'utf8').trim(), `${url}/livez`);
      assert.equal(runHealthcheck(env).status, 0, 'healthy while the server answers');
    } finally {
      assert.equal(await server.stop(), 0, server.output());
    }
    assert.equal(runHealthcheck(env).status, 1, 'unhealthy once nothing answers');
  });

  test('mcp serves MCP Streamable HTTP at /mcp on MCP_HOST:MCP_PORT', async () => {
    const port = await freePort();
    const server = startEntrypoint([], {
      ...baseEnv,
      PROXMOX_MCP_MODE: 'mcp-http',
      MCP_HOST: '127.0.0.1',
      MCP_PORT: String(port),
      // the reference's REST variables do not apply in this mode
      API_PORT: '1',
    });
    const url = `http://127.0.0.1:${port}`;
    const client = new Client({ name: 'docker-mode-test', version: '1.0.0' });
    try {
      await waitForLivez(url, server);
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: auth } }),
      );
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'get_nodes'));
    } finally {
      await client.close();
      assert.equal(await server.stop(), 0, server.output());
    }
  });

  test('a first argument picks the mode over PROXMOX_MCP_MODE; other arguments run the plain CLI', async () => {
    const port = await freePort();
    const server = startEntrypoint(['mcp'], {
      ...baseEnv,
      PROXMOX_MCP_MODE: 'rest',
      MCP_HOST: '127.0.0.1',
      MCP_PORT: String(port),
    });
    try {
      await waitForLivez(`http://127.0.0.1:${port}`, server);
    } finally {
      assert.equal(await server.stop(), 0, server.output());
    }
    const help = spawnSync(process.execPath, [ENTRYPOINT, '--help'], { env: baseEnv, encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: proxmox-mcp-plus/);
  });

  test('stdio speaks MCP on stdin/stdout', async () => {
    const client = new Client({ name: 'docker-mode-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [ENTRYPOINT],
        env: { ...baseEnv, PROXMOX_MCP_MODE: 'stdio' },
        stderr: 'pipe',
      }),
    );
    try {
      const result = await client.callTool({ name: 'get_nodes', arguments: {} });
      assert.notEqual(result.isError, true);
    } finally {
      await client.close();
    }
  });

  test('demo runs the simulator and the server on MCP_PORT with the PVE schema', async () => {
    const port = await freePort();
    const server = startEntrypoint([], {
      ...baseEnv,
      PROXMOX_MCP_MODE: 'demo',
      MCP_HOST: '127.0.0.1',
      MCP_PORT: String(port),
      PVE_API_SCHEMA: SCHEMA_PATH,
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitForLivez(url, server);
      const key = /API key:\s+(\S+)/.exec(server.output())?.[1];
      assert.ok(key, `the banner shows the key:\n${server.output()}`);
      assert.match(server.output(), new RegExp(`every request checked against ${SCHEMA_PATH}`));
      // the approve command is printed as it runs in the compose file's demo service
      assert.match(
        server.output(),
        /List: +docker compose exec demo node dist\/src\/cli\/container-main\.js approve --demo --list/,
      );
      const res = await fetch(`${url}/vms`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.status, 200);
    } finally {
      assert.equal(await server.stop(), 0, server.output());
    }
  });

  test('bad modes, ports and a missing API key stop the container with a clear message', () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [ENTRYPOINT], {
        env: { ...baseEnv, ...env },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const mode = run({ PROXMOX_MCP_MODE: 'sse' });
    assert.equal(mode.status, 2);
    assert.match(mode.stderr, /Unsupported PROXMOX_MCP_MODE="sse": expected rest .*, mcp .*, stdio or demo/);
    const port = run({ API_PORT: '80a' });
    assert.equal(port.status, 2);
    assert.match(port.stderr, /API_PORT: got "80a"; expected a port 1-65535/);
    // compose passes ${MCP_API_KEY:-}: an empty key must refuse to start, never serve without one
    const key = run({ MCP_API_KEY: '', API_HOST: '127.0.0.1', API_PORT: '1' });
    assert.equal(key.status, 2);
    assert.match(
      key.stderr,
      /without an API key: .* Set one: PROXMOX_API_KEY=.*\(or MCP_API_KEY, or serve --api-key KEY\)/,
    );
    const schema = run({ PROXMOX_MCP_MODE: 'demo', PVE_API_SCHEMA: join(dir, 'missing.json') });
    assert.equal(schema.status, 2);
    assert.match(schema.stderr, /PVE_API_SCHEMA=.*missing\.json does not exist/);
  });
});
