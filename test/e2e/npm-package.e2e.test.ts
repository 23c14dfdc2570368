import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { PveSimulator, simulatorTargetEnv } from '../../src/simulator/index.js';
import { freePort } from '../helpers/server-process.js';
import { API_KEY, SCHEMA_PATH } from '../helpers/test-app.js';

/**
 * The published package, as a user gets it: `npm pack` the repository, install the tarball into an empty
 * directory (from the npm registry, reusing the local npm cache; better-sqlite3 compiles, so this takes minutes),
 * then run every subcommand through `npx proxmox-mcp-plus` there, against the simulator. Runs on the build:
 * the tarball holds the dist/src that `npm run build` produced (packed with --ignore-scripts, so this test does
 * not rebuild a checkout other test files are running from).
 */

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const INSTALL_TIMEOUT_MS = 8 * 60_000;
const START_TIMEOUT_MS = 60_000;

interface PackedFile {
  path: string;
}

/** The environment of the npm processes: ours, less what an enclosing `npm test` says about this repository. */
function npmEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^npm_(package_|lifecycle_|command$|config_local_prefix$)/.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  // node-gyp must build better-sqlite3 against the headers of the Node that runs it (it cannot download them), as
  // .ci/run does. Those of the running Node win over an npmrc's nodedir, which may name another Node's (a machine
  // whose own node is older keeps `nodedir=/usr` while the suite runs on Node 24).
  const nodePrefix = dirname(dirname(process.execPath));
  if (existsSync(join(nodePrefix, 'include/node/node_version.h'))) env.npm_config_nodedir = nodePrefix;
  return { ...env, ...extra };
}

const answers = (url: string): Promise<boolean> =>
  fetch(url).then(
    (r) => r.ok,
    () => false,
  );

/**
 * `npx proxmox-mcp-plus ...` (`--no`: never from the registry, `--`: every later argument is ours) in its own
 * process group, so Ctrl+C can be sent the way a terminal sends it.
 */
