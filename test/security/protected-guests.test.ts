import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SafetyConfig } from '../../src/config/app-config.js';
import type { PveClusterResource } from '../../src/proxmox/pve-types.js';
import {
  dropsProtectionTag,
  guestReferences,
  protectionLevel,
  protectionOf,
  referencedGuests,
} from '../../src/security/safety/protected-guests.js';

const safety = (o: Partial<SafetyConfig> = {}): SafetyConfig => ({
  freeze: false,
  freezeFile: '/nonexistent',
  protectedTag: 'protected',
  protectedVmids: [],
  protectAllMutations: false,
  ...o,
});

const guests: PveClusterResource[] = [
  { id: 'qemu/100', type: 'qemu', node: 'pve1', vmid: 100, name: 'db', tags: 'prod;Protected' },
  { id: 'lxc/101', type: 'lxc', node: 'pve1', vmid: 101, name: 'web' },
  { id: 'lxc/102', type: 'lxc', node: 'pve2', vmid: 102, name: 'web', tags: 'protected' },
  { id: 'node/pve1', type: 'node', node: 'pve1' },
];

describe('protected guests: which calls are checked and which guests they name', () => {
  test('destroy tools always; other changes only with protect_all_mutations (backups aside) or a tags argument', () => {
    const s = safety();
    assert.equal(protectionLevel({ name: 'delete_vm', risk: 'destroy' }, {}, s), 'destroy');
    assert.equal(protectionLevel({ name: 'get_vms', risk: 'read' }, {}, s), undefined);
    assert.equal(protectionLevel({ name: 'start_vm', risk: 'power' }, {}, s), undefined);
    assert.equal(protectionLevel({ name: 'update_vm_config', risk: 'mutate' }, { tags: 'a' }, s), 'tags');
    const all = safety({ protectAllMutations: true });
    assert.equal(protectionLevel({ name: 'start_vm', risk: 'power' }, {}, all), 'mutation');
    assert.equal(protectionLevel({ name: 'create_backup', risk: 'mutate' }, {}, all), undefined);
  });

  test('vmid (number or path string) and every selector form; unparsable arguments name nothing', () => {
    assert.deepEqual(guestReferences({ vmid: 100, node: 'pve1' }), [{ vmid: 100, node: 'pve1' }]);
    assert.deepEqual(guestReferences({ vmid: '100' }), [{ vmid: 100 }]);
    assert.deepEqual(guestReferences({ vmid: 'abc' }), []);
    const refs = guestReferences({ selector: '101, pve2:102 ,pve1/web,web,,bad:name' });
    assert.deepEqual(refs, [
      { vmid: 101 },
      { vmid: 102, node: 'pve2' },
      { name: 'web', node: 'pve1', containersOnly: true },
      { name: 'web', containersOnly: true },
    ]);
    assert.deepEqual(
      referencedGuests(guestReferences({ selector: 'web' }), guests).map((g) => g.vmid),
      [101, 102],
    );
    assert.deepEqual(
      referencedGuests(guestReferences({ selector: 'pve1/web' }), guests).map((g) => g.vmid),
      [101],
    );
    assert.deepEqual(referencedGuests([{ vmid: 999 }], guests), []);
  });

  test('protected by tag (case-insensitive, ;-separated) or by vmid; a tags argument must keep the tag', () => {
    const s = safety({ protectedVmids: [101] });
    assert.deepEqual(protectionOf(guests[0], s), { guest: guests[0], byTag: true, byVmid: false });
    assert.deepEqual(protectionOf(guests[1], s), { guest: guests[1], byTag: false, byVmid: true });
    assert.equal(protectionOf(guests[1], safety()), undefined);
    assert.equal(dropsProtectionTag('prod', s), true);
    assert.equal(dropsProtectionTag('', s), true);
    assert.equal(dropsProtectionTag(['prod', 'protected'], s), false);
    assert.equal(dropsProtectionTag('prod;protected', s), false);
    assert.equal(dropsProtectionTag(42, s), false);
  });
});
