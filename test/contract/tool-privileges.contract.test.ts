import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp } from '../../src/app.setup.js';
import { ToolRegistry } from '../../src/mcp/registry/tool-registry.js';
import { holds, privilegeGaps } from '../../src/cli/doctor/privilege-check.js';
import type { PrivilegeCheck, PrivilegeRequirement } from '../../src/common/tools/pve-privileges.js';
import { ALL_PRIVILEGES } from '../../src/simulator/index.js';
import { testConfig } from '../helpers/test-app.js';

test('doctor: every registered tool declares its Proxmox privileges, with real privilege names', async () => {
  const { app } = await createApp(testConfig([], { jobs: { sqlitePath: ':memory:', pollIntervalMs: 0 } }));
  let declared: Array<[string, readonly PrivilegeRequirement[]]>;
  try {
    declared = app
      .get(ToolRegistry)
      .all()
      .map((t) => [t.name, t.options.privileges]);
  } finally {
    await app.close();
  }
  assert.ok(declared.length > 0);
  const known = new Set(ALL_PRIVILEGES);
  for (const [tool, requirements] of declared) {
    assert.ok(
      Array.isArray(requirements),
      `${tool}: declare @McpTool({ privileges }) (see the PVE schema \`permissions\` of what it calls)`,
    );
    const checks = requirements.flatMap((r): PrivilegeCheck[] => ('oneOf' in r ? [...r.oneOf] : [r]));
    for (const check of checks) {
      for (const priv of check.privs) assert.ok(known.has(priv), `${tool}: ${priv} is not a PVE privilege`);
      assert.match(check.path, /^\/[a-z/]*$/, `${tool}: ${check.path}`);
    }
  }
});

test('doctor: a privilege counts below its path only when it propagates; the nearest listed path decides', () => {
  const perms = {
    '/': { 'Sys.Audit': 1 },
    '/vms': { 'Sys.Audit': 1, 'VM.Audit': 0 },
    '/vms/100': { 'Sys.Audit': 1, 'VM.PowerMgmt': 1 },
    '/storage': {},
  };
  assert.equal(holds(perms, '/vms', 'VM.Audit'), true, 'on the path itself, propagation does not matter');
  assert.equal(holds(perms, '/vms/101', 'VM.Audit'), false, 'not propagated to the guests');
  assert.equal(holds(perms, '/nodes/pve1', 'Sys.Audit'), true, 'inherited from /');
  assert.equal(holds(perms, '/storage', 'Sys.Audit'), false, 'an entry with nothing overrides what is above');
  assert.deepEqual(privilegeGaps(perms, [{ path: '/vms', privs: ['VM.PowerMgmt'] }]), [
    {
      label: 'VM.PowerMgmt on /vms',
      path: '/vms',
      privs: ['VM.PowerMgmt'],
      partialOn: ['/vms/100'],
      grant: { path: '/vms', privs: ['VM.PowerMgmt'] },
    },
  ]);
  assert.deepEqual(
    privilegeGaps(perms, [{ path: '/vms', privs: ['VM.Audit', 'VM.Allocate'], any: true }]),
    [],
    'one of an `any` check is enough',
  );
  assert.deepEqual(
    privilegeGaps(perms, [
      {
        oneOf: [
          { path: '/', privs: ['Sys.Audit', 'Sys.Modify'] },
          { path: '/nodes', privs: ['Sys.Audit'] },
        ],
      },
    ]),
    [],
    'one alternative of a oneOf is enough',
  );
});
