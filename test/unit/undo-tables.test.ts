import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  changedKeys,
  conflictingKeys,
  inverseRequest,
  matchRevertable,
  objectValues,
  REDACTED,
} from '../../src/audit/changes/revertable.js';
import { SAFETY_SNAPSHOT_TOOLS, safetySnapshotName } from '../../src/jobs/safety/safety-tools.js';

describe('change journal table (revertable.ts)', () => {
  test('matches the revertable object paths, and only those', () => {
    assert.equal(matchRevertable('PUT', '/nodes/pve1/qemu/100/config', {})?.kind, 'vm_config');
    assert.equal(matchRevertable('PUT', '/nodes/pve1/lxc/101/config', {})?.kind, 'container_config');
    assert.equal(matchRevertable('PUT', '/cluster/firewall/rules/3', {})?.kind, 'firewall_rule');
    assert.equal(matchRevertable('PUT', '/nodes/pve1/qemu/100/firewall/rules/0', {})?.kind, 'firewall_rule');
    assert.equal(matchRevertable('PUT', '/nodes/pve2/firewall/options', {})?.kind, 'firewall_options');
    assert.equal(matchRevertable('PUT', '/cluster/ha/resources/vm:100', {})?.kind, 'ha_resource');
    assert.equal(matchRevertable('PUT', '/cluster/backup/backup-1', {})?.kind, 'backup_job');
    assert.equal(matchRevertable('PUT', '/cluster/firewall/rules/0', { moveto: 2 }), undefined, 'a move');
    assert.equal(matchRevertable('DELETE', '/cluster/backup/backup-1', {}), undefined);
    assert.equal(matchRevertable('POST', '/nodes/pve1/qemu/100/status/start', {}), undefined);
  });

  test('the inverse sets old values, deletes added keys, carries digest and type; secrets are skipped', () => {
    const rule = matchRevertable('PUT', '/cluster/firewall/rules/0', {})!;
    const before = objectValues(rule, { type: 'in', dport: '22', comment: 'ssh', pos: 0, digest: 'd1' });
    const after = objectValues(rule, {
      type: 'in',
      dport: '2222',
      source: '10.0.0.0/8',
      pos: 0,
      digest: 'd2',
    });
    const fields = changedKeys(before, after);
    assert.deepEqual(fields, ['comment', 'dport', 'source']);
    assert.deepEqual(inverseRequest(rule, fields, before, after, 'd2'), {
      params: { comment: 'ssh', dport: '22', delete: 'source', type: 'in', digest: 'd2' },
      skipped: [],
    });
    assert.deepEqual(conflictingKeys(fields, after, { ...after, dport: '8022' }), ['dport']);
    const vm = matchRevertable('PUT', '/nodes/pve1/qemu/100/config', {})!;
    const vmBefore = objectValues(vm, { memory: 2048, cipassword: '**********', lock: 'backup' });
    assert.deepEqual(vmBefore, { memory: 2048, cipassword: REDACTED });
    assert.deepEqual(inverseRequest(vm, ['cipassword', 'memory'], vmBefore, {}, undefined), {
      params: { memory: 2048 },
      skipped: ['cipassword'],
    });
  });
});

describe('safety snapshot names', () => {
  test('every tool gets a valid PVE snapshot name of at most 40 characters', () => {
    const at = new Date('2026-12-07T05:30:00Z');
    for (const tool of Object.keys(SAFETY_SNAPSHOT_TOOLS)) {
      const name = safetySnapshotName(tool, at);
      assert.match(name, /^[A-Za-z][A-Za-z0-9_-]{1,39}$/, name);
      assert.ok(name.endsWith('-20261207053000'), name);
    }
  });
});
