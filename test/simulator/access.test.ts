import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_PRIVILEGES, TokenAccess } from '../../src/simulator/index.js';

const TOKEN = 'mcp@pve!agent';

test('simulator token ACL: PVE shape, inheritance down the tree, one path, refusals', () => {
  const admin = new TokenAccess();
  assert.deepEqual(
    Object.keys(admin.permissions(TOKEN, {})['/vms']),
    [...ALL_PRIVILEGES].sort(),
    'default: every privilege, inherited by the standard paths',
  );

  const access = new TokenAccess({ '/vms': ['VM.Audit'], '/vms/100': ['VM.PowerMgmt'] });
  const all = access.permissions(TOKEN, {});
  assert.deepEqual(all, {
    '/vms': { 'VM.Audit': 1 },
    '/vms/100': { 'VM.Audit': 1, 'VM.PowerMgmt': 1 },
  });
  assert.deepEqual(access.permissions(TOKEN, { path: '/vms/101' }), { '/vms/101': { 'VM.Audit': 1 } });
  assert.deepEqual(access.permissions(TOKEN, { path: '/nodes' }), {}, 'nothing granted: an empty object');
  assert.deepEqual(access.permissions(TOKEN, { userid: TOKEN }), all, 'its own id is the same as none');
  assert.throws(() => access.permissions(TOKEN, { userid: 'root@pam' }), /Permission check failed/);

  assert.throws(() => access.set({ '/vms': ['VM.Fly'] }), /unknown privilege\(s\) VM\.Fly/);
  assert.throws(() => access.set({ vms: ['VM.Audit'] }), /must look like \//);
});
