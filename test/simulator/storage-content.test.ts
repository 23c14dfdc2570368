import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { simulatorApiSuite, type SimClient, type Json } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

/**
 * Storage content (list, attributes, delete) and download-url. Seeded: `nas` (NFS, shared) holds two ISOs, two
 * templates and two backups each of guests 100-103 (the older one of VM 100 protected); `local` (dir, per node)
 * holds an ISO, a template and one backup of the node's first guest; `local-lvm` holds guest disks.
 */
describe('simulator: storage content and download-url', () => {
  let sim: PveSimulator;
  let api: SimClient;
  const content = (node: string, storage: string, query = ''): Promise<Json[]> =>
    api.data(`/nodes/${node}/storage/${storage}/content${query}`);
  const volumePath = (node: string, storage: string, volid: string) =>
    `/nodes/${node}/storage/${storage}/content/${encodeURIComponent(volid)}`;

  simulatorApiSuite({}, (started) => ({ sim, api } = started));

  test('list: PVE fields only, sorted by volid; content and vmid filters; shared storage is the same from every node', async () => {
    const isos = await content('pve1', 'nas', '?content=iso');
    assert.deepEqual(isos, [
      {
        volid: 'nas:iso/debian-12.7.0-amd64-netinst.iso',
        content: 'iso',
        format: 'iso',
        size: 661651456,
        ctime: isos[0].ctime,
      },
      {
        volid: 'nas:iso/ubuntu-24.04.1-live-server-amd64.iso',
        content: 'iso',
        format: 'iso',
        size: 2773874688,
        ctime: isos[1].ctime,
      },
    ]);
    const backups = await content('pve2', 'nas', '?content=backup&vmid=100');
    assert.equal(backups.length, 2);
    for (const b of backups) {
      assert.deepEqual(
        Object.keys(b).sort(),
        [
          'content',
          'ctime',
          'format',
          'notes',
          'size',
          'subtype',
          'vmid',
          'volid',
          ...(b.protected ? ['protected'] : []),
        ].sort(),
      );
      assert.match(b.volid, /^nas:backup\/vzdump-qemu-100-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.vma\.zst$/);
    }
    assert.deepEqual(backups.map((b) => b.protected ?? 0).sort(), [0, 1]);
    assert.deepEqual(await content('pve3', 'nas'), await content('pve1', 'nas'), 'shared: one content');
    const local1 = (await content('pve1', 'local', '?content=backup')).map((v) => v.vmid);
    const local2 = (await content('pve2', 'local', '?content=backup')).map((v) => v.vmid);
    assert.deepEqual([local1, local2], [[100], [101]], 'local storage differs per node');
    assert.deepEqual(
      await content('pve1', 'local-lvm', '?content=iso'),
      [],
      'a content type the storage lacks',
    );
    const disks = await content('pve1', 'local-lvm', '?vmid=100');
    assert.deepEqual(
      disks.map((d) => [d.volid, d.content]),
      [['local-lvm:vm-100-disk-0', 'images']],
    );
  });

  test('GET a volume: path, size, format; a backup also its full notes and protection', async () => {
    const iso = await api.data(volumePath('pve1', 'nas', 'nas:iso/debian-12.7.0-amd64-netinst.iso'));
    assert.deepEqual(iso, {
      path: '/mnt/pve/nas/template/iso/debian-12.7.0-amd64-netinst.iso',
      size: 661651456,
      used: 661651456,
      format: 'iso',
    });
    // the bare volume name works when the storage is in the path
    const tmpl = await api.data(
      volumePath('pve1', 'local', 'vztmpl/alpine-3.21-default_20241217_amd64.tar.xz'),
    );
    assert.equal(tmpl.path, '/var/lib/vz/template/cache/alpine-3.21-default_20241217_amd64.tar.xz');
    assert.equal(tmpl.format, 'txz');
    const [backup] = await content('pve1', 'nas', '?content=backup&vmid=101');
    const info = await api.data(volumePath('pve1', 'nas', backup.volid));
    assert.equal(info.protected, 0);
    assert.equal(info.path, `/mnt/pve/nas/dump/${backup.volid.slice('nas:backup/'.length)}`);
    const missing = await api.get(volumePath('pve1', 'nas', 'nas:iso/nope.iso'));
    assert.equal(missing.status, 500);
    const mismatch = await api.get(volumePath('pve1', 'local', 'nas:iso/debian-12.7.0-amd64-netinst.iso'));
    assert.equal(mismatch.status, 400);
    assert.deepEqual(mismatch.json.errors, { volume: 'storage ID mismatch (nas != local)\n' });
  });

  test('PUT: notes and protection of a backup; other content types have no such attributes', async () => {
    const [backup] = await content('pve1', 'nas', '?content=backup&vmid=102');
    assert.equal(
      (
        await api.put(volumePath('pve1', 'nas', backup.volid), {
          notes: 'before upgrade\nmore',
          protected: '1',
        })
      ).status,
      200,
    );
    const listed = (await content('pve3', 'nas', '?content=backup&vmid=102')).find(
      (b) => b.volid === backup.volid,
    );
    assert.equal(listed.notes, 'before upgrade');
    assert.equal(listed.protected, 1);
    await api.put(volumePath('pve1', 'nas', backup.volid), { protected: '0' });
    assert.equal(
      (await content('pve1', 'nas', '?content=backup&vmid=102')).find((b) => b.volid === backup.volid)
        .protected,
      undefined,
    );
    const iso = await api.put(volumePath('pve1', 'nas', 'nas:iso/debian-12.7.0-amd64-netinst.iso'), {
      protected: '1',
    });
    assert.equal(iso.status, 500);
    assert.equal(iso.reason, "only backups support attribute 'protected'");
  });

  test('DELETE: an imgdel task; a protected backup is accepted by the API and refused by the task', async () => {
    const [protectedBackup] = (await content('pve1', 'nas', '?content=backup&vmid=100')).filter(
      (b) => b.protected,
    );
    const res = await api.del(volumePath('pve1', 'nas', protectedBackup.volid));
    assert.equal(res.status, 200);
    assert.match(res.json.data, /^UPID:pve1:.*:imgdel:100@nas:/);
    const refused = await api.task(res);
    assert.equal(
      refused.exitstatus,
      `cannot remove protected volume '${protectedBackup.volid.slice(4)}' on 'nas'`,
    );
    assert.ok(
      (await content('pve2', 'nas', '?content=backup')).some((b) => b.volid === protectedBackup.volid),
    );

    const [plain] = (await content('pve1', 'nas', '?content=backup&vmid=101')).filter((b) => !b.protected);
    const ok = await api.task(await api.del(volumePath('pve2', 'nas', plain.volid)));
    assert.equal(ok.exitstatus, 'OK');
    assert.equal(ok.id, '101@nas');
    assert.ok((await api.taskLog(ok.upid)).includes(`Removed volume '${plain.volid}'`));
    for (const node of ['pve1', 'pve2', 'pve3']) {
      assert.ok(!(await content(node, 'nas')).some((v) => v.volid === plain.volid), `gone on ${node}`);
    }
  });

  test('DELETE: a bare name with the storage; a missing file fails the task; delay answers null when done', async () => {
    const iso = await api.task(
      await api.del('/nodes/pve2/storage/local/content/iso%2Fvirtio-win-0.1.266.iso'),
    );
    assert.equal(iso.exitstatus, 'OK');
    assert.equal(iso.id, 'local');
    assert.ok(!(await content('pve2', 'local')).some((v) => v.volid === 'local:iso/virtio-win-0.1.266.iso'));
    assert.ok(
      (await content('pve1', 'local')).some((v) => v.volid === 'local:iso/virtio-win-0.1.266.iso'),
      'only pve2',
    );

    const gone = await api.task(
      await api.del(volumePath('pve2', 'local', 'local:iso/virtio-win-0.1.266.iso')),
    );
    assert.equal(
      gone.exitstatus,
      "unlink '/var/lib/vz/template/iso/virtio-win-0.1.266.iso' failed - No such file or directory",
    );

    const delayed = await api.del(volumePath('pve3', 'local', 'local:iso/virtio-win-0.1.266.iso'), {
      delay: '5',
    });
    assert.equal(delayed.status, 200);
    assert.equal(delayed.json.data, null);
    const failed = await api.del(volumePath('pve3', 'local', 'local:iso/virtio-win-0.1.266.iso'), {
      delay: '5',
    });
    assert.equal(failed.status, 500);
    assert.match(failed.reason, /^unlink '.*' failed - No such file or directory$/);
    const unparsable = await api.del(volumePath('pve1', 'local', 'local:something-else'));
    assert.equal(unparsable.reason, "unable to parse directory volume name 'something-else'");
  });

  // ---------------------------------------------------------------------------------------- download-url

  test('download-url: a download task named after the file produces the volume; checksums are verified', async () => {
    const url = 'https://releases.example.org/isos/alma-9.5-x86_64-minimal.iso';
    const sha256 = createHash('sha256').update(url).digest('hex');
    const res = await api.post('/nodes/pve1/storage/local/download-url', {
      url,
      filename: 'alma-9.5-x86_64-minimal.iso',
      content: 'iso',
      checksum: sha256.toUpperCase(),
      'checksum-algorithm': 'sha256',
    });
    assert.equal(res.status, 200, res.reason);
    assert.match(res.json.data, /^UPID:pve1:[0-9A-F:]+:download:alma-9\.5-x86_64-minimal\.iso:/);
    const status = await api.task(res);
    assert.equal(status.exitstatus, 'OK');
    const log = await api.taskLog(res.json.data);
    assert.equal(log[0], `downloading ${url} to /var/lib/vz/template/iso/alma-9.5-x86_64-minimal.iso`);
    assert.ok(log.includes('calculating checksum...OK, checksum verified'));
    assert.ok(
      log.includes(`download of '${url}' to '/var/lib/vz/template/iso/alma-9.5-x86_64-minimal.iso' finished`),
    );
    const made = (await content('pve1', 'local', '?content=iso')).find(
      (v) => v.volid === 'local:iso/alma-9.5-x86_64-minimal.iso',
    );
    assert.equal(made?.format, 'iso');
    assert.ok(made.size > 0);
    assert.ok(!(await content('pve2', 'local')).some((v) => v.volid === made.volid), 'local is per node');

    // the same file again: refused without a checksum, accepted (no download) with the right one
    const again = await api.task(
      await api.post('/nodes/pve1/storage/local/download-url', {
        url,
        filename: 'alma-9.5-x86_64-minimal.iso',
        content: 'iso',
      }),
    );
    assert.equal(
      again.exitstatus,
      "refusing to override existing file '/var/lib/vz/template/iso/alma-9.5-x86_64-minimal.iso'",
    );
    const same = await api.task(
      await api.post('/nodes/pve1/storage/local/download-url', {
        url,
        filename: 'alma-9.5-x86_64-minimal.iso',
        content: 'iso',
        checksum: sha256,
        'checksum-algorithm': 'sha256',
      }),
    );
    assert.equal(same.exitstatus, 'OK');
  });

  test('download-url: checksum mismatch, templates, normalised names and the synchronous refusals', async () => {
    const url = 'https://images.example.org/tmpl/rocky-9-default_20240912_amd64.tar.xz';
    const bad = await api.task(
      await api.post('/nodes/pve2/storage/nas/download-url', {
        url,
        filename: 'rocky-9-default_20240912_amd64.tar.xz',
        content: 'vztmpl',
        checksum: 'ab'.repeat(32),
        'checksum-algorithm': 'sha256',
      }),
    );
    const got = createHash('sha256').update(url).digest('hex');
    assert.equal(bad.exitstatus, `checksum mismatch: got '${got}' != expect '${'ab'.repeat(32)}'`);
    assert.ok(!(await content('pve2', 'nas')).some((v) => v.volid.includes('rocky')));

    const tmpl = await api.task(
      await api.post('/nodes/pve2/storage/nas/download-url', {
        url,
        filename: 'rocky-9-default_20240912_amd64.tar.xz',
        content: 'vztmpl',
      }),
    );
    assert.equal(tmpl.exitstatus, 'OK');
    const listed = (await content('pve3', 'nas', '?content=vztmpl')).find((v) => v.volid.includes('rocky'));
    assert.equal(listed.volid, 'nas:vztmpl/rocky-9-default_20240912_amd64.tar.xz');
    assert.equal(listed.format, 'txz');

    // PVE normalises the name: the path goes, other characters become _
    const normalised = await api.post('/nodes/pve1/storage/local/download-url', {
      url: 'https://example.org/x.iso',
      filename: '../../etc/my image.iso',
      content: 'iso',
    });
    assert.match(normalised.json.data, /:download:my_image\.iso:/);

    const wrongExt = await api.post('/nodes/pve1/storage/local/download-url', {
      url,
      filename: 'x.txt',
      content: 'iso',
    });
    assert.equal(wrongExt.status, 400);
    assert.deepEqual(wrongExt.json.errors, { filename: 'wrong file extension' });
    const block = await api.post('/nodes/pve1/storage/local-lvm/download-url', {
      url,
      filename: 'x.iso',
      content: 'iso',
    });
    assert.equal(block.reason, "can't upload to storage type 'lvmthin', not a file based storage!");
    const noRootdir = await api.post('/nodes/pve1/storage/local/download-url', {
      url,
      filename: 'x.tar.gz',
      content: 'import',
    });
    assert.equal(noRootdir.reason, "storage 'local' is not configured for content-type 'import'");
  });

  test('download-url: a failed fetch is scripted; the file then does not appear', async () => {
    sim.tasks.script({
      match: { type: 'download' },
      exitstatus: 'download failed: wget: server returned error: HTTP/1.1 404 Not Found',
    });
    const failed = await api.task(
      await api.post('/nodes/pve3/storage/local/download-url', {
        url: 'https://example.org/gone.iso',
        filename: 'gone.iso',
        content: 'iso',
      }),
    );
    assert.equal(failed.exitstatus, 'download failed: wget: server returned error: HTTP/1.1 404 Not Found');
    assert.ok(!(await content('pve3', 'local')).some((v) => v.volid === 'local:iso/gone.iso'));
  });
});
