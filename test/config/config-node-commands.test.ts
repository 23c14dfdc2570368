import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, TOKEN, envCredentials, findProblem, minimalFile } from './helpers.js';
import { describeConfig } from '../../src/config/config.describe.js';

const target = (host: string, extra: object = {}) => ({
  proxmox: { host },
  auth: { user: 'mcp@pve', token_name: 'mcp', token_value: TOKEN },
  ...extra,
});

describe('execute_node_command configuration: off by default, enabled per target with allow patterns', () => {
  let box: Sandbox;
  let ssh: Record<string, unknown>;
  before(() => {
    box = new Sandbox();
    ssh = { password: 'node-pass', host_key_fingerprints: { pve1: `SHA256:${'A'.repeat(42)}Q` } };
  });
  after(() => box.remove());

  test('off unless enabled: an ssh section alone does not enable node commands', () => {
    const config = box.load({ ...minimalFile(), ssh });
    assert.equal(config.targets[0].nodeCommands, undefined);
    assert.deepEqual((describeConfig(config) as any).targets[0].ssh, {
      allow_node_commands: false,
      node_command_patterns: [],
    });
  });

  test('single target: ssh.allow_node_commands + ssh.node_command_patterns; the variables win over the file', () => {
    const config = box.load({
      ...minimalFile(),
      ssh: { ...ssh, allow_node_commands: true, node_command_patterns: ['pveversion', 'zpool status( -v)?'] },
    });
    assert.deepEqual(config.targets[0].nodeCommands, { allowPatterns: ['pveversion', 'zpool status( -v)?'] });
    assert.equal(config.ssh?.password, 'node-pass');

    const fromEnv = box.load(
      { ...minimalFile(), ssh },
      {
        PROXMOX_SSH_ALLOW_NODE_COMMANDS: 'yes',
        PROXMOX_SSH_NODE_COMMAND_PATTERNS: '["qm list", "pvesh get /cluster/resources( --type (vm|node))?"]',
      },
    );
    assert.deepEqual(fromEnv.targets[0].nodeCommands, {
      allowPatterns: ['qm list', 'pvesh get /cluster/resources( --type (vm|node))?'],
    });
    const off = box.load(
      { ...minimalFile(), ssh: { ...ssh, allow_node_commands: true, node_command_patterns: ['uptime'] } },
      { PROXMOX_SSH_ALLOW_NODE_COMMANDS: 'false' },
    );
    assert.equal(off.targets[0].nodeCommands, undefined);
  });

  test('several targets: each target enables its own; the shared ssh section and the variables cannot', () => {
    const config = box.load({
      targets: {
        lab: target('lab.example.com', {
          ssh: { allow_node_commands: true, node_command_patterns: ['pveversion'] },
        }),
        prod: target('prod.example.com'),
      },
      ssh,
    });
    assert.deepEqual(
      config.targets.map((t) => [t.name, t.nodeCommands]),
      [
        ['lab', { allowPatterns: ['pveversion'] }],
        ['prod', undefined],
      ],
    );
    const problems = box.problems(
      {
        targets: {
          lab: target('lab.example.com', { ssh: { allow_node_commands: true, node_patterns: [] } }),
        },
        ssh: { ...ssh, allow_node_commands: true },
      },
      { PROXMOX_SSH_NODE_COMMAND_PATTERNS: 'uptime' },
    );
    assert.match(
      findProblem(problems, 'PROXMOX_SSH_NODE_COMMAND_PATTERNS:'),
      /not allowed together with targets; set targets.<name>.ssh.node_command_patterns/,
    );
    assert.match(
      findProblem(problems, 'ssh.allow_node_commands:'),
      /not allowed together with targets; set targets.<name>.ssh.allow_node_commands on each target/,
    );
    assert.match(
      findProblem(problems, 'targets.lab.ssh.node_patterns:'),
      /unknown key; allowed: allow_node_commands, node_command_patterns/,
    );
    findProblem(problems, 'targets.lab.ssh.node_command_patterns: missing');
  });

  test('enabled needs patterns that compile, and the ssh section that reaches the nodes', () => {
    const problems = box.problems({
      ...minimalFile(),
      ssh: { ...ssh, allow_node_commands: true, node_command_patterns: ['ok', '(unclosed', 7] },
    });
    assert.match(
      findProblem(problems, 'ssh.node_command_patterns[1]:'),
      /a valid JavaScript regular expression/,
    );
    assert.match(findProblem(problems, 'ssh.node_command_patterns[2]:'), /a non-empty regular expression/);

    const none = box.problems({ ...minimalFile(), ssh: { ...ssh, allow_node_commands: true } });
    assert.match(
      findProblem(none, 'ssh.node_command_patterns: missing'),
      /ssh.allow_node_commands is true, so list the commands it allows/,
    );

    const noSsh = box.problems(undefined, {
      ...envCredentials,
      PROXMOX_SSH_ALLOW_NODE_COMMANDS: 'true',
      PROXMOX_SSH_NODE_COMMAND_PATTERNS: 'pveversion',
    });
    assert.match(
      findProblem(noSsh, 'PROXMOX_SSH_ALLOW_NODE_COMMANDS:'),
      /got true, but there is no ssh section: node commands run over SSH/,
    );
    const badBool = box.problems({ ...minimalFile(), ssh: { ...ssh, allow_node_commands: 'sure' } });
    findProblem(badBool, 'ssh.allow_node_commands:');
  });
});
