import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/config.loader.js';
import {
  DEFAULT_DENY_PATTERNS,
  DEFAULT_HIGH_RISK_OPERATIONS,
} from '../../src/config/command-policy.defaults.js';
import { Sandbox, expectedDefaultTarget, findProblem, minimalFile, problemsOf } from './helpers.js';

describe('config file mode', () => {
  let box: Sandbox;
  before(() => {
    box = new Sandbox();
  });
  after(() => box.remove());

  test('the shipped config.example.json is valid and means what it says', () => {
    // The example's ssh section names ~/.ssh files; HOME is the sandbox, so create them there.
    box.write('.ssh/id_ed25519', 'not checked beyond being readable');
    box.write('.ssh/known_hosts', '');
    const path = resolve('proxmox-config/config.example.json');
    const config = loadConfig({ PROXMOX_MCP_CONFIG: path, HOME: box.dir }, { cwd: box.dir });

    assert.deepEqual(config.source, { kind: 'file', path });
    assert.equal(config.targets.length, 1);
    const [target] = config.targets;
    assert.equal(target.name, 'default');
    assert.equal(target.host, 'pve.example.com');
    assert.equal(target.port, 8006);
    assert.equal(target.timeoutMs, 30_000);
    assert.equal(target.verifySsl, true);
    assert.equal(target.tokenValue, 'REPLACE-WITH-TOKEN-SECRET');
    assert.equal(config.mcp.transport, 'STDIO');
    assert.equal(config.mcp.host, '127.0.0.1');
    assert.equal(config.logging.level, 'info');
    assert.equal(config.jobs.sqlitePath, join(box.dir, 'proxmox-jobs.sqlite3'));
    assert.deepEqual(config.commandPolicy.highRiskOperations, DEFAULT_HIGH_RISK_OPERATIONS);
    // The example leaves deny_patterns out on purpose, so the built-in list applies.
    assert.deepEqual(config.commandPolicy.denyPatterns, DEFAULT_DENY_PATTERNS);
    assert.equal(config.ssh?.keyFile, join(box.dir, '.ssh/id_ed25519'));
    assert.equal(config.ssh?.useSudo, true);
    assert.deepEqual(config.ssh?.hostOverrides, { pve1: '10.0.0.11' });
  });

  test('the shipped multi-target example is valid', () => {
    const path = resolve('proxmox-config/config.multi-target.example.json');
    const config = loadConfig({ PROXMOX_MCP_CONFIG: path, HOME: box.dir }, { cwd: box.dir });
    assert.deepEqual(
      config.targets.map((t) => [t.name, t.host, t.readOnly]),
      [
        ['prod', 'pve-prod.example.com', false],
        ['lab', '192.168.1.20', true],
      ],
    );
    assert.equal(config.mcp.transport, 'STREAMABLE');
  });

  test('proxmox-config/README.md documents every key used in the examples', () => {
    const readme = readFileSync(resolve('proxmox-config/README.md'), 'utf8');
    const example = JSON.parse(readFileSync(resolve('proxmox-config/config.example.json'), 'utf8'));
    for (const [section, body] of Object.entries<Record<string, unknown>>(example)) {
      for (const key of Object.keys(body))
        assert.ok(readme.includes(`\`${section}.${key}\``), `${section}.${key}`);
    }
  });

  test('defaults for everything but host and credentials; the logging section is optional', () => {
    const config = box.load(minimalFile());
    assert.equal(config.source.kind, 'file');
    assert.deepEqual(config.targets[0], expectedDefaultTarget());
    assert.deepEqual(config.logging, { level: 'info', logCommands: false });
    assert.deepEqual(config.mcp, {
      host: '127.0.0.1',
      port: 8000,
      transport: 'STDIO',
      stateful: false,
      allowedHosts: [],
      allowedOrigins: [],
      toolAllowlist: [],
      toolDenylist: [],
      toolsets: [],
      toolMode: 'full',
      maxBodyBytes: 1024 * 1024,
      dnsRebindingProtection: true,
    });
    assert.deepEqual(config.http, {
      apiKeys: [],
      allowNoAuth: false,
      corsOrigins: [],
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      rateLimitRpm: 0,
      authFailureLimit: 20,
      authFailureWindowMs: 60_000,
    });
    assert.deepEqual(config.audit, { retentionDays: 90 });
    assert.deepEqual(config.safety, {
      freeze: false,
      freezeFile: join(box.dir, 'proxmox-mcp-plus.freeze'),
      protectedTag: 'protected',
      protectedVmids: [],
      protectAllMutations: false,
    });
    assert.deepEqual(config.security, { devMode: false });
    assert.equal(config.commandPolicy.mode, 'deny_all');
    // the reference defaulted to audit_only, which gated nothing (seed §9 #19)
    assert.equal(config.commandPolicy.highRiskMode, 'enforce');
    assert.equal(config.commandPolicy.allowShell, false);
    assert.equal(config.commandPolicy.execRequireApproval, false);
    assert.equal(config.commandPolicy.approvalTtlSeconds, 600);
    assert.equal(config.ssh, undefined);
  });

  test('proxmox-config/config.json in the working directory is used when PROXMOX_MCP_CONFIG is unset', () => {
    const other = new Sandbox();
    try {
      const path = other.write('proxmox-config/config.json', {
        ...minimalFile(),
        proxmox: { host: 'pve2.lan' },
      });
      const config = loadConfig({ HOME: other.dir }, { cwd: other.dir });
      assert.deepEqual(config.source, { kind: 'file', path });
      assert.equal(config.targets[0].host, 'pve2.lan');
      // An empty PROXMOX_MCP_CONFIG means "no file": environment mode even though the default file exists.
      const problems = problemsOf(() =>
        loadConfig({ HOME: other.dir, PROXMOX_MCP_CONFIG: '' }, { cwd: other.dir }),
      );
      assert.match(findProblem(problems, 'PROXMOX_HOST: missing'), /PROXMOX_MCP_CONFIG is empty/);
    } finally {
      other.remove();
    }
  });

  test('a PROXMOX_MCP_CONFIG that does not exist is an error naming the path (no silent env fallback)', () => {
    const problems = problemsOf(() =>
      loadConfig({ HOME: box.dir, PROXMOX_MCP_CONFIG: 'missing/config.json' }, { cwd: box.dir }),
    );
    assert.deepEqual(problems, [
      `PROXMOX_MCP_CONFIG: got "missing/config.json" (${join(box.dir, 'missing/config.json')}): the file does not exist`,
    ]);
    const dir = problemsOf(() =>
      loadConfig({ HOME: box.dir, PROXMOX_MCP_CONFIG: box.dir }, { cwd: box.dir }),
    );
    assert.match(dir[0], /not a regular file/);
  });

  test('invalid JSON reports line and column without quoting the file', () => {
    const text = '{\n  "auth": {\n    "token_value": supersecretvalue\n  }\n}\n';
    const problems = box.problems(text);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /config\.json: not valid JSON at line 3, column 20: expected a value/);
    assert.doesNotMatch(problems[0], /supersecret/);

    assert.match(
      box.problems('{"proxmox": {"host": "a",}}')[0],
      /line 1, column 26: trailing comma before \}/,
    );
    assert.match(box.problems('{"a": 1 // note\n}')[0], /line 1, column 9/);
    assert.match(box.problems('')[0], /unexpected end of file/);
  });

  test('a duplicated key is an error (JSON.parse would silently keep the last one)', () => {
    const text = '{"proxmox": {"host": "a"}, "auth": {}, "proxmox": {"host": "b"}}';
    assert.deepEqual(box.problems(text), [
      'proxmox: duplicate key (line 1, column 40); JSON keeps only the last one',
    ]);
  });

  test('the top level must be an object', () => {
    assert.match(box.problems('[]')[0], /the top level is an array; expected a JSON object/);
    assert.match(box.problems('null')[0], /the top level is null/);
  });

  test('unknown keys (typos) and unknown sections are errors listing what is allowed', () => {
    const file = minimalFile();
    file.proxmox.verfiy_ssl = false;
    file.mpc = { port: 1 };
    const problems = box.problems(file);
    assert.equal(
      findProblem(problems, 'proxmox.verfiy_ssl'),
      'proxmox.verfiy_ssl: unknown key; allowed: host, port, timeout, verify_ssl, service, ca_file, fingerprint, inventory_cache_seconds',
    );
    assert.match(
      findProblem(problems, 'mpc:'),
      /^mpc: unknown section; allowed: proxmox, auth, logging, mcp, /,
    );
    assert.equal(problems.length, 2);
  });

  test('missing host and credentials are each named', () => {
    const problems = box.problems({ logging: { level: 'INFO' } });
    assert.match(
      findProblem(problems, 'proxmox.host: missing'),
      /expected the Proxmox VE host name or IP address/,
    );
    assert.match(findProblem(problems, 'auth.user: missing'), /user@realm/);
    findProblem(problems, 'auth.token_name: missing');
    findProblem(problems, 'auth.token_value: missing');
    assert.equal(problems.length, 4);
  });

  test('every problem is reported at once, not just the first', () => {
    const file = minimalFile();
    file.proxmox.port = 'abc';
    file.proxmox.timeout = 0;
    file.mcp = { transport: 'HTTP', port: 70000 };
    file.logging = { level: 'LOUD' };
    const problems = box.problems(file);
    assert.deepEqual(problems, [
      'proxmox.port: got "abc"; expected an integer 1-65535 (a JSON number)',
      'proxmox.timeout: got 0; expected an integer 1-600',
      'logging.level: got "LOUD"; expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL (or trace, fatal, silent)',
      'mcp.port: got 70000; expected an integer 0-65535',
      'mcp.transport: got "HTTP"; expected one of STDIO, SSE, STREAMABLE (STREAMABLE_HTTP accepted)',
    ]);
  });

  test('types are checked: quoted numbers and booleans, scalars for lists, non-objects for sections', () => {
    const file = minimalFile();
    file.proxmox.verify_ssl = 'false';
    file.proxmox.host = 'https://pve.example.com:8006';
    file.mcp = { allowed_hosts: 'mcp.example.com', stateful: 1 };
    file.security = 'on';
    const problems = box.problems(file);
    assert.equal(
      findProblem(problems, 'proxmox.verify_ssl'),
      'proxmox.verify_ssl: got "false"; expected true or false (a JSON boolean)',
    );
    assert.match(findProblem(problems, 'proxmox.host'), /without scheme, port or path/);
    assert.match(
      findProblem(problems, 'mcp.allowed_hosts'),
      /got "mcp.example.com"; expected a JSON array of strings/,
    );
    assert.match(findProblem(problems, 'mcp.stateful'), /got 1; expected true or false/);
    assert.match(
      findProblem(problems, 'security:'),
      /got "on"; expected an object with keys dev_mode, api_keys/,
    );
  });

  test('mcp.transport is case-insensitive; STREAMABLE_HTTP / STREAMABLE-HTTP mean STREAMABLE; null means STDIO', () => {
    const cases: Array<[unknown, string]> = [
      ['STREAMABLE_HTTP', 'STREAMABLE'],
      ['streamable-http', 'STREAMABLE'],
      ['Streamable', 'STREAMABLE'],
      ['sse', 'SSE'],
      ['stdio', 'STDIO'],
      [null, 'STDIO'],
    ];
    for (const [transport, expected] of cases) {
      const config = box.load({ ...minimalFile(), mcp: { transport } });
      assert.equal(config.mcp.transport, expected, String(transport));
    }
  });

  test('paths: ~ expands to HOME, relative paths resolve against the working directory', () => {
    const config = box.load({
      ...minimalFile(),
      logging: { file: 'logs/server.log' },
      jobs: { sqlite_path: '~/data/jobs.sqlite3' },
    });
    assert.equal(config.logging.file, join(box.dir, 'logs/server.log'));
    assert.equal(config.jobs.sqlitePath, join(box.dir, 'data/jobs.sqlite3'));
    assert.equal(
      box.load({ ...minimalFile(), jobs: { sqlite_path: ':memory:' } }).jobs.sqlitePath,
      ':memory:',
    );
  });

  test('jobs.database_url accepts postgres URLs only', () => {
    const url = 'postgresql://mcp:pw-123456@db.example.com:5432/mcp';
    assert.equal(box.load({ ...minimalFile(), jobs: { database_url: url } }).jobs.databaseUrl, url);
    const problems = box.problems({ ...minimalFile(), jobs: { database_url: 'mysql://u:hunter22@db/x' } });
    assert.deepEqual(problems, [
      'jobs.database_url: got "<redacted>"; expected a postgres:// or postgresql:// URL with a host (scheme mysql:)',
    ]);
  });

  test('command_policy: values, defaults, regex validation', () => {
    const config = box.load({
      ...minimalFile(),
      command_policy: {
        mode: 'allowlist',
        allow_patterns: ['^uname -a$', '^ping -c \\d{1,3} \\S+$'],
        require_approval_token: true,
        approval_token: 'approve-123',
        high_risk_mode: 'enforce',
        high_risk_operations: ['delete_vm'],
      },
    });
    assert.deepEqual(config.commandPolicy, {
      mode: 'allowlist',
      allowPatterns: ['^uname -a$', '^ping -c \\d{1,3} \\S+$'],
      denyPatterns: [...DEFAULT_DENY_PATTERNS],
      requireApprovalToken: true,
      approvalToken: 'approve-123',
      highRiskMode: 'enforce',
      highRiskOperations: ['delete_vm'],
      highRiskRequireApprovalToken: false,
      allowShell: false,
      execRequireApproval: false,
      approvalTtlSeconds: 600,
      elicitationApprovalRisks: ['power', 'mutate', 'exec'],
      safetySnapshotDefault: [],
    });
    const problems = box.problems({
      ...minimalFile(),
      command_policy: {
        mode: 'strict',
        deny_patterns: ['(unclosed', ''],
        high_risk_operations: ['Delete VM'],
        allow_shell: 'yes',
        approval_ttl_seconds: 5,
      },
    });
    assert.match(
      findProblem(problems, 'command_policy.mode'),
      /expected one of deny_all, allowlist, audit_only/,
    );
    assert.match(
      findProblem(problems, 'command_policy.deny_patterns[0]'),
      /got "\(unclosed"; expected a valid JavaScript regular expression \(Unterminated group\)/,
    );
    assert.match(
      findProblem(problems, 'command_policy.deny_patterns[1]'),
      /expected a non-empty regular expression/,
    );
    assert.match(
      findProblem(problems, 'command_policy.high_risk_operations[0]'),
      /got "Delete VM"; expected a tool name/,
    );
    assert.match(findProblem(problems, 'command_policy.allow_shell'), /expected true or false/);
    assert.match(
      findProblem(problems, 'command_policy.approval_ttl_seconds'),
      /expected an integer 30-86400/,
    );
  });

  test('mcp.tool_allowlist and mcp.tool_denylist are mutually exclusive', () => {
    const problems = box.problems({
      ...minimalFile(),
      mcp: { tool_allowlist: ['get_vms'], tool_denylist: ['delete_vm'] },
    });
    assert.deepEqual(problems, [
      'mcp.tool_allowlist and mcp.tool_denylist: both are set; they are mutually exclusive: use an allowlist or a denylist',
    ]);
  });

  test('origins are validated and normalised; "*" is refused', () => {
    const config = box.load({
      ...minimalFile(),
      mcp: { allowed_origins: ['https://App.Example.com/'] },
      http: { cors_origins: ['http://localhost:3000'] },
    });
    assert.deepEqual(config.mcp.allowedOrigins, ['https://app.example.com']);
    assert.deepEqual(config.http.corsOrigins, ['http://localhost:3000']);
    const problems = box.problems({
      ...minimalFile(),
      http: { cors_origins: ['*', 'https://x.example/path'] },
    });
    assert.match(findProblem(problems, 'http.cors_origins[0]'), /got "\*"; expected an origin/);
    findProblem(problems, 'http.cors_origins[1]');
  });

  test('security.api_keys: entries with scopes; short, duplicate and malformed entries are refused', () => {
    const config = box.load({
      ...minimalFile(),
      security: {
        api_keys: [
          { name: 'ci', key: 'ci-key-0123456789abcdef', scope: 'read' },
          { name: 'ops', key: 'ops-key-0123456789abcdef', scope: 'OPERATE' },
        ],
      },
    });
    assert.deepEqual(config.http.apiKeys, [
      { name: 'ci', secret: 'ci-key-0123456789abcdef', scope: 'read' },
      { name: 'ops', secret: 'ops-key-0123456789abcdef', scope: 'operate' },
    ]);
    const problems = box.problems({
      ...minimalFile(),
      security: {
        api_keys: [
          { name: 'a', key: 'short', scope: 'admin' },
          { name: 'b', key: 'same-key-0123456789', scope: 'read' },
          { name: 'c', key: 'same-key-0123456789', scope: 'read' },
          { name: 'c', key: 'other-key-0123456789', scope: 'read' },
          { key: 'nameless-key-0123456789', scope: 'read', note: 'x' },
          { name: 'e', key: 'e-key-0123456789abcdef', scope: 'root' },
        ],
      },
    });
    assert.equal(
      findProblem(problems, 'security.api_keys[0].key'),
      'security.api_keys[0].key: got "<redacted>"; expected at least 16 characters (it has 5), since fewer can be guessed by trying keys; generate one with: openssl rand -base64 32',
    );
    assert.match(
      findProblem(problems, 'security.api_keys[5].scope'),
      /got "root"; expected one of read, operate, admin/,
    );
    assert.match(
      findProblem(problems, 'security.api_keys[4].note'),
      /unknown key; allowed: name, key, scope/,
    );
    findProblem(problems, 'security.api_keys[4].name: missing');
    assert.ok(problems.some((p) => /two API keys are named "c"/.test(p)));
    assert.ok(problems.some((p) => /API keys "b" and "c" have the same secret/.test(p)));
  });

  test('api_tunnel is validated; enabled=true is refused because it is not implemented', () => {
    const tunnel = { enabled: false, ssh_host: 'root@pve1', local_port: 18006, connect_timeout: 15 };
    assert.equal(box.load({ ...minimalFile(), api_tunnel: tunnel }).targets[0].host, 'pve.example.com');
    const problems = box.problems({ ...minimalFile(), api_tunnel: { enabled: true, local_port: 'x' } });
    assert.match(
      findProblem(problems, 'api_tunnel.enabled'),
      /got true; the SSH API tunnel is not implemented/,
    );
    findProblem(problems, 'api_tunnel.ssh_host: missing');
    findProblem(problems, 'api_tunnel.local_port');
  });

  test('ssh: files must be readable, host key fingerprints are OpenSSH SHA256 pins', () => {
    const key = box.write('keys/id_ed25519', 'key');
    const pin = `SHA256:${'A'.repeat(42)}Q`;
    const config = box.load({
      ...minimalFile(),
      ssh: {
        key_file: key,
        host_key_fingerprints: { pve1: `${pin}=` },
        host_overrides: { pve1: '[fd00::11]' },
      },
    });
    assert.deepEqual(config.ssh, {
      user: 'root',
      port: 22,
      keyFile: key,
      hostOverrides: { pve1: 'fd00::11' },
      useSudo: false,
      strictHostKeyChecking: true,
      hostKeyFingerprints: { pve1: pin },
    });
    const problems = box.problems({
      ...minimalFile(),
      ssh: {
        key_file: '~/nope/id_rsa',
        host_key_fingerprints: { pve1: 'MD5:aa:bb', 'bad node!': pin },
        password: 'ssh-pass-word',
      },
    });
    assert.match(
      findProblem(problems, 'ssh.key_file'),
      new RegExp(`got "~/nope/id_rsa" \\(${join(box.dir, 'nope/id_rsa')}\\): the file does not exist`),
    );
    assert.match(
      findProblem(problems, 'ssh.host_key_fingerprints.pve1'),
      /expected an OpenSSH host key fingerprint/,
    );
    assert.match(findProblem(problems, 'ssh.host_key_fingerprints.bad node!'), /is not a PVE node name/);
  });
});
