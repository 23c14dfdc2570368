import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeConfig } from '../../src/config/config.loader.js';
import { Sandbox, envCredentials, findProblem, minimalFile } from '../config/helpers.js';

const KEY = 'a-long-enough-api-key-0123';

describe('security settings in the config file and environment', () => {
  const box = new Sandbox();
  after(() => box.remove());

  const withTargets = (security: object) => ({
    targets: {
      lab: minimalFile(),
      prod: { ...minimalFile(), read_only: true },
    },
    security,
  });

  test('api_keys[].targets and .tools limit a key; both are optional', () => {
    const config = box.load(
      withTargets({
        api_keys: [
          { name: 'lab', key: KEY, scope: 'operate', targets: ['lab'], tools: ['get_vms', 'start_vm'] },
          { name: 'all', key: `${KEY}-2`, scope: 'read' },
        ],
      }),
    );
    assert.deepEqual(config.http.apiKeys, [
      { name: 'lab', secret: KEY, scope: 'operate', targets: ['lab'], tools: ['get_vms', 'start_vm'] },
      { name: 'all', secret: `${KEY}-2`, scope: 'read' },
    ]);
    const view = JSON.stringify(describeConfig(config));
    assert.ok(!view.includes(KEY));
    assert.match(view, /"targets":\["lab"\],"tools":\["get_vms","start_vm"\]/);
  });

  test('a limit naming an unknown target, a malformed tool name, or an empty list is refused', () => {
    const problems = box.problems(
      withTargets({
        api_keys: [
          { name: 'a', key: KEY, scope: 'read', targets: ['staging'] },
          { name: 'b', key: `${KEY}-b`, scope: 'read', tools: ['Get VMs'] },
          { name: 'c', key: `${KEY}-c`, scope: 'read', tools: [] },
        ],
      }),
    );
    assert.match(
      findProblem(problems, 'security.api_keys[0].targets[0]'),
      /got "staging"; expected a configured target name \(lab, prod\)/,
    );
    assert.match(findProblem(problems, 'security.api_keys[1].tools[0]'), /expected a tool name/);
    assert.match(
      findProblem(problems, 'security.api_keys[2].tools'),
      /at least one entry .* omit the key to allow all/,
    );
  });

  test('MCP_DNS_REBINDING_PROTECTION: on by default, off only when said so (file or environment)', () => {
    assert.equal(box.load(minimalFile()).mcp.dnsRebindingProtection, true);
    assert.equal(
      box.load({ ...minimalFile(), mcp: { dns_rebinding_protection: false } }).mcp.dnsRebindingProtection,
      false,
    );
    assert.equal(
      box.load(undefined, { ...envCredentials, MCP_DNS_REBINDING_PROTECTION: 'false' }).mcp
        .dnsRebindingProtection,
      false,
    );
    assert.match(
      findProblem(
        box.problems(undefined, { ...envCredentials, MCP_DNS_REBINDING_PROTECTION: 'nah' }),
        'MCP_DNS_REBINDING_PROTECTION',
      ),
      /got "nah"/,
    );
  });

  test('logging.log_commands, audit.retention_days, request timeouts and the auth failure limit', () => {
    const config = box.load({
      ...minimalFile(),
      logging: { log_commands: true },
      audit: { retention_days: 30 },
      http: { headers_timeout_seconds: 5, request_timeout_seconds: 20 },
      security: { auth_failure_limit: 50, auth_failure_window_seconds: 300 },
    });
    assert.equal(config.logging.logCommands, true);
    assert.deepEqual(config.audit, { retentionDays: 30 });
    assert.equal(config.http.headersTimeoutMs, 5000);
    assert.equal(config.http.requestTimeoutMs, 20_000);
    assert.equal(config.http.authFailureLimit, 50);
    assert.equal(config.http.authFailureWindowMs, 300_000);
    assert.equal(
      box.load(undefined, { ...envCredentials, PROXMOX_AUDIT_RETENTION_DAYS: '14' }).audit.retentionDays,
      14,
    );
    const problems = box.problems({
      ...minimalFile(),
      audit: { retention_days: 0 },
      http: { headers_timeout_seconds: 0 },
      security: { auth_failure_limit: 'many' },
    });
    assert.match(findProblem(problems, 'audit.retention_days'), /expected an integer 1-36500/);
    assert.match(findProblem(problems, 'http.headers_timeout_seconds'), /expected an integer 1-300/);
    assert.match(findProblem(problems, 'security.auth_failure_limit'), /expected an integer/);
  });
});
