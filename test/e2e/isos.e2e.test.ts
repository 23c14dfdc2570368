import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import { resultText, simRequests, toolCalls } from '../helpers/tools.js';
import { startHarness, testConfig, type Harness } from '../helpers/test-app.js';

/** A public address (no DNS needed; the simulator never fetches anything). */
const PUBLIC = '93.184.216.34';
/** The simulator's "downloaded file" consists of the URL's text, so this is the checksum that matches. */
const digest = (algorithm: string, url: string) => createHash(algorithm).update(url).digest('hex');

/**
 * list_isos, list_templates, download_iso, download_template and delete_iso over MCP (results checked against the
 * listed output schemas) and REST, against the schema-checked simulator; every case of security-and-faults.md table F
 * and D6. Seeded: `nas` (shared) has 2 ISOs and 2 templates, each node's `local` an ISO and a template, `local-lvm`
 * the guests' disks (vm-100-disk-0 on pve1).
 */
describe('ISO and template tools against the simulator', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, since, mutations } = simRequests(() => h.sim);
  const downloads = () => h.sim.requests.filter((r) => r.path.endsWith('/download-url'));
  const iso = (args: Record<string, unknown>) => ({ node: 'pve1', storage: 'local', ...args });

  before(async () => {
    h = await startHarness({ nodes: 3, guests: 12, taskSeconds: 0 });
    mcp = await h.mcp();
    await mcp.listTools(); // from here on the SDK checks every result against the tool's outputSchema
  });
  after(() => h.close()); // fails on any request real PVE would refuse

  test('tools/list: five tools; delete_iso is destructive; no way to turn certificate checks off', async () => {
    const { tools } = await mcp.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ['list_isos', 'list_templates'])
      assert.equal(byName.get(name)?.annotations?.readOnlyHint, true);
    assert.equal(byName.get('delete_iso')?.annotations?.destructiveHint, true);
    const download = byName.get('download_iso')!.inputSchema as any;
    assert.deepEqual(download.required, ['filename', 'node', 'storage', 'url']);
    assert.deepEqual(download.properties.checksum_algorithm.enum, [
      'md5',
      'sha1',
      'sha224',
      'sha256',
      'sha384',
      'sha512',
    ]);
    assert.ok(download.properties.filename.pattern, 'the file name rule is in the schema');
    assert.equal(download.additionalProperties, false);
    for (const key of Object.keys(download.properties)) assert.doesNotMatch(key, /verif|cert/);
    assert.deepEqual((byName.get('delete_iso')!.inputSchema as any).required, [
      'filename',
      'node',
      'storage',
    ]);
  });

  // ------------------------------------------------------------------------------------------------ lists

  test('list_isos: shared storage read once, local per node; REST GET /isos gives the same', async () => {
    const seq = lastSeq();
    const listed = await ok('list_isos');
    const reads = since(seq).filter((r) => r.path.endsWith('/content'));
    assert.deepEqual(reads.map((r) => r.path).sort(), [
      '/nodes/pve1/storage/local/content',
      '/nodes/pve1/storage/nas/content',
      '/nodes/pve2/storage/local/content',
      '/nodes/pve3/storage/local/content',
    ]);
    assert.ok(reads.every((r) => r.query.content === 'iso'));
    assert.deepEqual(
      listed.isos.map((i: any) => [i.name, i.storage, i.shared ? '*' : i.node]),
      [
        ['debian-12.7.0-amd64-netinst.iso', 'nas', '*'],
        ['ubuntu-24.04.1-live-server-amd64.iso', 'nas', '*'],
        ['virtio-win-0.1.266.iso', 'local', 'pve1'],
        ['virtio-win-0.1.266.iso', 'local', 'pve2'],
        ['virtio-win-0.1.266.iso', 'local', 'pve3'],
      ],
    );
    const debian = listed.isos[0];
    assert.deepEqual(debian, {
      volid: 'nas:iso/debian-12.7.0-amd64-netinst.iso',
      name: 'debian-12.7.0-amd64-netinst.iso',
      storage: 'nas',
      node: 'pve1',
      shared: true,
      format: 'iso',
      size_bytes: 661651456,
      created_at: debian.created_at,
    });
    assert.match(debian.created_at, /^\d{4}-\d\d-\d\dT/);
    const rest = await request(h.url).get('/isos').set(h.auth).expect(200);
    assert.deepEqual(rest.body, listed);
    const onPve2 = await ok('list_isos', { node: 'pve2', storage: 'local' });
    assert.deepEqual(
      onPve2.isos.map((i: any) => i.volid),
      ['local:iso/virtio-win-0.1.266.iso'],
    );
    assert.equal(onPve2.isos[0].node, 'pve2');
  });

  test('list_templates: container templates with their volume IDs; REST GET /templates', async () => {
    const listed = await ok('list_templates', { storage: 'nas' });
    assert.deepEqual(
      listed.templates.map((t: any) => [t.volid, t.format]),
      [
        ['nas:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst', 'tzst'],
        ['nas:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst', 'tzst'],
      ],
    );
    const rest = await request(h.url).get('/templates?node=pve3&storage=local').set(h.auth).expect(200);
    assert.deepEqual(
      rest.body.templates.map((t: any) => t.volid),
      ['local:vztmpl/alpine-3.21-default_20241217_amd64.tar.xz'],
    );
    const r = await call('list_templates', { node: 'pve3', storage: 'local' });
    assert.match(resultText(r), /Use the Volume ID with create_container's ostemplate parameter\./);
  });

  // ------------------------------------------------------------------------------------------------ download

  test('download_iso: PVE gets the normalised URL, the exact name, content iso and the checksum; the ISO appears', async () => {
    const url = `HTTPS://${PUBLIC}:443/isos/./alma-9.5-x86_64-minimal.iso`;
    const normalised = `https://${PUBLIC}/isos/alma-9.5-x86_64-minimal.iso`;
    const sum = digest('sha256', normalised).toUpperCase();
    const seq = lastSeq();
    const job = await ok(
      'download_iso',
      iso({ url, filename: 'alma-9.5-x86_64-minimal.iso', checksum: sum, wait: true }),
    );
    assert.equal(job.status, 'completed', JSON.stringify(job));
    assert.match(job.task_id, /:download:alma-9\.5-x86_64-minimal\.iso:/);
    assert.equal(job.metadata.volid, 'local:iso/alma-9.5-x86_64-minimal.iso');
    const [post] = mutations(seq);
    assert.equal(post.path, '/nodes/pve1/storage/local/download-url');
    assert.deepEqual(post.body, {
      url: normalised,
      filename: 'alma-9.5-x86_64-minimal.iso',
      content: 'iso',
      checksum: sum.toLowerCase(),
      'checksum-algorithm': 'sha256',
    });
    const onPve1 = await ok('list_isos', { node: 'pve1', storage: 'local' });
    assert.ok(onPve1.isos.some((i: any) => i.volid === 'local:iso/alma-9.5-x86_64-minimal.iso'));
    const onPve2 = await ok('list_isos', { node: 'pve2', storage: 'local' });
    assert.ok(
      !onPve2.isos.some((i: any) => i.name === 'alma-9.5-x86_64-minimal.iso'),
      'local storage is per node',
    );

    await fails(
      'download_iso',
      iso({ url, filename: 'alma-9.5-x86_64-minimal.iso' }),
      'CONFLICT',
      /local:iso\/alma-9\.5-x86_64-minimal\.iso already exists on node pve1/,
    );
    await fails(
      'download_iso',
      iso({ url, filename: 'x.iso', storage: 'local-lvm' }),
      'VALIDATION',
      /storage 'local-lvm' cannot hold ISO images on node pve1/,
    );
  });

  test('download_template over REST into shared storage, verified with sha512', async () => {
    const url = `http://${PUBLIC}/tmpl/rocky-9-default_20240912_amd64.tar.xz`;
    const res = await request(h.url)
      .post('/nodes/pve2/storage/nas/templates')
      .set(h.auth)
      .send({
        url,
        filename: 'rocky-9-default_20240912_amd64.tar.xz',
        checksum: digest('sha512', url),
        checksum_algorithm: 'sha512',
        wait: true,
      })
      .expect(202);
    assert.equal(res.body.status, 'completed', JSON.stringify(res.body));
    assert.equal(res.body.tool_name, 'download_template');
    assert.equal(downloads().at(-1)?.body?.content, 'vztmpl');
    const listed = await ok('list_templates', { node: 'pve3', storage: 'nas' });
    assert.ok(
      listed.templates.some((t: any) => t.volid === 'nas:vztmpl/rocky-9-default_20240912_amd64.tar.xz'),
    );
    await fails(
      'download_template',
      { node: 'pve1', storage: 'nas', url, filename: 'rocky.iso' },
      'VALIDATION',
      /filename must be a plain file name ending in \.tar/,
    );
  });

  // ------------------------------------------------------------------------------------------------ table F

  test('F1: file names with paths, traversal, odd characters or too long are refused (nothing is normalised)', async () => {
    const before = downloads().length;
    for (const filename of [
      '../../etc/passwd.iso',
      'a/b.iso',
      'a\\b.iso',
      '..%2f..%2fx.iso',
      '.iso',
      '.hidden.iso',
      'x.iso\u0000.txt',
      `${'a'.repeat(252)}.iso`,
      '-rf.iso',
      'x.iso;reboot',
      ' x.iso',
      'x .iso',
      'x..iso',
      'ünïcode.iso',
    ]) {
      await fails(
        'download_iso',
        iso({ url: `https://${PUBLIC}/x.iso`, filename }),
        'VALIDATION',
        /filename/,
      );
    }
    assert.equal(downloads().length, before, 'no download-url request was sent');
  });

  test('F2: ISO extensions .iso/.img only, case-insensitive like PVE', async () => {
    for (const filename of ['x.txt', 'x.iso.exe', 'x.isox', 'x', 'x.tar.gz']) {
      await fails(
        'download_iso',
        iso({ url: `https://${PUBLIC}/x`, filename }),
        'VALIDATION',
        /ending in \.iso or \.img/,
      );
    }
    for (const filename of ['UPPER.ISO', 'disk.img']) {
      const job = await ok(
        'download_iso',
        iso({ url: `https://${PUBLIC}/${filename}`, filename, wait: true }),
      );
      assert.equal(job.status, 'completed');
      assert.equal(downloads().at(-1)?.body?.filename, filename, 'sent exactly as given');
    }
  });

  test('F3: only http and https URLs', async () => {
    const before = downloads().length;
    for (const url of [
      'file:///etc/passwd',
      'ftp://93.184.216.34/x.iso',
      'gopher://93.184.216.34/x',
      'data:text/plain,x',
      'javascript:alert(1)',
    ]) {
      await fails(
        'download_iso',
        iso({ url, filename: 'x.iso' }),
        'VALIDATION',
        /url scheme .* is not allowed; only http and https/,
      );
    }
    assert.equal(downloads().length, before);
  });

  test('F4/F5: loopback, private, link-local, metadata addresses in any spelling are refused', async () => {
    const before = downloads().length;
    for (const url of [
      'http://127.0.0.1:8006/api2/json/access/users',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.5/x.iso',
      'http://[::1]/x.iso',
      'http://[fc00::1]/x.iso',
      'http://[fd00:ec2::254]/x.iso',
      'http://0/x.iso',
      'http://100.64.0.1/x.iso',
      'http://192.168.1.10/x.iso',
      'http://[::ffff:127.0.0.1]/x.iso',
      'http://0x7f000001/x.iso',
      'http://2130706433/x.iso',
      'http://017700000001/x.iso',
      'http://127.1/x.iso',
      'http://①②⑦.0.0.1/x.iso',
    ]) {
      await fails(
        'download_iso',
        iso({ url, filename: 'x.iso' }),
        'POLICY_DENIED',
        /^POLICY_DENIED: url refused: /,
      );
    }
    assert.equal(downloads().length, before);
    // REST: 403 with a JSON body naming the reason
    const rest = await request(h.url)
      .post('/nodes/pve1/storage/local/isos')
      .set(h.auth)
      .send({ url: 'http://169.254.169.254/latest/meta-data/', filename: 'x.iso' })
      .expect(403);
    assert.equal(rest.body.code, 'POLICY_DENIED');
    assert.match(rest.body.message, /169\.254\.169\.254 is link-local/);
  });

  test('F6: parser differentials (backslash, userinfo, whitespace) are refused', async () => {
    const before = downloads().length;
    await fails(
      'download_iso',
      iso({ url: 'http://evil.com\\@127.0.0.1/x.iso', filename: 'x.iso' }),
      'VALIDATION',
      /backslash/,
    );
    await fails(
      'download_iso',
      iso({ url: 'http://127.0.0.1#@evil.com/x.iso', filename: 'x.iso' }),
      'POLICY_DENIED',
      /loopback/,
    );
    await fails(
      'download_iso',
      iso({ url: `http://u:p@${PUBLIC}/x.iso`, filename: 'x.iso' }),
      'VALIDATION',
      /credentials/,
    );
    await fails(
      'download_iso',
      iso({ url: `http://${PUBLIC}/a b.iso`, filename: 'x.iso' }),
      'VALIDATION',
      /whitespace/,
    );
    assert.equal(downloads().length, before);
  });

  test('F7: a name resolving to a private address is refused after resolution', async () => {
    await fails(
      'download_iso',
      iso({ url: 'http://localhost:8006/x.iso', filename: 'x.iso' }),
      'POLICY_DENIED',
      /localhost resolves to .*, which is loopback/,
    );
  });

  test('F9: verify-certificates is not the caller’s to turn off (and PVE is never sent it)', async () => {
    for (const extra of [{ verify_certificates: false }, { 'verify-certificates': 0 }]) {
      await fails(
        'download_iso',
        iso({ url: `https://${PUBLIC}/x.iso`, filename: 'f9.iso', ...extra }),
        'VALIDATION',
      );
    }
    assert.ok(downloads().length > 0);
    for (const r of downloads()) assert.equal(r.body?.['verify-certificates'], undefined);
  });

  test('F10: a checksum is passed with its algorithm; none is sent without; mismatches fail the job, not the server', async () => {
    const url = `https://${PUBLIC}/f10.iso`;
    await fails(
      'download_iso',
      iso({ url, filename: 'f10.iso', checksum_algorithm: 'sha256' }),
      'VALIDATION',
      /checksum_algorithm was given without a checksum/,
    );
    await fails(
      'download_iso',
      iso({ url, filename: 'f10.iso', checksum: digest('sha1', url) }),
      'VALIDATION',
      /checksum has 40 hex digits, but a sha256 digest has 64[\s\S]*sha1/,
    );
    await fails(
      'download_iso',
      iso({ url, filename: 'f10.iso', checksum: 'xyz' }),
      'VALIDATION',
      /hex digest/,
    );
    // a waited-for job that failed is an error result carrying the job (JOB_FAILED)
    const failed = await call(
      'download_iso',
      iso({ url, filename: 'f10.iso', checksum: 'ab'.repeat(16), checksum_algorithm: 'md5', wait: true }),
    );
    assert.equal(failed.isError, true);
    assert.match(resultText(failed), /^JOB_FAILED: /);
    const bad = failed.structuredContent;
    assert.equal(bad.status, 'failed');
    assert.match(bad.exitstatus, /^checksum mismatch: got '[0-9a-f]{32}' != expect 'abab/);
    const plain = await ok('download_iso', iso({ url, filename: 'f10.iso', wait: true }));
    assert.equal(plain.status, 'completed');
    const body = downloads().at(-1)!.body!;
    assert.equal(body.checksum, undefined);
    assert.equal(body['checksum-algorithm'], undefined);
  });

  // ------------------------------------------------------------------------------------------------ delete_iso

  test('D6: delete_iso never matches a substring: "100" does not delete vm-100-disk-0', async () => {
    const seq = lastSeq();
    await fails(
      'delete_iso',
      { node: 'pve1', storage: 'local-lvm', filename: '100' },
      'NOT_FOUND',
      /named exactly '100'/,
    );
    await fails('delete_iso', { node: 'pve1', storage: 'nas', filename: '100' }, 'NOT_FOUND');
    await fails('delete_iso', { node: 'pve1', storage: 'local-lvm', filename: 'vm-100-disk-0' }, 'NOT_FOUND');
    await fails(
      'delete_iso',
      { node: 'pve1', storage: 'local-lvm', filename: 'local-lvm:vm-100-disk-0' },
      'VALIDATION',
      /filename must be a volume ID/,
    );
    await fails('delete_iso', { node: 'pve1', storage: 'nas', filename: 'debian' }, 'NOT_FOUND');
    await fails(
      'delete_iso',
      { node: 'pve1', storage: 'nas', filename: 'debian-12.7.0-amd64-netinst' },
      'NOT_FOUND',
    );
    const backup = (await ok('list_backups', { vmid: 100, storage: 'nas' })).backups[0];
    await fails('delete_iso', { node: 'pve1', storage: 'nas', filename: backup.volid }, 'VALIDATION');
    await fails(
      'delete_iso',
      { node: 'pve1', storage: 'nas', filename: backup.name },
      'NOT_FOUND',
      /No ISO image or container template/,
    );
    assert.deepEqual(mutations(seq), [], 'nothing was deleted');
    const disks = await ok('list_backups', { vmid: 100, storage: 'nas' });
    assert.ok(disks.backups.some((b: any) => b.volid === backup.volid));
    assert.match(
      String(h.sim.cluster.guest(100)!.config.scsi0),
      /^local-lvm:vm-100-disk-0,/,
      'the VM disk is still there',
    );
  });

  test('delete_iso: an exact file name or volume ID; ISOs and templates; REST DELETE', async () => {
    const seq = lastSeq();
    const job = await ok('delete_iso', {
      node: 'pve2',
      storage: 'local',
      filename: 'virtio-win-0.1.266.iso',
      wait: true,
    });
    assert.equal(job.status, 'completed');
    assert.equal(job.metadata.volid, 'local:iso/virtio-win-0.1.266.iso');
    const [del] = mutations(seq);
    assert.equal(del.method, 'DELETE');
    assert.equal(del.path, '/nodes/pve2/storage/local/content/local:iso/virtio-win-0.1.266.iso');
    const left = (await ok('list_isos', { storage: 'local' })).isos
      .filter((i: any) => i.name === 'virtio-win-0.1.266.iso')
      .map((i: any) => i.node);
    assert.deepEqual([...left].sort(), ['pve1', 'pve3'], 'only pve2 lost its copy');

    const tmpl = await ok('delete_iso', {
      node: 'pve1',
      storage: 'nas',
      filename: 'nas:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst',
      wait: true,
    });
    assert.equal(tmpl.status, 'completed');
    assert.ok(
      !(await ok('list_templates', { storage: 'nas' })).templates.some((t: any) =>
        t.name.startsWith('ubuntu'),
      ),
    );
    await fails(
      'delete_iso',
      { node: 'pve1', storage: 'local', filename: 'nas:iso/debian-12.7.0-amd64-netinst.iso' },
      'VALIDATION',
      /another storage/,
    );

    const res = await request(h.url)
      .delete(
        `/nodes/pve3/storage/nas/isos?filename=${encodeURIComponent('ubuntu-24.04.1-live-server-amd64.iso')}&wait=true`,
      )
      .set(h.auth)
      .expect(202);
    assert.equal(res.body.status, 'completed');
    assert.ok(
      !(await ok('list_isos', { storage: 'nas' })).isos.some((i: any) => i.name.startsWith('ubuntu')),
    );
  });
});

describe('download hosts restricted by downloads.allowed_hosts', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ nodes: 1, guests: 2 }, (sim) => ({
      ...testConfig([simulatorTargetConfig(sim)]),
      downloads: { allowedHosts: [PUBLIC, '*.example.org', 'localhost'] },
    }));
  });
  after(() => h.close());
  const download = (url: string) =>
    request(h.url)
      .post('/download_iso')
      .set(h.auth)
      .send({ node: 'pve1', storage: 'local', url, filename: 'x.iso' });

  test('F7/F8: only listed hosts; a listed host still must resolve to public addresses', async () => {
    const other = await download('http://1.1.1.1/x.iso').expect(403);
    assert.equal(other.body.code, 'POLICY_DENIED');
    assert.match(other.body.message, /host '1\.1\.1\.1' is not in downloads\.allowed_hosts/);
    const loop = await download('http://localhost/x.iso').expect(403);
    assert.match(loop.body.message, /loopback/);
    const ok = await download(`http://${PUBLIC}/x.iso`).expect(200);
    assert.equal(ok.body.tool_name, 'download_iso');
    assert.equal(h.sim.requestCount({ method: 'POST', path: /download-url$/ }), 1);
  });
});
