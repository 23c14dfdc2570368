import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DEFAULT_DENY_PATTERNS } from '../../src/config/command-policy.defaults.js';
import { Sandbox, envCredentials, expectedDefaultTarget, findProblem, minimalFile } from './helpers.js';

describe('environment-only mode', () => {
  let box: Sandbox;
  before(() => {
    box = new Sandbox();
  });
  after(() => box.remove());

  test('credentials from PROXMOX_* and safe defaults; MCP_HOST defaults to 127.0.0.1, not 0.0.0.0', () => {
    const config = box.load(undefined, envCredentials);
    assert.deepEqual(config.source, { kind: 'env' });
    assert.deepEqual(config.targets, [expectedDefaultTarget()]);
    assert.equal(config.mcp.host, '127.0.0.1');
    assert.equal(config.mcp.port, 8000);
    assert.equal(config.mcp.transport, 'STDIO');
    assert.equal(config.logging.level, 'info');
    assert.equal(config.jobs.sqlitePath, join(box.dir, 'proxmox-jobs.sqlite3'));
    assert.deepEqual(config.commandPolicy.denyPatterns, DEFAULT_DENY_PATTERNS);
    assert.equal(config.ssh, undefined);
  });

  test('every reference variable maps to its setting', () => {
    const config = box.load(undefined, {
      ...envCredentials,
      PROXMOX_PORT: '8443',
      PROXMOX_TIMEOUT: '90',
      PROXMOX_VERIFY_SSL: 'no',
      PROXMOX_DEV_MODE: 'YES',
      PROXMOX_SERVICE: 'pve',
      PROXMOX_FINGERPRINT: 'ab'.repeat(32),
      LOG_LEVEL: 'warning',
      MCP_HOST: '::1',
      MCP_PORT: '9000',
      MCP_TRANSPORT: 'streamable_http',
      MCP_STATEFUL: '1',
      PROXMOX_JOBS_SQLITE_PATH: '~/jobs.db',
      COMMAND_POLICY_MODE: 'AUDIT_ONLY',
      COMMAND_POLICY_ALLOW_PATTERNS: '^uname$, ^uptime$',
      COMMAND_POLICY_DENY_PATTERNS: 'reboot',
      COMMAND_POLICY_REQUIRE_APPROVAL_TOKEN: 'true',
      COMMAND_POLICY_APPROVAL_TOKEN: 'approve-me',
      COMMAND_POLICY_HIGH_RISK_MODE: 'enforce',
      COMMAND_POLICY_HIGH_RISK_OPERATIONS: 'delete_vm,delete_container',
      COMMAND_POLICY_HIGH_RISK_REQUIRE_APPROVAL_TOKEN: '0',
      COMMAND_POLICY_HIGH_RISK_APPROVAL_TOKEN: 'approve-risky',
      COMMAND_POLICY_ALLOW_SHELL: 'true',
      COMMAND_POLICY_EXEC_REQUIRE_APPROVAL: '1',
      COMMAND_POLICY_APPROVAL_TTL_SECONDS: '120',
      COMMAND_POLICY_ELICITATION_APPROVAL_RISKS: 'mutate,destroy',
      COMMAND_POLICY_SAFETY_SNAPSHOT_DEFAULT: 'destroy,execute_vm_command',
      MCP_REQUEST_STATE_SECRET: 'x'.repeat(40),
    });
    const [target] = config.targets;
    assert.equal(target.port, 8443);
    assert.equal(target.timeoutMs, 90_000);
    assert.equal(target.verifySsl, false);
    assert.equal(target.fingerprint, Array(32).fill('AB').join(':'));
    assert.equal(config.security.devMode, true);
    assert.equal(config.logging.level, 'warn');
    assert.equal(config.mcp.host, '::1');
    assert.equal(config.mcp.port, 9000);
    assert.equal(config.mcp.transport, 'STREAMABLE');
    assert.equal(config.mcp.stateful, true);
    assert.equal(config.jobs.sqlitePath, join(box.dir, 'jobs.db'));
    assert.deepEqual(config.commandPolicy, {
      mode: 'audit_only',
      allowPatterns: ['^uname$', '^uptime$'],
      denyPatterns: ['reboot'],
      requireApprovalToken: true,
      approvalToken: 'approve-me',
      highRiskMode: 'enforce',
      highRiskOperations: ['delete_vm', 'delete_container'],
      highRiskRequireApprovalToken: false,
      highRiskApprovalToken: 'approve-risky',
      // both written out: the operator's explicit choice, honoured as in the reference
      highRiskApprovalWaived: true,
      allowShell: true,
      execRequireApproval: true,
      approvalTtlSeconds: 120,
      elicitationApprovalRisks: ['mutate', 'destroy'],
      safetySnapshotDefault: ['destroy', 'execute_vm_command'],
    });
    assert.equal(config.mcp.requestStateSecret, 'x'.repeat(40));
  });

  test('elicitation approval risks and the request-state secret are checked, naming what is allowed', () => {
    const problems = box.problems(undefined, {
      ...envCredentials,
      COMMAND_POLICY_ELICITATION_APPROVAL_RISKS: 'mutate,everything',
      MCP_REQUEST_STATE_SECRET: 'too-short',
    });
    findProblem(problems, 'COMMAND_POLICY_ELICITATION_APPROVAL_RISKS: ');
    assert.match(
      findProblem(problems, 'COMMAND_POLICY_ELICITATION_APPROVAL_RISKS'),
      /one of power, mutate, destroy, exec/,
    );
    assert.match(findProblem(problems, 'MCP_REQUEST_STATE_SECRET'), /at least 32 printable characters/);
    assert.ok(!problems.join('\n').includes('too-short'), 'a secret is never echoed back');
  });

  test('missing host and credentials name the variables and say where the loader looked', () => {
    const problems = box.problems(undefined, {});
    assert.equal(problems.length, 4);
    assert.match(
      findProblem(problems, 'PROXMOX_HOST: missing'),
      new RegExp(
        `PROXMOX_MCP_CONFIG is not set and ${join(box.dir, 'proxmox-config/config.json')} does not exist`,
      ),
    );
    findProblem(problems, 'PROXMOX_USER: missing; expected the user@realm');
    findProblem(problems, 'PROXMOX_TOKEN_NAME: missing');
    findProblem(problems, 'PROXMOX_TOKEN_VALUE: missing');
  });

  test('booleans accept only true/false/1/0/yes/no and integers only digits; errors name the variable', () => {
    const problems = box.problems(undefined, {
      ...envCredentials,
      PROXMOX_VERIFY_SSL: 'maybe',
      PROXMOX_PORT: '80a',
      MCP_PORT: '-1',
      MCP_STATEFUL: 'on',
      PROXMOX_TIMEOUT: '1.5',
    });
    assert.deepEqual(problems, [
      'PROXMOX_PORT: got "80a"; expected an integer 1-65535',
      'PROXMOX_TIMEOUT: got "1.5"; expected an integer 1-600',
      'PROXMOX_VERIFY_SSL: got "maybe"; expected one of true, false, 1, 0, yes, no',
      'MCP_PORT: got "-1"; expected an integer 0-65535',
      'MCP_STATEFUL: got "on"; expected one of true, false, 1, 0, yes, no',
    ]);
  });

  test('LOG_LEVEL is ignored when it is an unexpanded ${...} template; other values are checked', () => {
    assert.equal(box.load(undefined, { ...envCredentials, LOG_LEVEL: '${LOG_LEVEL}' }).logging.level, 'info');
    assert.equal(box.load(undefined, { ...envCredentials, LOG_LEVEL: 'DEBUG' }).logging.level, 'debug');
    findProblem(
      box.problems(undefined, { ...envCredentials, LOG_LEVEL: 'chatty' }),
      'LOG_LEVEL: got "chatty"',
    );
  });

  test('pattern lists accept a JSON array, so regexes with commas survive', () => {
    const config = box.load(undefined, {
      ...envCredentials,
      COMMAND_POLICY_ALLOW_PATTERNS: '["^ping -c \\\\d{1,3} \\\\S+$", "^uptime$"]',
    });
    assert.deepEqual(config.commandPolicy.allowPatterns, ['^ping -c \\d{1,3} \\S+$', '^uptime$']);
    assert.ok(new RegExp(config.commandPolicy.allowPatterns[0], 'i').test('ping -c 3 10.0.0.1'));
    // The CSV form splits on commas (the reference's behaviour), which is why the JSON form exists.
    const csv = box.load(undefined, { ...envCredentials, COMMAND_POLICY_ALLOW_PATTERNS: '^a$,^b$' });
    assert.deepEqual(csv.commandPolicy.allowPatterns, ['^a$', '^b$']);

    const problems = box.problems(undefined, {
      ...envCredentials,
      COMMAND_POLICY_ALLOW_PATTERNS: '["^a$", ',
      COMMAND_POLICY_DENY_PATTERNS: '["(x"]',
    });
    assert.match(
      findProblem(problems, 'COMMAND_POLICY_ALLOW_PATTERNS'),
      /expected a JSON array of regular expressions/,
    );
    assert.match(
      findProblem(problems, 'COMMAND_POLICY_DENY_PATTERNS[0]'),
      /got "\(x"; expected a valid JavaScript regular/,
    );
  });

  test('PROXMOX_API_TUNNEL_ENABLED=true is refused (not implemented)', () => {
    const problems = box.problems(undefined, { ...envCredentials, PROXMOX_API_TUNNEL_ENABLED: 'true' });
    assert.match(findProblem(problems, 'PROXMOX_API_TUNNEL_ENABLED'), /not implemented/);
  });
});

