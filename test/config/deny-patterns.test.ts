import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DENY_PATTERNS } from '../../src/config/command-policy.defaults.js';

// The reference's defaults never matched (seed §4). Matching is as the policy does it: case-insensitive search.
const denied = (command: string) => DEFAULT_DENY_PATTERNS.some((p) => new RegExp(p, 'i').test(command));

describe('default command deny patterns', () => {
  const dangerous = [
    'rm -rf /',
    'rm -fr /',
    'rm -r -f /',
    '/bin/rm -rf /',
    'sudo rm -Rf /var/lib/vz',
    'rm --recursive --force /',
    'rm / -rf',
    'uname; rm -rf /',
    ':(){ :|:& };:',
    ':(){:|:&};:',
    'bomb(){ bomb|bomb& };bomb',
    'mkfs.ext4 /dev/sda',
    'mkfs -t xfs /dev/sdb1',
    'wipefs -a /dev/sda',
    'dd if=/dev/zero of=/dev/sda',
    'dd if=/dev/zero bs=1M of=/dev/nvme0n1',
    'echo x > /dev/sda',
    'shutdown -h now',
    'reboot',
    '/sbin/reboot',
    'uptime && reboot',
    'poweroff',
    'systemctl reboot',
    'init 0',
  ];
  const harmless = [
    'ls -la',
    'uname -a',
    'cat /etc/os-release',
    'rm file.txt',
    'rm -f /tmp/file.txt',
    'rm notes; ls -r',
    'df -h',
    'cat /etc/reboot-notes.txt',
    'echo done > /dev/null',
    'dd if=/dev/sda of=/tmp/mbr.bin bs=512 count=1',
    'systemctl status pveproxy',
    'init 3',
    'farm -rf',
  ];

  for (const command of dangerous) {
    test(`denies ${JSON.stringify(command)}`, () => assert.ok(denied(command)));
  }
  for (const command of harmless) {
    test(`does not deny ${JSON.stringify(command)}`, () => assert.ok(!denied(command)));
  }

  test('every default pattern compiles and the list is frozen', () => {
    for (const p of DEFAULT_DENY_PATTERNS) assert.doesNotThrow(() => new RegExp(p, 'i'));
    assert.ok(Object.isFrozen(DEFAULT_DENY_PATTERNS));
  });
});
