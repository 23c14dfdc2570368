import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkValue, PveApiSchema } from '../../src/simulator/index.js';
import { SCHEMA_PATH } from '../helpers/sim-client.js';

describe('simulator: schema validator (TypeScript port of lookup.mjs)', () => {
  const schema = PveApiSchema.load(SCHEMA_PATH);

  test('indexes the whole 9.1 dump; literal segments win over {params}', () => {
    assert.equal(schema.endpointCount, 435);
    assert.equal(
      schema.find(['nodes', 'pve1', 'qemu', '100', 'status', 'current'])?.endpoint.path,
      '/nodes/{node}/qemu/{vmid}/status/current',
    );
    const tasks = schema.find(['nodes', 'pve1', 'tasks', 'UPID:x', 'log']);
    assert.equal(tasks?.endpoint.path, '/nodes/{node}/tasks/{upid}/log');
    assert.deepEqual(tasks?.pathParams, { node: 'pve1', upid: 'UPID:x' });
    assert.equal(schema.find(['nodes', 'pve1', 'nope']), null);
  });

  test('checkCall-compatible results', () => {
    const ok = schema.check('POST', '/api2/json/nodes/pve1/qemu', {
      vmid: '101',
      name: 'web01',
      memory: '2048',
      cores: '2',
      net0: 'virtio,bridge=vmbr0',
      scsi0: 'local-lvm:32',
      scsihw: 'virtio-scsi-pci',
      ostype: 'l26',
    });
    assert.equal(ok.ok, true, JSON.stringify(ok.errors));
    assert.equal(ok.template, '/nodes/{node}/qemu');

    const notFound = schema.check('GET', '/nodes/pve1/frobnicate');
    assert.equal(notFound.notFound, true);
    assert.equal(notFound.message, "Method 'GET /nodes/pve1/frobnicate' not implemented");
    const wrongMethod = schema.check('DELETE', '/cluster/resources');
    assert.equal(wrongMethod.notFound, false);
    assert.equal(wrongMethod.ok, false);

    const force = schema.check('POST', '/nodes/pve1/qemu', { vmid: '101', force: '1' });
    assert.deepEqual(force.errors, { archive: "missing property required by 'force'" });

    // property-string sub-keys are reported as "<param>.<key>: <msg>" (PVE's format error text)
    const net = schema.check('POST', '/nodes/pve1/qemu', { vmid: '101', net0: 'virtio,bridge=vmbr 0' });
    assert.equal(
      net.errors.net0,
      "invalid format - format error\nnet0.bridge: invalid format - invalid bridge ID 'vmbr 0'\n\n",
    );
    const tooHigh = schema.check('POST', '/nodes/pve1/qemu', { vmid: '101', net32: 'virtio,bridge=vmbr0' });
    assert.match(tooHigh.errors.net32, /not defined in schema/);
  });

  test('checkValue: booleans strict at top level, loose in property strings; lists; ranges', () => {
    assert.equal(checkValue('true', { type: 'boolean' }), "type check ('boolean') failed - got 'true'");
    assert.equal(checkValue(true, { type: 'boolean' }), null);
    assert.equal(checkValue('1', { type: 'boolean' }), null);
    assert.equal(
      checkValue(['a', 'b'], { type: 'string', format: 'pve-vmid-list' }),
      'invalid format - value does not look like a valid VM ID\n',
    );
    assert.equal(checkValue(['100', '101'], { type: 'string', format: 'pve-vmid-list' }), null);
    assert.equal(
      checkValue('5', { type: 'integer', minimum: 100 }),
      'value must have a minimum value of 100',
    );
    assert.equal(
      checkValue('x', { type: 'string', format: { on: { type: 'boolean', default_key: 1 } } }),
      "invalid format - format error\n.on: type check ('boolean') failed - got 'x'\n",
    );
    assert.equal(
      checkValue('yes', { type: 'string', format: { on: { type: 'boolean', default_key: 1 } } }),
      null,
    );
    assert.equal(checkValue('abc', { type: 'string', pattern: '(?^i:[a-z]+)' }), null);
  });
});