describe('environment overrides that apply with a config file', () => {
  let box: Sandbox;
  before(() => {
    box = new Sandbox();
  });
  after(() => box.remove());

  test('MCP_* win over the mcp section; PROXMOX_* connection variables do not touch the file', () => {
    const file = {
      ...minimalFile(),
      mcp: { host: '0.0.0.0', port: 9000, transport: 'SSE', stateful: false, tool_denylist: ['delete_vm'] },
    };
    const config = box.load(file, {
      PROXMOX_HOST: 'ignored.example.com',
      MCP_HOST: '127.0.0.1',
      MCP_PORT: '8123',
      MCP_TRANSPORT: 'STREAMABLE_HTTP',
      MCP_STATEFUL: 'true',
      MCP_ALLOWED_HOSTS: 'mcp.example.com, mcp.example.com:8443',
      MCP_ALLOWED_ORIGINS: 'https://app.example.com/',
    });
    assert.equal(config.targets[0].host, 'pve.example.com');
    assert.equal(config.mcp.host, '127.0.0.1');
    assert.equal(config.mcp.port, 8123);
    assert.equal(config.mcp.transport, 'STREAMABLE');
    assert.equal(config.mcp.stateful, true);
    assert.deepEqual(config.mcp.allowedHosts, ['mcp.example.com', 'mcp.example.com:8443']);
    assert.deepEqual(config.mcp.allowedOrigins, ['https://app.example.com']);
    assert.deepEqual(config.mcp.toolDenylist, ['delete_vm']);
    // Unset or empty variables leave the file's values alone.
    const untouched = box.load(file, { MCP_PORT: '' });
    assert.equal(untouched.mcp.port, 9000);
    assert.equal(untouched.mcp.transport, 'SSE');
  });

  test('MCP_TOOL_ALLOWLIST against a file denylist is reported as a conflict naming both', () => {
    const file = { ...minimalFile(), mcp: { tool_denylist: ['delete_vm'] } };
    const problems = box.problems(file, { MCP_TOOL_ALLOWLIST: 'get_vms,get_nodes' });
    assert.match(
      problems[0],
      /^MCP_TOOL_ALLOWLIST and mcp\.tool_denylist: both are set; they are mutually exclusive/,
    );
  });

  test('PROXMOX_JOBS_SQLITE_PATH wins over jobs.sqlite_path (the reference ignored it with a file)', () => {
    const file = { ...minimalFile(), jobs: { sqlite_path: '/var/lib/from-file.sqlite3' } };
    assert.equal(box.load(file).jobs.sqlitePath, '/var/lib/from-file.sqlite3');
    const config = box.load(file, { PROXMOX_JOBS_SQLITE_PATH: '/data/jobs.sqlite3' });
    assert.equal(config.jobs.sqlitePath, '/data/jobs.sqlite3');
    const url = 'postgres://mcp:pw@db.internal/mcp';
    assert.equal(box.load(file, { PROXMOX_JOBS_DATABASE_URL: url }).jobs.databaseUrl, url);
  });

  test('MCP_API_KEY and PROXMOX_API_KEY become admin keys next to the file keys', () => {
    const file = {
      ...minimalFile(),
      security: { api_keys: [{ name: 'ci', key: 'ci-key-0123456789abcdef', scope: 'read' }] },
    };
    const config = box.load(file, {
      MCP_API_KEY: 'mcp-key-0123456789abcdef',
      PROXMOX_API_KEY: 'rest-key-0123456789abcdef',
    });
    assert.deepEqual(config.http.apiKeys, [
      { name: 'env:MCP_API_KEY', secret: 'mcp-key-0123456789abcdef', scope: 'admin' },
      { name: 'env:PROXMOX_API_KEY', secret: 'rest-key-0123456789abcdef', scope: 'admin' },
      { name: 'ci', secret: 'ci-key-0123456789abcdef', scope: 'read' },
    ]);
    // The same value in both variables is one key, not a duplicate.
    const same = box.load(file, {
      MCP_API_KEY: 'same-key-0123456789ab',
      PROXMOX_API_KEY: 'same-key-0123456789ab',
    });
    assert.deepEqual(
      same.http.apiKeys.map((k) => k.name),
      ['env:MCP_API_KEY', 'ci'],
    );
    const problems = box.problems(file, { PROXMOX_API_KEY: 'too-short' });
    assert.deepEqual(problems, [
      'PROXMOX_API_KEY: got "<redacted>"; expected at least 16 characters (it has 9), since fewer can be guessed by trying keys; generate one with: openssl rand -base64 32',
    ]);
  });

  test('PROXMOX_ALLOW_NO_AUTH / MCP_ALLOW_UNAUTHENTICATED_HTTP and the CORS variables', () => {
    assert.equal(box.load(minimalFile(), { PROXMOX_ALLOW_NO_AUTH: 'true' }).http.allowNoAuth, true);
    assert.equal(box.load(minimalFile(), { MCP_ALLOW_UNAUTHENTICATED_HTTP: '1' }).http.allowNoAuth, true);
    assert.equal(box.load(minimalFile(), { PROXMOX_ALLOW_NO_AUTH: 'false' }).http.allowNoAuth, false);
    findProblem(
      box.problems(minimalFile(), { PROXMOX_ALLOW_NO_AUTH: 'sure' }),
      'PROXMOX_ALLOW_NO_AUTH: got "sure"',
    );

    const file = { ...minimalFile(), http: { cors_origins: ['https://file.example.com'] } };
    assert.deepEqual(
      box.load(file, { MCPO_CORS_ALLOW_ORIGINS: 'https://a.example.com,http://localhost:3000' }).http
        .corsOrigins,
      ['https://a.example.com', 'http://localhost:3000'],
    );
    assert.deepEqual(
      box.load(file, {
        MCP_CORS_ORIGINS: 'https://b.example.com',
        MCPO_CORS_ALLOW_ORIGINS: 'https://a.example.com',
      }).http.corsOrigins,
      ['https://b.example.com'],
    );
    assert.deepEqual(box.load(file).http.corsOrigins, ['https://file.example.com']);
  });
});
