import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatorApiSuite, refusedWith500, type SimClient } from '../helpers/sim-client.js';

/** Seeded: VM 100 (pve1) runs a Debian guest with its agent; VM 106 (pve1) has no agent running; 104 (pve2) is stopped. */
describe('simulator: guest agent file-read and file-write', () => {
  let api: SimClient;
  const vm100 = '/nodes/pve1/qemu/100/agent';
  const read = (file: string, extra = '') =>
    api.get(`${vm100}/file-read?file=${encodeURIComponent(file)}${extra}`);

  simulatorApiSuite({}, (started) => ({ api } = started));

  test('file-read: decoded bytes by default (one character per byte), base64 with decode=0, count and offset', async () => {
    const host = await read('/etc/hostname');
    assert.equal(host.status, 200, host.reason);
    assert.deepEqual(host.json.data, { content: 'web-01\n', 'bytes-read': 7 });
    const raw = await read('/var/lib/misc/random-seed', '&decode=0');
    const bytes = Buffer.from(raw.json.data.content, 'base64');
    assert.equal(bytes.length, 264);
    assert.deepEqual([...bytes.subarray(8, 12)], [0, 1, 2, 3]);
    const part = await read('/etc/hostname', '&offset=4&count=2');
    assert.deepEqual(part.json.data, { content: '01', 'bytes-read': 2, truncated: 1 });
    // like qemu-ga, end of file is only seen by a short read: ending exactly at count still says truncated
    assert.equal((await read('/etc/hostname', '&count=7')).json.data.truncated, 1);
    assert.equal((await read('/etc/hostname', '&count=8')).json.data.truncated, undefined);
  });

  test('file-write: creates or replaces a file in an existing folder; encode=0 takes base64; cat sees it', async () => {
    const w = await api.postJson(`${vm100}/file-write`, { file: '/tmp/a.txt', content: 'first' });
    assert.equal(w.status, 200, w.reason);
    assert.equal(w.json.data, null);
    await api.postJson(`${vm100}/file-write`, {
      file: '/tmp/a.txt',
      content: Buffer.from('second\n').toString('base64'),
      encode: 0,
    });
    assert.equal((await read('/tmp/a.txt')).json.data.content, 'second\n');
    const exec = await api.postJson(`${vm100}/exec`, { command: ['cat', '/tmp/a.txt'] });
    const status = await api.data(`${vm100}/exec-status?pid=${exec.json.data.pid}`);
    assert.equal(status['out-data'], 'second\n');
    await refusedWith500(
      api.postJson(`${vm100}/file-write`, { file: '/nope/dir/x', content: 'x' }),
      /^Agent error: failed to open file '\/nope\/dir\/x' \(mode: 'w'\): No such file or directory/,
    );
    await refusedWith500(
      api.postJson(`${vm100}/file-write`, { file: '/tmp/b', content: 'not base64!', encode: 0 }),
      /not valid base64/,
    );
  });

  test('refusals: a missing file, a folder, no agent and a stopped VM', async () => {
    await refusedWith500(
      read('/nope'),
      /^Agent error: failed to open file '\/nope' \(mode: 'r'\): No such file or directory/,
    );
    await refusedWith500(read('/tmp'), /Is a directory/);
    await refusedWith500(
      api.get('/nodes/pve1/qemu/106/agent/file-read?file=/etc/hostname'),
      /^QEMU guest agent is not running/,
    );
    await refusedWith500(
      api.get('/nodes/pve2/qemu/104/agent/file-read?file=/etc/hostname'),
      /^VM 104 is not running/,
    );
  });
});
