import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from '../../src/common/errors/domain-error.js';
import { pvePath, volumeSegment } from '../../src/proxmox/pve-path.js';

const refused = (fn: () => unknown) =>
  assert.throws(fn, (e: unknown) => e instanceof DomainError && e.code === 'VALIDATION');

describe('pvePath', () => {
  test('interpolates and percent-encodes each segment', () => {
    assert.equal(pvePath`/nodes/${'pve1'}/qemu/${100}/config`, '/nodes/pve1/qemu/100/config');
    assert.equal(
      pvePath`/nodes/${'pve1'}/tasks/${'UPID:pve1:0000A1B2:0000C3D4:65A0B1C2:qmstart:100:mcp@pve!ci:'}/status`,
      '/nodes/pve1/tasks/UPID%3Apve1%3A0000A1B2%3A0000C3D4%3A65A0B1C2%3Aqmstart%3A100%3Amcp%40pve!ci%3A/status',
    );
    assert.equal(pvePath`/nodes/${'a b?c#d'}/status`, '/nodes/a%20b%3Fc%23d/status');
    assert.equal(pvePath`/version`, '/version');
  });

  for (const bad of ['', '.', '..', 'a/b', '../access', '%2e%2e', '%2E.', 'a%2Fb', '%252F', 'a\\b', '%5C']) {
    test(`refuses ${JSON.stringify(bad)} so the request cannot move to another endpoint`, () => {
      refused(() => pvePath`/nodes/${bad}/status`);
    });
  }

  test('refuses non-finite numbers', () => {
    refused(() => pvePath`/nodes/pve1/qemu/${NaN}/config`);
    refused(() => pvePath`/nodes/pve1/qemu/${Infinity}/config`);
  });

  test('a malformed percent sequence is encoded, not refused (the server cannot decode it either)', () => {
    assert.equal(pvePath`/nodes/${'100%'}/status`, '/nodes/100%25/status');
  });

  test('the error message quotes the value and says why', () => {
    assert.throws(() => pvePath`/nodes/${'../x'}/status`, /Invalid path segment "\.\.\/x": it contains "\/"/);
  });

  test('volumeSegment allows "/" inside a volume id, encoded as %2F', () => {
    assert.equal(
      pvePath`/nodes/pve1/storage/local/content/${volumeSegment('local:iso/debian-12.iso')}`,
      '/nodes/pve1/storage/local/content/local%3Aiso%2Fdebian-12.iso',
    );
  });

  for (const bad of ['', '..', 'local:iso/../../x', 'a/./b', 'local:iso%2F..%2Fx']) {
    test(`volumeSegment still refuses ${JSON.stringify(bad)}`, () => {
      refused(() => pvePath`/nodes/pve1/storage/local/content/${volumeSegment(bad)}`);
    });
  }
});
