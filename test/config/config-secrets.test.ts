import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NestFactory } from '@nestjs/core';
import { APP_CONFIG } from '../../src/config/app-config.js';
import { describeConfig } from '../../src/config/config.loader.js';
import { AppConfigModule } from '../../src/config/config.module.js';
import { Sandbox, TOKEN, minimalFile, problemsOf } from './helpers.js';

const SECRETS = {
  token: 'tok-6f1c2a9e-SECRET',
  apiKey: 'api-key-SECRET-0123456789',
  envKey: 'env-key-SECRET-0123456789',
  sshPassword: 'ssh-pass-SECRET',
  approval: 'approval-SECRET',
  highRisk: 'high-risk-SECRET',
  dbPassword: 'db-pass-SECRET',
};

describe('secrets stay out of errors and descriptions', () => {
  let box: Sandbox;
  before(() => {
    box = new Sandbox();
  });
  after(() => box.remove());

  test('malformed secrets are shown as <redacted>, including a secret pasted into a non-secret key', () => {
    const file = {
      // A valid token pasted by mistake into a non-secret key too: the message must still hide it.
      proxmox: { host: 'pve.example.com', service: SECRETS.token },
      auth: { user: 'mcp@pve', token_name: 'mcp', token_value: SECRETS.token },
      security: { api_keys: [{ name: 'ci', key: 'short-SECRET', scope: 'read' }] },
      jobs: { database_url: `mysql://u:${SECRETS.dbPassword}@db/x` },
      command_policy: { approval_token: `${SECRETS.approval} x` },
    };
    const problems = problemsOf(() =>
      box.load(file, { MCP_API_KEY: `${SECRETS.envKey} space`, PROXMOX_TOKEN_VALUE: 'ignored-in-file-mode' }),
    );
    const text = problems.join('\n');
    assert.equal(problems.length, 5, text);
    for (const secret of [...Object.values(SECRETS), 'short-SECRET']) {
      assert.ok(!text.includes(secret), `${secret} leaked in:\n${text}`);
    }
    assert.ok(text.includes('proxmox.service: got "<redacted>"'), text);
    assert.ok(text.includes('command_policy.approval_token: got "<redacted>"'), text);
  });

  test('describeConfig shows every setting but no secret', () => {
    const key = box.write('id_ed25519', 'key');
    const config = box.load(
      {
        ...minimalFile(),
        auth: { user: 'mcp@pve', token_name: 'mcp', token_value: SECRETS.token },
        security: { api_keys: [{ name: 'ci', key: SECRETS.apiKey, scope: 'read' }] },
        jobs: { database_url: `postgres://mcp:${SECRETS.dbPassword}@db.internal:5432/jobs?sslpassword=x` },
        command_policy: { approval_token: SECRETS.approval, high_risk_approval_token: SECRETS.highRisk },
        ssh: { key_file: key, password: SECRETS.sshPassword },
      },
      { MCP_API_KEY: SECRETS.envKey },
    );
    const view = JSON.parse(JSON.stringify(describeConfig(config)));
    const text = JSON.stringify(view);
    for (const secret of Object.values(SECRETS))
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);

    assert.equal(view.targets[0].auth.token_value, '<redacted>');
    assert.equal(view.targets[0].auth.user, 'mcp@pve');
    assert.deepEqual(view.http.api_keys, [
      { name: 'env:MCP_API_KEY', scope: 'admin', key: '<redacted>' },
      { name: 'ci', scope: 'read', key: '<redacted>' },
    ]);
    assert.equal(view.jobs.database_url, 'postgres://mcp:<redacted>@db.internal:5432/jobs?<redacted>');
    assert.equal(view.command_policy.approval_token, '<redacted>');
    assert.equal(view.command_policy.high_risk_approval_token, '<redacted>');
    assert.equal(view.ssh.password, '<redacted>');
    assert.equal(view.ssh.key_file, key);
    assert.equal(view.targets[0].proxmox.host, 'pve.example.com');
    assert.equal(view.mcp.transport, 'STDIO');
  });

  test('describeConfig marks unset secrets as null, so "not configured" is visible', () => {
    const view = JSON.parse(JSON.stringify(describeConfig(box.load(minimalFile()))));
    assert.equal(view.command_policy.approval_token, null);
    assert.equal(view.ssh, null);
    assert.equal(view.targets[0].auth.token_value, '<redacted>');
    assert.ok(!JSON.stringify(view).includes(TOKEN));
  });

  test('AppConfigModule.forRoot provides the given object as APP_CONFIG', async () => {
    const config = box.load(minimalFile());
    const app = await NestFactory.createApplicationContext(AppConfigModule.forRoot(config), {
      logger: false,
    });
    try {
      assert.equal(app.get(APP_CONFIG), config);
    } finally {
      await app.close();
    }
  });
});
