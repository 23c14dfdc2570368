import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataSourceOptions } from '../../src/database/data-source.options.js';
import { openDatabase } from '../../src/database/database-bootstrap.js';
import { ALL_PRIVILEGES, PveSimulator } from '../../src/simulator/index.js';
import { freshPostgresDatabase, postgresSkipReason } from '../helpers/postgres.js';
import { FakeNodes, NODE_PASSWORD, NODE_USER } from '../helpers/ssh-server.js';
import { SCHEMA_PATH } from '../helpers/test-app.js';

/**
 * `proxmox-mcp-plus doctor` as a user runs it: the built CLI in a child process, with a config file, against the
 * schema-checked simulator (its token ACL set per case) and a real SSH server playing the nodes.
 */
const BIN = 'bin/proxmox-mcp-plus.js';

interface Row {
  status: 'pass' | 'warn' | 'fail';
  check: string;
  target?: string;
  message: string;
  fix?: string;
}
interface Report {
  rows: Row[];
  summary: { pass: number; warn: number; fail: number };
  exit_code: number;
}

describe('proxmox-mcp-plus doctor', () => {
  let sim: PveSimulator;
  let fake: FakeNodes;
  let dir: string;
  let sqlitePath: string;
  const BAD_TOKEN = 'wrong-token-value-5e1b0c7d';

  before(async () => {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, nodes: 2, guests: 4, taskSeconds: 0 });
    fake = await FakeNodes.start({ nodes: ['pve1', 'pve2'], containerStatus: () => undefined });
    dir = mkdtempSync(join(tmpdir(), 'pmp-doctor-'));
    sqlitePath = join(dir, 'jobs.sqlite3');
    // an existing job store with the current schema, as a server leaves it
    await (await openDatabase(dataSourceOptions({ sqlitePath }))).destroy();
  });
  after(async () => {
    assert.deepEqual(sim.schemaViolations(), [], 'doctor sends only requests real PVE accepts');
    await sim.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const target = (overrides: { proxmox?: object; auth?: object; read_only?: boolean } = {}) => ({
    proxmox: { host: sim.host, port: sim.port, fingerprint: sim.fingerprint, ...overrides.proxmox },
    auth: {
      user: sim.token.user,
      token_name: sim.token.tokenName,
      token_value: sim.token.secret,
      ...overrides.auth,
    },
    ...(overrides.read_only ? { read_only: true } : {}),
  });
  const sshSection = (pins: Record<string, string>) => ({
    user: NODE_USER,
    port: fake.port,
    password: NODE_PASSWORD,
    host_overrides: fake.hostOverrides(),
    use_sudo: true,
    host_key_fingerprints: pins,
  });
  const config = (extra: object) => ({ jobs: { sqlite_path: sqlitePath }, ...extra });

  /** Runs the CLI without blocking this process (the simulator and SSH server answer from here). */
  async function doctor(
    configDoc: object | string,
    args: string[] = [],
  ): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, typeof configDoc === 'string' ? configDoc : JSON.stringify(configDoc));
    const child = spawn(process.execPath, [BIN, 'doctor', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, PROXMOX_MCP_CONFIG: file, PVE_API_SCHEMA: SCHEMA_PATH },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const all = stdout + stderr;
    for (const secret of [sim.token.secret, NODE_PASSWORD, BAD_TOKEN]) {
      assert.ok(!all.includes(secret), `a secret appears in the output:\n${all}`);
    }
    return { status, stdout, stderr };
  }
  const report = (stdout: string): Report => JSON.parse(stdout) as Report;
  const rowOf = (r: Report, targetName: string | undefined, check: string) => {
    const row = r.rows.find((x) => x.target === targetName && x.check === check);
    assert.ok(row, `no row ${targetName}: ${check} in ${JSON.stringify(r.rows, null, 1)}`);
    return row;
  };

  test('everything in order: exit 0, one PASS row per check, in a readable table', async () => {
    const pins = { pve1: fake.fingerprint('pve1'), pve2: fake.fingerprint('pve2') };
    const r = await doctor(config({ targets: { lab: target() }, ssh: sshSection(pins) }));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const lines = r.stdout.split('\n');
    const row = (name: string) => lines.find((l) => l.includes(` ${name} `)) ?? '';
    assert.match(row('config'), /^PASS {2}config .*1 target\(s\) \(lab\), (\d+) of \1 tools enabled/);
    assert.match(
      row('lab: connection'),
      /^PASS .*API at 127\.0\.0\.1:\d+ answers.*pinned certificate fingerprint/,
    );
    assert.match(row('lab: version'), /^PASS .*Proxmox VE 9\.1/);
    assert.match(row('lab: privileges'), /^PASS .*(\d+) of \1 enabled tools have every privilege they need/);
    for (const node of ['pve1', 'pve2']) {
      assert.match(
        row(`lab: ssh ${node}`),
        new RegExp(
          `^PASS .*${NODE_USER}@${fake.address(node).replace(/\./g, '\\.')}:${fake.port}: pinned host key matches, login and \`sudo -n true\` work`,
        ),
      );
    }
    assert.match(
      row('job store'),
      /^PASS .*SQLite .*jobs\.sqlite3: opens, schema current \(\d+ migrations\), writable/,
    );
    assert.ok(!/^(WARN|FAIL)/m.test(r.stdout), r.stdout);
    assert.match(r.stdout, /\n7 passed, 0 warnings, 0 failed\.\nResult: OK \(exit code 0\)\.\n$/);
    assert.deepEqual(
      fake.records.map((x) => x.commandLine),
      ['sudo -n true', 'sudo -n true'],
      'the only command sent to the nodes is the harmless login check',
    );
  });

  test('node commands: the targets that enable execute_node_command are reported with their patterns; without approvals it WARNs', async () => {
    const pins = { pve1: fake.fingerprint('pve1'), pve2: fake.fingerprint('pve2') };
    const targets = {
      lab: {
        ...target(),
        ssh: { allow_node_commands: true, node_command_patterns: ['pveversion', 'qm list'] },
      },
      prod: target(),
    };
    const enforced = report((await doctor(config({ targets, ssh: sshSection(pins) }), ['--json'])).stdout);
    const row = rowOf(enforced, 'lab', 'node commands');
    assert.equal(row.status, 'pass');
    assert.match(
      row.message,
      /execute_node_command is enabled with 2 allow patterns \("pveversion", "qm list"\); every call needs an operator approval/,
    );
    assert.ok(!enforced.rows.some((x) => x.target === 'prod' && x.check === 'node commands'));

    const unapproved = report(
      (
        await doctor(
          config({ targets, ssh: sshSection(pins), command_policy: { high_risk_mode: 'audit_only' } }),
          ['--json'],
        )
      ).stdout,
    );
    const warn = rowOf(unapproved, 'lab', 'node commands');
    assert.equal(warn.status, 'warn');
    assert.match(
      warn.message,
      /runs WITHOUT an operator approval \(command_policy\.high_risk_mode is audit_only\)/,
    );
    assert.match(warn.fix ?? '', /high_risk_mode to enforce/);
  });

  test('--json and a restricted token: one WARN row per missing privilege naming the tools; deny list and read-only targets respected', async () => {
    const withoutPower = ALL_PRIVILEGES.filter((p) => p !== 'VM.PowerMgmt' && !p.startsWith('Datastore.'));
    sim.access.set({ '/': withoutPower, '/storage': ['Datastore.Audit'] });
    try {
      const r = await doctor(
        config({
          targets: { lab: target(), ro: target({ read_only: true }) },
          mcp: { tool_denylist: ['stop_vm'] },
        }),
        ['--json'],
      );
      assert.equal(r.status, 0, 'warnings alone exit 0');
      const rep = report(r.stdout);
      assert.equal(rep.exit_code, 0);
      assert.deepEqual(Object.keys(rep.summary), ['pass', 'warn', 'fail']);
      assert.equal(rep.summary.fail, 0);
      assert.equal(rep.summary.warn, rep.rows.filter((x) => x.status === 'warn').length);
      for (const row of rep.rows) {
        assert.deepEqual(
          Object.keys(row).filter((k) => !['status', 'check', 'target', 'message', 'fix'].includes(k)),
          [],
        );
        if (row.status !== 'pass') assert.ok(row.fix, `every non-pass row has a fix: ${row.message}`);
      }

      const power = rep.rows.find(
        (x) => x.target === 'lab' && /missing VM\.PowerMgmt on \/vms/.test(x.message),
      );
      assert.ok(power, JSON.stringify(rep.rows, null, 1));
      assert.equal(power.status, 'warn');
      assert.match(power.message, /\bstart_vm\b/);
      assert.match(power.message, /\bstart_container\b/);
      assert.doesNotMatch(power.message, /\bstop_vm\b/, 'a denied tool is not reported');
      assert.match(power.fix ?? '', /pveum acl modify \/vms --tokens 'root@pam!mcp' --roles PVEVMAdmin/);
      const space = rep.rows.find(
        (x) => x.target === 'lab' && /missing Datastore\.AllocateSpace on \/storage/.test(x.message),
      );
      assert.match(space?.message ?? '', /create_vm.*create_backup|create_backup.*create_vm/);

      // the read-only target runs read tools only: nothing there needs VM.PowerMgmt or Datastore.AllocateSpace
      const roRows = rep.rows.filter((x) => x.target === 'ro');
      assert.deepEqual(
        roRows.filter((x) => x.status !== 'pass'),
        [],
        'with Datastore.Audit, every read tool works',
      );
      assert.match(rowOf(rep, 'ro', 'privileges').message, /read-only target: read tools only/);

      // the table says that warnings alone still exit 0
      const table = await doctor(config({ targets: { lab: target() } }));
      assert.equal(table.status, 0);
      assert.match(
        table.stdout,
        /^WARN {2}lab: privileges +missing VM\.PowerMgmt on \/vms: these tools will fail: /m,
      );
      assert.match(table.stdout, /Result: OK with warnings \(exit code 0\)/);
    } finally {
      sim.access.set({ '/': ALL_PRIVILEGES });
    }
  });

  test('an unpinned self-signed certificate: the FAIL row prints the fingerprint seen and the exact line that pins it', async () => {
    const unpinned = target({ proxmox: { fingerprint: undefined } });
    const single = await doctor(config({ proxmox: unpinned.proxmox, auth: unpinned.auth }), ['--json']);
    assert.equal(single.status, 1, single.stdout + single.stderr);
    const row = rowOf(report(single.stdout), 'default', 'connection');
    assert.equal(row.status, 'fail');
    assert.ok(row.message.includes(`the server presented SHA-256 ${sim.fingerprint}`), row.message);
    assert.ok(row.fix?.includes(`"proxmox": { "fingerprint": "${sim.fingerprint}" }`), row.fix);
    assert.ok(row.fix?.includes(`PROXMOX_FINGERPRINT=${sim.fingerprint}`), row.fix);
    assert.match(row.fix ?? '', /self-signed certificate.*pvenode cert info/);

    const multi = await doctor(config({ targets: { lab: unpinned } }));
    assert.equal(multi.status, 1);
    assert.ok(
      multi.stdout.includes(`"targets": { "lab": { "proxmox": { "fingerprint": "${sim.fingerprint}" } } }`),
      multi.stdout,
    );
    assert.ok(!multi.stdout.includes('PROXMOX_FINGERPRINT='), 'the variable pins only the single env target');

    // dev mode without verification: it connects (WARN), and the fix names the certificate to pin instead
    const insecure = await doctor(
      config({
        security: { dev_mode: true },
        proxmox: { ...unpinned.proxmox, verify_ssl: false },
        auth: unpinned.auth,
      }),
      ['--json'],
    );
    const warn = rowOf(report(insecure.stdout), 'default', 'connection');
    assert.equal(warn.status, 'warn', insecure.stdout);
    assert.ok(warn.fix?.includes(`"proxmox": { "fingerprint": "${sim.fingerprint}" }`), warn.fix);
  });

  test('unreachable target, wrong TLS fingerprint, rejected token: FAIL rows with the fix, exit 1; other targets still checked', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const otherPin = Array.from({ length: 32 }, () => 'AB').join(':');

    const r = await doctor(
      config({
        targets: {
          good: target(),
          down: target({ proxmox: { port } }),
          mitm: target({ proxmox: { fingerprint: otherPin } }),
          badtoken: target({ auth: { token_value: BAD_TOKEN } }),
        },
      }),
      ['--json'],
    );
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const rep = report(r.stdout);
    assert.equal(rep.exit_code, 1);
    assert.equal(rowOf(rep, 'good', 'connection').status, 'pass');

    const down = rowOf(rep, 'down', 'connection');
    assert.equal(down.status, 'fail');
    assert.match(
      down.message,
      new RegExp(`Cannot reach Proxmox at 127\\.0\\.0\\.1:${port}: connection refused`),
    );
    assert.match(down.fix ?? '', /Nothing listens on 127\.0\.0\.1:\d+: check proxmox\.port .* pveproxy/);
    assert.equal(
      rep.rows.filter((x) => x.target === 'down').length,
      1,
      'nothing else is tried on a dead target',
    );

    const mitm = rowOf(rep, 'mitm', 'connection');
    assert.equal(mitm.status, 'fail');
    assert.ok(mitm.message.includes(`the server presented ${sim.fingerprint}`), mitm.message);
    assert.match(mitm.fix ?? '', /set proxmox\.fingerprint .*pvenode cert info.*intercepting/);

    const badtoken = rowOf(rep, 'badtoken', 'connection');
    assert.equal(badtoken.status, 'fail');
    assert.match(badtoken.message, /Proxmox rejected the API token/);
    assert.match(
      badtoken.fix ?? '',
      /auth\.token_name \(mcp\) and auth\.token_value .*pveum user token list root@pam/,
    );
  });

  test('SSH: a mismatched pinned host key FAILs, an unpinned one WARNs with the fingerprint to pin; an old PVE WARNs', async () => {
    const before = { ...sim.cluster.version };
    sim.cluster.version.version = '7.4-3';
    try {
      const pins = { pve1: fake.fingerprint('pve2') }; // pve2's key pinned for pve1, nothing for pve2
      const r = await doctor(config({ targets: { lab: target() }, ssh: sshSection(pins) }));
      assert.equal(r.status, 1, r.stdout + r.stderr);
      const line = (name: string) => r.stdout.split('\n').find((l) => l.includes(` ${name} `)) ?? '';
      const fixAfter = (name: string) => {
        const lines = r.stdout.split('\n');
        return lines[lines.findIndex((l) => l.includes(` ${name} `)) + 1] ?? '';
      };
      assert.match(line('lab: ssh pve1'), /^FAIL .*does not match ssh\.host_key_fingerprints\.pve1/);
      assert.match(fixAfter('lab: ssh pve1'), /fix: Nothing was sent/);
      assert.match(line('lab: ssh pve2'), /^WARN .*host key not pinned/);
      assert.ok(
        fixAfter('lab: ssh pve2').includes(
          `"host_key_fingerprints": { "pve2": "${fake.fingerprint('pve2')}" }`,
        ),
        fixAfter('lab: ssh pve2'),
      );
      assert.match(line('lab: version'), /^WARN .*Proxmox VE 7\.4-3 is older than 8\.0/);
      assert.match(r.stdout, /Result: FAIL \(exit code 1\)/);
    } finally {
      Object.assign(sim.cluster.version, before);
    }
  });

  test('a configuration that does not load is a FAIL row with the loader message (exit 1); a bad flag exits 2', async () => {
    const r = await doctor(
      {
        proxmox: { host: 'pve', port: 'abc' },
        auth: { user: 'root@pam', token_name: 't', token_value: 's' },
      },
      ['--json'],
    );
    assert.equal(r.status, 1, r.stderr);
    const rep = report(r.stdout);
    assert.equal(rep.rows.length, 1);
    assert.equal(rep.rows[0].status, 'fail');
    assert.equal(rep.rows[0].check, 'config');
    assert.match(rep.rows[0].message, /proxmox\.port.*abc/);
    assert.match(rep.rows[0].fix ?? '', /proxmox-config\/README\.md/);

    const unknownTool = await doctor(
      config({ targets: { lab: target() }, mcp: { tool_denylist: ['no_such_tool'] } }),
    );
    assert.equal(unknownTool.status, 1);
    assert.match(
      unknownTool.stdout,
      /^FAIL {2}config {2}Invalid configuration:\n {16}- mcp\.tool_denylist: unknown tool no_such_tool;/m,
    );

    const usage = await doctor(config({ targets: { lab: target() } }), ['--frobnicate']);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--frobnicate/);
  });

  test(
    'PostgreSQL job store: checked (schema, writable) with the password redacted',
    { skip: postgresSkipReason() },
    async () => {
      const db = await freshPostgresDatabase();
      assert.ok(db);
      try {
        await (await openDatabase(dataSourceOptions({ sqlitePath: '', databaseUrl: db.url }))).destroy();
        const password = decodeURIComponent(new URL(db.url).password);
        const r = await doctor({ targets: { lab: target() }, jobs: { database_url: db.url } });
        assert.equal(r.status, 0, r.stdout);
        assert.ok(!r.stdout.includes(password), 'the database password is never printed');
        const user = new URL(db.url).username;
        assert.match(
          r.stdout,
          new RegExp(
            `^PASS {2}job store +PostgreSQL postgres://${user}:\\*\\*\\*@[^ ]+: opens, schema current`,
            'm',
          ),
        );
      } finally {
        await db.drop();
      }
    },
  );
});
