import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOOLSET_NAMES } from '../../src/common/tools/toolsets.js';
import { Sandbox, envCredentials, findProblem, minimalFile } from './helpers.js';

describe('mcp.toolsets, mcp.tool_mode and per-key toolsets', () => {
  let box: Sandbox;
  before(() => {
    box = new Sandbox();
  });
  after(() => box.remove());

  test('defaults: every toolset, full mode', () => {
    const config = box.load(undefined, envCredentials);
    assert.deepEqual(config.mcp.toolsets, []);
    assert.equal(config.mcp.toolMode, 'full');
  });

  test('MCP_TOOLSETS (comma list) and MCP_TOOL_MODE (any case) from the environment', () => {
    const config = box.load(undefined, {
      ...envCredentials,
      MCP_TOOLSETS: 'vms, snapshots,jobs',
      MCP_TOOL_MODE: 'COMPACT',
    });
    assert.deepEqual(config.mcp.toolsets, ['vms', 'snapshots', 'jobs']);
    assert.equal(config.mcp.toolMode, 'compact');
  });

  test('the config file: mcp.toolsets, mcp.tool_mode and security.api_keys[].toolsets', () => {
    const config = box.load({
      ...minimalFile(),
      mcp: { toolsets: ['ha', 'catalog'], tool_mode: 'compact' },
      security: {
        api_keys: [{ name: 'ha-bot', key: 'ha-bot-key-0123456789', scope: 'operate', toolsets: ['ha'] }],
      },
    });
    assert.deepEqual(config.mcp.toolsets, ['ha', 'catalog']);
    assert.equal(config.mcp.toolMode, 'compact');
    assert.deepEqual(
      config.http.apiKeys.find((k) => k.name === 'ha-bot'),
      { name: 'ha-bot', secret: 'ha-bot-key-0123456789', scope: 'operate', toolsets: ['ha'] },
    );
  });

  test('an unknown toolset name is a config error naming every allowed set', () => {
    const allowed = `a toolset name, one of ${TOOLSET_NAMES.join(', ')}`;
    const fromEnv = box.problems(undefined, { ...envCredentials, MCP_TOOLSETS: 'vms,vm' });
    assert.ok(findProblem(fromEnv, 'MCP_TOOLSETS').includes(allowed), fromEnv.join('\n'));
    assert.match(findProblem(fromEnv, 'MCP_TOOLSETS'), /"vm"/);
    const fromKey = box.problems({
      ...minimalFile(),
      security: {
        api_keys: [{ name: 'k', key: 'k-key-0123456789abcdef', scope: 'read', toolsets: ['firewal'] }],
      },
    });
    assert.ok(findProblem(fromKey, 'security.api_keys[0].toolsets').includes(allowed), fromKey.join('\n'));
    const empty = box.problems({
      ...minimalFile(),
      security: { api_keys: [{ name: 'k', key: 'k-key-0123456789abcdef', scope: 'read', toolsets: [] }] },
    });
    assert.match(findProblem(empty, 'security.api_keys[0].toolsets'), /at least one entry/);
  });

  test('mcp.tool_mode is full or compact', () => {
    const problems = box.problems(undefined, { ...envCredentials, MCP_TOOL_MODE: 'tiny' });
    assert.match(findProblem(problems, 'MCP_TOOL_MODE'), /one of full, compact/);
  });
});
