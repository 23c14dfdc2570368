import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describeConfig } from '../../src/config/config.describe.js';
import { Sandbox, envCredentials, findProblem, minimalFile } from './helpers.js';

describe('the safety section: kill switch and protected guests', () => {
  let box: Sandbox;
  before(() => {
    box = new Sandbox();
  });
  after(() => box.remove());

  test('every key from the file', () => {
    const config = box.load({
      ...minimalFile(),
      safety: {
        freeze: true,
        freeze_reason: 'incident 4711',
        freeze_file: '~/run/freeze',
        protected_tag: 'keep-me',
        protected_vmids: [100, '101', 100],
        protect_all_mutations: true,
      },
    });
    assert.deepEqual(config.safety, {
      freeze: true,
      freezeReason: 'incident 4711',
      freezeFile: join(box.dir, 'run/freeze'),
      protectedTag: 'keep-me',
      protectedVmids: [100, 101],
      protectAllMutations: true,
    });
    assert.deepEqual((describeConfig(config) as { safety: unknown }).safety, {
      freeze: true,
      freeze_reason: 'incident 4711',
      freeze_file: join(box.dir, 'run/freeze'),
      protected_tag: 'keep-me',
      protected_vmids: [100, 101],
      protect_all_mutations: true,
    });
  });

  test('the environment, also over the file (an operator freezes a container with one variable)', () => {
    const env = {
      PROXMOX_SAFETY_FREEZE: 'true',
      PROXMOX_SAFETY_FREEZE_REASON: 'storage maintenance',
      PROXMOX_SAFETY_FREEZE_FILE: '/srv/data/FREEZE',
      PROXMOX_SAFETY_PROTECTED_TAG: 'prod',
      PROXMOX_SAFETY_PROTECTED_VMIDS: '100, 205',
      PROXMOX_SAFETY_PROTECT_ALL_MUTATIONS: 'yes',
    };
    const expected = {
      freeze: true,
      freezeReason: 'storage maintenance',
      freezeFile: '/srv/data/FREEZE',
      protectedTag: 'prod',
      protectedVmids: [100, 205],
      protectAllMutations: true,
    };
    assert.deepEqual(box.load(undefined, { ...envCredentials, ...env }).safety, expected);
    assert.deepEqual(box.load({ ...minimalFile(), safety: { freeze: false } }, env).safety, expected);
  });

  test('bad values name the key, what was seen and what is allowed', () => {
    const problems = box.problems({
      ...minimalFile(),
      safety: { freeze: 'maybe', protected_tag: 'no spaces', protected_vmids: [99, 'abc'], colour: 1 },
    });
    assert.match(findProblem(problems, 'safety.freeze:'), /expected/);
    assert.match(findProblem(problems, 'safety.protected_tag:'), /a PVE tag such as protected/);
    assert.match(
      findProblem(problems, 'safety.protected_vmids[0]:'),
      /got 99; expected a guest ID \(100-999999999\)/,
    );
    assert.match(findProblem(problems, 'safety.protected_vmids[1]:'), /a guest ID/);
    assert.ok(
      problems.some((p) => /colour/.test(p)),
      problems.join('\n'),
    );
    assert.match(
      findProblem(
        box.problems({ ...minimalFile(), safety: { protected_vmids: 100 } }),
        'safety.protected_vmids:',
      ),
      /a JSON array of guest IDs/,
    );
  });
});
