import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppConfig, TargetConfig } from '../../src/config/app-config.js';
import { DomainError } from '../../src/common/errors/domain-error.js';
import { ProxmoxGateway } from '../../src/proxmox/proxmox.gateway.js';

const target = (name: string): TargetConfig => ({
  name,
  host: '127.0.0.1',
  port: 1,
  service: 'PVE',
  timeoutMs: 1000,
  inventoryCacheMs: 0,
  verifySsl: true,
  fingerprint: 'AA:BB',
  user: 'u@pve',
  tokenName: 't',
  tokenValue: 'secret-value',
  readOnly: false,
});
const gatewayFor = (...names: string[]) =>
  new ProxmoxGateway({ targets: names.map(target) } as unknown as AppConfig);

describe('ProxmoxGateway', () => {
  test('with one target, the target argument is optional', async () => {
    const gateway = gatewayFor('default');
    assert.equal(gateway.targetConfig().name, 'default');
    assert.equal(gateway.client().name, 'default');
    assert.equal(gateway.client('default'), gateway.client(), 'one client per target, reused');
    assert.deepEqual(gateway.targetNames(), ['default']);
    await gateway.onModuleDestroy();
  });

  test('with several targets, a missing target is a VALIDATION error listing them', () => {
    const gateway = gatewayFor('lab', 'prod');
    assert.throws(
      () => gateway.client(),
      (e: unknown) =>
        e instanceof DomainError &&
        e.code === 'VALIDATION' &&
        e.message === 'target is required: this server has several targets (lab, prod); see list_targets',
    );
    assert.equal(gateway.client('prod').name, 'prod');
  });

  test('an unknown target is NOT_FOUND naming the configured ones', () => {
    const gateway = gatewayFor('lab', 'prod');
    assert.throws(
      () => gateway.targetConfig('staging'),
      (e: unknown) => e instanceof DomainError && e.code === 'NOT_FOUND' && /lab, prod/.test(e.message),
    );
  });

  test('onModuleDestroy closes every client; the next call gets a fresh one', async () => {
    const gateway = gatewayFor('lab', 'prod');
    const before = gateway.client('lab');
    gateway.client('prod');
    await gateway.onModuleDestroy();
    assert.notEqual(gateway.client('lab'), before);
    await gateway.onModuleDestroy();
  });
});