function startNpx(cwd: string, args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn('npx', ['--no', '--', 'proxmox-mcp-plus', ...args], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  let signal: NodeJS.Signals | null = null;
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code, bySignal) => {
      signal = bySignal;
      resolve(code);
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    stdout: () => stdout,
    output: () => `stdout:\n${stdout}\nstderr:\n${stderr}`,
    exited,
    async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (Date.now() < deadline && !done) {
        const match = pattern.exec(stdout);
        if (match) return match;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no ${pattern} from npx proxmox-mcp-plus ${args.join(' ')}:\n${stdout}\n${stderr}`);
    },
    /**
     * SIGINT to the whole group (npx and the server), as Ctrl+C does. Resolves with how npx ended: 0, or the
     * SIGINT itself (npm re-raises it once the server has stopped).
     */
    async interrupt(): Promise<number | string> {
      if (!done) process.kill(-child.pid!, 'SIGINT');
      const timer = setTimeout(() => !done && process.kill(-child.pid!, 'SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code ?? String(signal);
    },
  };
}

describe('the npm package (npm pack, installed into an empty directory, run with npx)', () => {
  let work: string;
  let app: string;
  let packed: string[];
  let sim: PveSimulator;
  let pveEnv: Record<string, string>;

  before(
    async () => {
      work = mkdtempSync(join(tmpdir(), 'pmp-npm-package-'));
      const packDir = join(work, 'pack');
      app = join(work, 'app');
      mkdirSync(packDir);
      mkdirSync(app);
      const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], {
        cwd: REPO,
        env: npmEnv(),
        encoding: 'utf8',
        timeout: 120_000,
      });
      assert.equal(pack.status, 0, `npm pack failed:\n${pack.stderr}`);
      const [manifest] = JSON.parse(pack.stdout) as [{ filename: string; files: PackedFile[] }];
      packed = manifest.files.map((f) => f.path);
      const tarball = join(packDir, manifest.filename);

      // An empty directory, as a user's would be: no package.json, no node_modules.
      assert.deepEqual(readdirSync(app), []);
      const install = spawnSync(
        'npm',
        // --prefix: the empty directory itself, even if a folder above it holds a package.json
        ['install', '--prefix', app, '--prefer-offline', '--no-audit', '--no-fund', tarball],
        { cwd: app, env: npmEnv(), encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS },
      );
      assert.equal(
        install.status,
        0,
        `npm install of the tarball failed:\n${install.stdout}\n${install.stderr}`,
      );

      sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0 });
      pveEnv = {
        PROXMOX_MCP_CONFIG: '',
        ...simulatorTargetEnv(sim),
        PROXMOX_JOBS_SQLITE_PATH: join(work, 'jobs.sqlite3'),
        LOG_LEVEL: 'error',
      };
    },
    { timeout: INSTALL_TIMEOUT_MS + 2 * 60_000 },
  );

  after(async () => {
    await sim?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    if (sim) assert.deepEqual(sim.schemaViolations(), []);
  });

  test('the tarball holds the launcher and the compiled server, and nothing of tests, sources or maps', () => {
    assert.ok(packed.includes('package.json'));
    assert.ok(packed.includes('bin/proxmox-mcp-plus.js'));
    assert.ok(packed.includes('dist/src/cli/main.js'));
    assert.ok(packed.includes('README.md'));
    assert.ok(packed.includes('proxmox-config/config.example.json'));
    assert.ok(packed.includes('LICENSE'));
    // stdio answers tools/list from it before the app has booted (src/mcp/tool-manifest.ts)
    assert.ok(packed.includes('dist/src/mcp/tool-manifest.json'));
    const unwanted = packed.filter(
      (p) =>
        /^(dist\/(test|bench)\/|test\/|src\/|bench\/|scripts\/|docker\/|docs\/|\.tmp\/|\.ci\/|node_modules\/)/.test(
          p,
        ) ||
        /\.map$/.test(p) ||
        (/\.ts$/.test(p) && !/\.d\.ts$/.test(p)) ||
        /(^|\/)config\.json$|\.sqlite3/.test(p),
    );
    assert.deepEqual(unwanted, []);
    const outside = packed.filter(
      (p) =>
        !/^(bin\/|dist\/src\/.*\.js$|dist\/src\/mcp\/tool-manifest\.json$|proxmox-config\/|README\.md$|package\.json$|LICENSE$)/.test(
          p,
        ),
    );
    assert.deepEqual(
      outside,
      [],
      'only the launcher, compiled JavaScript, the tool manifest, the config examples and the docs',
    );
  });

  test('npx proxmox-mcp-plus --help and help print the usage', { timeout: START_TIMEOUT_MS }, async () => {
    for (const args of [['--help'], ['help']]) {
      const run = startNpx(app, args, npmEnv());
      assert.equal(await run.exited, 0, run.output());
      assert.match(run.stdout(), /^Usage: proxmox-mcp-plus \[command\]/);
      for (const command of ['serve', 'stdio', 'demo', 'approve']) {
        assert.match(run.stdout(), new RegExp(`^  ${command} `, 'm'));
      }
    }
  });

  test(
    'npx proxmox-mcp-plus demo prints its banner, answers with the printed key and stops on Ctrl+C',
    { timeout: 2 * START_TIMEOUT_MS },
    async () => {
      const port = await freePort();
      const demo = startNpx(app, ['demo', '--port', String(port)], npmEnv({ PVE_API_SCHEMA: SCHEMA_PATH }));
      try {
        await demo.waitFor(/Press Ctrl\+C to stop\./);
        const key = /API key:\s+(\S+)/.exec(demo.stdout())?.[1];
        assert.ok(key, demo.output());
        assert.match(demo.stdout(), /SIMULATED Proxmox VE cluster/);
        assert.match(
          demo.stdout(),
          new RegExp(`Request checks:\\s+every request checked against ${SCHEMA_PATH}`),
        );
        const res = await fetch(`http://127.0.0.1:${port}/vms`, {
          headers: { authorization: `Bearer ${key}` },
        });
        assert.equal(res.status, 200);
      } finally {
        assert.ok([0, 'SIGINT'].includes(await demo.interrupt()), demo.output());
      }
      assert.equal(await answers(`http://127.0.0.1:${port}/livez`), false, 'Ctrl+C stopped the server too');
    },
  );

  test(
    'npx proxmox-mcp-plus demo names a missing PVE_API_SCHEMA file and exits 2',
    { timeout: START_TIMEOUT_MS },
    async () => {
      const missing = join(work, 'no-such-apidoc.json');
      const demo = startNpx(app, ['demo', '--port', '0'], npmEnv({ PVE_API_SCHEMA: missing }));
      assert.equal(await demo.exited, 2, demo.output());
      assert.match(demo.output(), new RegExp(`PVE_API_SCHEMA=${missing} does not exist`));
    },
  );

  for (const args of [['stdio'], []]) {
    const name = args.length ? 'npx proxmox-mcp-plus stdio' : 'npx proxmox-mcp-plus (stdio by default)';
    test(`${name} speaks MCP over stdin/stdout`, { timeout: 2 * START_TIMEOUT_MS }, async () => {
      const client = new Client({ name: 'npm-package-test', version: '1.0.0' });
      const transport = new StdioClientTransport({
        command: 'npx',
        args: ['--no', '--', 'proxmox-mcp-plus', ...args],
        cwd: app,
        env: npmEnv(pveEnv),
        stderr: 'pipe',
      });
      await client.connect(transport);
      try {
        assert.equal(client.getServerVersion()?.name, 'proxmox-mcp-plus');
        const { tools } = await client.listTools();
        assert.ok(tools.length > 50, `all tools listed (${tools.length})`);
        const nodes = await client.callTool({ name: 'get_nodes', arguments: {} });
        assert.notEqual(nodes.isError, true);
      } finally {
        await client.close();
      }
    });
  }

  test(
    'npx proxmox-mcp-plus serve answers /openapi.json with the key',
    { timeout: 2 * START_TIMEOUT_MS },
    async () => {
      const port = await freePort();
      const serve = startNpx(
        app,
        ['serve', '--host', '127.0.0.1', '--port', String(port)],
        npmEnv({ ...pveEnv, MCP_API_KEY: API_KEY }),
      );
      try {
        const url = `http://127.0.0.1:${port}`;
        const deadline = Date.now() + START_TIMEOUT_MS;
        let live = false;
        while (!live && Date.now() < deadline) {
          live = await answers(`${url}/livez`);
          if (!live) await new Promise((r) => setTimeout(r, 200));
        }
        assert.ok(live, serve.output());
        const res = await fetch(`${url}/openapi.json`, { headers: { authorization: `Bearer ${API_KEY}` } });
        assert.equal(res.status, 200);
        assert.ok(((await res.json()) as { paths: object }).paths);
      } finally {
        assert.ok([0, 'SIGINT'].includes(await serve.interrupt()), serve.output());
      }
      assert.equal(await answers(`http://127.0.0.1:${port}/livez`), false, 'Ctrl+C stopped the server too');
    },
  );

  test('npx proxmox-mcp-plus approve --list reads the job store', { timeout: START_TIMEOUT_MS }, async () => {
    const approve = startNpx(app, ['approve', '--list'], npmEnv(pveEnv));
    assert.equal(await approve.exited, 0, approve.output());
    assert.match(approve.stdout(), /No approval requests are waiting\./);
  });
});
