import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isUpid, parseUpid } from '../../src/proxmox/upid.js';

describe('parseUpid', () => {
  test('decodes the proxmoxer example field by field (hex pid/pstart/starttime)', () => {
    const u = parseUpid('UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:');
    assert.deepEqual(u, {
      raw: 'UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:',
      node: 'node1',
      pid: 1044989,
      pstart: 284768076,
      starttimeEpoch: 1661825068,
      starttime: new Date(1661825068 * 1000),
      type: 'vzdump',
      id: '110',
      user: 'root@pam',
    });
  });

  test('accepts an empty id, a token user and a 9-digit pstart', () => {
    const u = parseUpid('UPID:pve-1:0000A1B2:1C0FFEE00:65A0B1C2:vzdump::mcp@pve!ci:');
    assert.ok(u);
    assert.equal(u.node, 'pve-1');
    assert.equal(u.id, '');
    assert.equal(u.user, 'mcp@pve!ci');
    assert.equal(u.pstart, 0x1c0ffee00);
  });

  test('keeps an encoded download filename as the id', () => {
    const u = parseUpid('UPID:node:003094EA:095F1EFE:63E88772:download:file.iso:root@pam:');
    assert.equal(u?.type, 'download');
    assert.equal(u?.id, 'file.iso');
  });

  for (const bad of [
    '',
    'UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam', // no trailing colon
    'UPID:node1:FF1FD:10F9374C:630D702C:vzdump:110:root@pam:', // pid not 8 digits
    'UPID:-node:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:', // node starts with '-'
    'UPID:node1:000FF1FD:10F9374C:630D702C::110:root@pam:', // empty type
    'UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110::', // empty user
    'UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:1/0:root@pam:', // '/' in id
    'UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:extra:',
    'upid:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:',
  ]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.equal(parseUpid(bad), null);
      assert.equal(isUpid(bad), false);
    });
  }

  test('isUpid is a type guard that also rejects non-strings', () => {
    assert.equal(isUpid('UPID:n:00000001:00000002:00000003:qmstart:100:root@pam:'), true);
    assert.equal(isUpid(null), false);
    assert.equal(isUpid(42), false);
  });
});
