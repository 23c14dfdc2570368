import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PveSimulator, simulatorTargetConfig } from '../../src/simulator/index.js';
import { SCHEMA_PATH } from '../helpers/test-app.js';
import { assertE2eAllowed, E2eRefusal, resolveLiveTarget } from './live-target.js';

// `npm run test:live` must never touch a cluster nobody marked for it. These tests feed the real resolver and
// the real entry point (scripts/test-live.mjs) config files a user could write, and check what is refused and why.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TEST_LIVE = join(ROOT, 'scripts/test-live.mjs');
const EXAMPLE = JSON.parse(readFileSync(join(ROOT, 'proxmox-config/config.live.example.json'), 'utf8')) as {
  targets: Record<string, any>;
};
const REAL_TOKEN = 'c0ffee00-1234-4abc-9def-0123456789ab';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A project directory (cwd) with proxmox-config/config.live.json holding `doc`, when given. */
function project(doc?: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'pmp-live-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'proxmox-config'));
  if (doc) writeFileSync(join(dir, 'proxmox-config/config.live.json'), JSON.stringify(doc, null, 2));
  return dir;
}

/** The example's target with some keys changed (proxmox/auth merged key by key). */
function lab(change: { allow_e2e?: unknown; read_only?: boolean; proxmox?: object; auth?: object } = {}) {
  const base = structuredClone(EXAMPLE.targets.lab);
  return {
    ...base,
    ...change,
    proxmox: { ...base.proxmox, ...change.proxmox },
    auth: { ...base.auth, ...change.auth },
  };
}
const usable = (change: Parameters<typeof lab>[0] = {}) =>
  lab({ allow_e2e: true, proxmox: { host: '10.20.30.40' }, auth: { token_value: REAL_TOKEN }, ...change });

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof E2eRefusal, `an E2eRefusal, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected a refusal');
};
const resolveIn =
  (cwd: string, env: Record<string, string> = {}) =>
  () =>
    resolveLiveTarget(env, cwd);

function runTestLive(env: Record<string, string>, args: string[] = []) {
  const tapDir = mkdtempSync(join(tmpdir(), 'pmp-live-tap-'));
  dirs.push(tapDir);
  return new Promise<{ status: number | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [TEST_LIVE, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? tmpdir(),
        ...(process.env.NODE_V8_COVERAGE ? { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE } : {}),
        // the nested run must not write over the TAP file of the run this test is part of
        PROXMOX_TEST_TAP_FILE: join(tapDir, 'results.tap'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, out }));
  });
}

describe('test:live refuses unsafe or placeholder configs before any request', () => {
  test('the example file as shipped is refused: allow_e2e is false', () => {
    const message = refusal(resolveIn(project(EXAMPLE)));
    assert.match(message, /target 'lab' does not say "allow_e2e": true/);
    assert.match(message, /add "allow_e2e": true to targets\.lab only on a cluster where that is acceptable/);
  });

  test("the example's placeholder host is refused even with allow_e2e, then its placeholder token", () => {
    const host = refusal(resolveIn(project({ targets: { lab: lab({ allow_e2e: true }) } })));
    assert.match(host, /placeholder host "pve\.example\.com" from an example file: set proxmox\.host/);
    for (const placeholder of ['your-proxmox-host', 'pve-prod.example.com', 'cluster.example', 'x.invalid']) {
      const doc = { targets: { lab: lab({ allow_e2e: true, proxmox: { host: placeholder } }) } };
      assert.match(refusal(resolveIn(project(doc))), /placeholder host/, placeholder);
    }
    const token = refusal(
      resolveIn(project({ targets: { lab: lab({ allow_e2e: true, proxmox: { host: '10.20.30.40' } }) } })),
    );
    assert.match(token, /still has the example's token_value: set auth\.token_value .*mcp-e2e@pve!e2e/);
    assert.ok(!token.includes('REPLACE-WITH'), 'the message does not repeat the secret field');
  });

  test('a missing file names the example to copy; the server config.json is never used', () => {
    assert.match(
      refusal(resolveIn(project())),
      /proxmox-config\/config\.live\.json does not exist\. Copy proxmox-config\/config\.live\.example\.json/,
    );
    const cwd = project();
    writeFileSync(join(cwd, 'proxmox-config/config.json'), JSON.stringify({ targets: { lab: usable() } }));
    assert.match(refusal(resolveIn(cwd)), /config\.live\.json does not exist/, 'no fallback to config.json');
    assert.match(
      refusal(resolveIn(cwd, { PROXMOX_MCP_E2E_CONFIG: 'proxmox-config/config.json' })),
      /names proxmox-config\/config\.json, the server's own config.*give it a file of its own/,
    );
  });

  test('a read-only target, an invalid allow_e2e and several targets without a choice are refused', () => {
    assert.match(
      refusal(resolveIn(project({ targets: { lab: usable({ read_only: true }) } }))),
      /target 'lab' is read_only/,
    );
    assert.match(
      refusal(resolveIn(project({ targets: { lab: usable({ allow_e2e: 'yes' }) } }))),
      /targets\.lab\.allow_e2e.*got "yes"; expected true or false/,
    );
    const two = project({ targets: { lab: usable(), prod: lab({ proxmox: { host: '10.0.0.1' } }) } });
    assert.match(
      refusal(resolveIn(two)),
      /has 2 targets \(lab, prod\): name the one .*PROXMOX_MCP_E2E_TARGET/,
    );
    assert.match(
      refusal(resolveIn(two, { PROXMOX_MCP_E2E_TARGET: 'prod' })),
      /target 'prod' does not say "allow_e2e": true/,
    );
    assert.match(refusal(resolveIn(two, { PROXMOX_MCP_E2E_TARGET: 'nope' })), /has no such target/);
    assert.equal(resolveLiveTarget({ PROXMOX_MCP_E2E_TARGET: 'lab' }, two).target.host, '10.20.30.40');
  });

  test('a filled-in config with allow_e2e is accepted, from PROXMOX_MCP_E2E_CONFIG too', () => {
    const cwd = project();
    const file = join(cwd, 'elsewhere.json');
    writeFileSync(file, JSON.stringify({ targets: { lab: usable() } }));
    const { target, configPath } = resolveLiveTarget({ PROXMOX_MCP_E2E_CONFIG: file }, cwd);
    assert.equal(configPath, file);
    assert.equal(target.allowE2e, true);
    assert.equal(target.tokenValue, REAL_TOKEN);
  });

  test('the stories refuse any target without allow_e2e, the simulator only because it says so', () => {
    const sim = {
      host: '127.0.0.1',
      port: 1,
      fingerprint: undefined,
      token: { user: 'root@pam', tokenName: 'x', secret: REAL_TOKEN },
    };
    const simTarget = simulatorTargetConfig(sim as unknown as PveSimulator);
    assert.doesNotThrow(() => assertE2eAllowed(simTarget));
    assert.match(
      refusal(() => assertE2eAllowed({ ...simTarget, allowE2e: undefined })),
      /does not say "allow_e2e": true/,
    );
  });

  test('npm run test:live (scripts/test-live.mjs) stops with exit 2 and the reason, running no story', async () => {
    const cwd = project({ targets: { lab: lab({ allow_e2e: true }) } });
    const r = await runTestLive({ PROXMOX_MCP_E2E_CONFIG: join(cwd, 'proxmox-config/config.live.json') });
    assert.equal(r.status, 2, r.out);
    assert.match(r.out, /^test:live: REFUSED — target 'lab' has the placeholder host "pve\.example\.com"/m);
    assert.doesNotMatch(r.out, /^tests: /m, 'no test ran');
  });
});

describe('test:live runs the stories when the config allows it (a simulator standing in for the cluster)', () => {
  let sim: PveSimulator;
  before(
    async () =>
      (sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, nodes: 2, guests: 4, taskSeconds: 0 })),
  );
  after(() => sim?.stop());

  test('the live path loads the file, pins the certificate and runs the selected story through a real server', async () => {
    const cwd = project({
      targets: {
        standin: {
          allow_e2e: true,
          proxmox: { host: sim.host, port: sim.port, verify_ssl: true, fingerprint: sim.fingerprint },
          auth: { user: sim.token.user, token_name: sim.token.tokenName, token_value: sim.token.secret },
        },
      },
    });
    const r = await runTestLive({ PROXMOX_MCP_E2E_CONFIG: join(cwd, 'proxmox-config/config.live.json') }, [
      'inspect',
    ]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /^test:live: target 'standin' \(https:\/\/127\.0\.0\.1:\d+\)/m);
    assert.match(r.out, /^tests: [1-9]\d* passed, 0 failed$/m);
    assert.ok(sim.requests.length > 0, 'the stories reached the stand-in over HTTPS');
    assert.deepEqual(sim.schemaViolations(), []);
  });
});

describe('a story that needs two nodes skips on a one-node cluster, with the reason, changing nothing', () => {
  let sim: PveSimulator;
  before(
    async () =>
      (sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, nodes: 1, guests: 2, taskSeconds: 0 })),
  );
  after(() => sim?.stop());

  test('node-maintenance on a one-node stand-in: every step skipped, no request that changes anything', async () => {
    const cwd = project({
      targets: {
        single: {
          allow_e2e: true,
          proxmox: { host: sim.host, port: sim.port, verify_ssl: true, fingerprint: sim.fingerprint },
          auth: { user: sim.token.user, token_name: sim.token.tokenName, token_value: sim.token.secret },
        },
      },
    });
    const r = await runTestLive({ PROXMOX_MCP_E2E_CONFIG: join(cwd, 'proxmox-config/config.live.json') }, [
      'node-maintenance',
    ]);
    assert.equal(r.status, 0, r.out);
    assert.match(
      r.out,
      /the story needs a second online node to move the guests to; target 'single' has only/,
    );
    assert.match(r.out, /^tests: 0 passed, 0 failed/m);
    assert.deepEqual(
      sim.requests.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path}`),
      [],
    );
    assert.deepEqual(sim.schemaViolations(), []);
  });
});
