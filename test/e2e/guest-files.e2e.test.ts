import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { defaultFilesConfig } from '../../src/config/file-policy.defaults.js';
import { simulatorTargetConfig } from '../../src/simulator/index.js';
import type { SimGuest } from '../../src/simulator/cluster-model.js';
import { guestFile, putGuestFile } from '../../src/simulator/guest-files.js';
import { startHarness, testConfig, withOperator, type Harness } from '../helpers/test-app.js';
import { harnessSuite, resultText, simGuest, simRequests, toolCalls } from '../helpers/tools.js';
import { approveAsOperator } from '../helpers/approvals.js';

/** A marker that must never show up in a log line, an audit row or an approval record. */
const SECRET = 'file-body-marker-7f3a9c';
const READ_CAP = 1024;
const WRITE_CAP = 2048;

/**
 * read_vm_file and write_vm_file over MCP and REST against the schema-checked simulator (its guests have a file
 * store: guest-files.ts). The server runs with small size caps, writes allowed under /tmp, /srv and C:\Temp only,
 * the built-in deny lists, and debug logs in a file, so the suite can look for the content where it must not be.
 */
describe('read_vm_file and write_vm_file', () => {
  let h: Harness;
  let mcp: Client;
  const { call, ok, fails } = toolCalls(() => mcp);
  const { lastSeq, since, mutations } = simRequests(() => h.sim);
  const logFile = join(mkdtempSync(join(tmpdir(), 'pmp-files-')), 'server.log');
  const guest = (vmid: number) => simGuest(h.sim, vmid);
  let linux: SimGuest;
  let windows: SimGuest;
  const agentCalls = (seq: number) => since(seq).filter((r) => r.path.includes('/agent/file-'));

  harnessSuite(
    () =>
      startHarness({ nodes: 2, guests: 16, taskSeconds: 0 }, (sim) => ({
        ...testConfig([simulatorTargetConfig(sim)]),
        logging: { level: 'debug', file: logFile, logCommands: false },
        files: {
          ...defaultFilesConfig(),
          writeAllowPaths: ['/tmp/**', '/srv/**', '?:/Temp/**'],
          maxReadBytes: READ_CAP,
          maxWriteBytes: WRITE_CAP,
        },
      })),
    (started, client) => {
      h = started;
      mcp = client;
      const vms = [...h.sim.cluster.guests()].filter((g) => g.type === 'qemu' && !g.template);
      linux = guest(100);
      linux.config.ostype = 'l26';
      windows = vms.find(
        (g) => g.vmid > 100 && g.status === 'running' && !g.paused && g.agentAvailable !== false,
      )!;
      assert.ok(windows, 'a second running VM with an agent');
      windows.config.ostype = 'win11';
    },
  );

  test('tools/list: both are exec tools (destructive, approval_token accepted) with path, content and encoding', async () => {
    const { tools } = await mcp.listTools();
    const read = tools.find((t) => t.name === 'read_vm_file')!;
    const write = tools.find((t) => t.name === 'write_vm_file')!;
    assert.equal(read.annotations?.destructiveHint, true);
    assert.equal(write.annotations?.destructiveHint, true);
    assert.deepEqual((write.inputSchema as any).required, ['content', 'node', 'path', 'vmid']);
    assert.deepEqual((read.inputSchema as any).required, ['node', 'path', 'vmid']);
    assert.ok(
      (write.inputSchema as any).properties.approval_token,
      'gated like the exec tools when configured',
    );
    assert.deepEqual((read.inputSchema as any).properties.encoding.enum, ['utf8', 'base64']);
  });

  test('a text round trip over MCP: written as base64 with encode 0, read back with decode 0, the same text', async () => {
    const text = `héllo from the agent ${SECRET}\nline two\n`;
    const seq = lastSeq();
    const written = await ok('write_vm_file', {
      node: linux.node,
      vmid: 100,
      path: '/tmp//./hello.txt',
      content: text,
    });
    assert.deepEqual(written, {
      target: written.target,
      node: linux.node,
      vmid: 100,
      path: '/tmp/hello.txt',
      bytes_written: Buffer.byteLength(text),
    });
    const post = mutations(seq).find((r) => r.path.endsWith('/agent/file-write'))!;
    assert.equal(post.body!.file, '/tmp/hello.txt', 'the normalised path is what the agent gets');
    assert.equal(String(post.body!.encode), '0');
    assert.equal(Buffer.from(String(post.body!.content), 'base64').toString('utf8'), text);
    assert.equal(guestFile(linux, '/tmp/hello.txt')?.toString('utf8'), text);

    const r = await call('read_vm_file', { node: linux.node, vmid: 100, path: '/tmp/hello.txt' });
    assert.equal(r.isError, undefined, resultText(r));
    const read = r.structuredContent;
    assert.equal(read.content, text);
    assert.equal(read.encoding, 'utf8');
    assert.equal(read.bytes_read, Buffer.byteLength(text));
    assert.equal(read.truncated, false);
    assert.equal(read.next_offset, undefined);
    assert.ok(resultText(r).includes(text), 'the text beside structuredContent carries the content too');
    const get = since(seq).find((q) => q.path.endsWith('/agent/file-read'))!;
    assert.equal(String(get.query?.decode), '0');
  });

  test('the same over REST (POST …/files/write and …/files/read), and binary content comes back as base64', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const base = `/nodes/${linux.node}/vms/100/files`;
    const written = await request(h.url)
      .post(`${base}/write`)
      .set(h.auth)
      .send({ path: '/srv/blob.bin', content: bytes.toString('base64'), encoding: 'base64' })
      .expect(200);
    assert.equal(written.body.bytes_written, 256);
    assert.deepEqual(guestFile(linux, '/srv/blob.bin'), bytes);

    const read = await request(h.url)
      .post(`${base}/read`)
      .set(h.auth)
      .send({ path: '/srv/blob.bin' })
      .expect(200);
    assert.equal(read.body.encoding, 'base64', 'not UTF-8 text: base64 although utf8 was the default');
    assert.equal(read.body.content, bytes.toString('base64'));
    const viaMcp = await ok('read_vm_file', { node: linux.node, vmid: 100, path: '/srv/blob.bin' });
    assert.deepEqual(viaMcp, read.body);

    const forced = await ok('read_vm_file', {
      node: linux.node,
      vmid: 100,
      path: '/etc/hostname',
      encoding: 'base64',
    });
    assert.equal(Buffer.from(forced.content, 'base64').toString(), `${linux.config.name}\n`);
    await request(h.url)
      .post(`${base}/write`)
      .set(h.auth)
      .send({ path: '/tmp/x', content: 'not base64!', encoding: 'base64' })
      .expect(400)
      .expect((res) => {
        assert.match(res.body.message, /content: not valid base64/);
        assert.ok(!res.body.message.includes('not base64!'), 'the content is not echoed');
      });
  });

  test('size caps: a long file is truncated at files.max_read_bytes with next_offset; over-cap asks are refused before the guest', async () => {
    const first = await ok('read_vm_file', { node: linux.node, vmid: 100, path: '/var/log/syslog' });
    assert.equal(first.truncated, true);
    assert.equal(first.bytes_read, READ_CAP);
    assert.equal(first.max_bytes, READ_CAP);
    assert.equal(first.next_offset, READ_CAP);
    const whole = guestFile(linux, '/var/log/syslog')!;
    const second = await ok('read_vm_file', {
      node: linux.node,
      vmid: 100,
      path: '/var/log/syslog',
      offset: first.next_offset,
      max_bytes: 100,
    });
    assert.equal(second.content, whole.subarray(READ_CAP, READ_CAP + 100).toString());
    assert.equal(second.offset, READ_CAP);

    // a cap that cuts a multi-byte character: the text ends before it and next_offset starts at it
    putGuestFile(linux, '/tmp/euro.txt', '€€€');
    const cut = await ok('read_vm_file', {
      node: linux.node,
      vmid: 100,
      path: '/tmp/euro.txt',
      max_bytes: 4,
    });
    assert.deepEqual([cut.content, cut.bytes_read, cut.next_offset, cut.encoding], ['€', 3, 3, 'utf8']);

    // a file that ends exactly at the cap is not truncated (one byte past the cap is asked for)
    putGuestFile(linux, '/tmp/exact.txt', 'x'.repeat(10));
    const exact = await ok('read_vm_file', {
      node: linux.node,
      vmid: 100,
      path: '/tmp/exact.txt',
      max_bytes: 10,
    });
    assert.equal(exact.truncated, false);

    const seq = lastSeq();
    await fails(
      'read_vm_file',
      { node: linux.node, vmid: 100, path: '/var/log/syslog', max_bytes: READ_CAP + 1 },
      'VALIDATION',
      /max_bytes: 1025 is over this server's read limit of 1024 bytes \(files\.max_read_bytes\)/,
    );
    await fails(
      'write_vm_file',
      { node: linux.node, vmid: 100, path: '/tmp/big.txt', content: 'y'.repeat(WRITE_CAP + 1) },
      'PAYLOAD_TOO_LARGE',
      /content: 2049 bytes is over this server's write limit of 2048 bytes \(files\.max_write_bytes\)/,
    );
    assert.deepEqual(agentCalls(seq), [], 'nothing reached the agent');
  });

  test('policy: deny rules and the allow list are named; ".." and relative paths are refused; nothing reaches the guest', async () => {
    const seq = lastSeq();
    const shadow = await fails(
      'read_vm_file',
      { node: linux.node, vmid: 100, path: '/etc//shadow' },
      'POLICY_DENIED',
      /Reading \/etc\/shadow is refused by the rule "\/etc\/shadow\*" in files\.read_deny_paths/,
    );
    assert.match(shadow, /another spelling/);
    await fails(
      'read_vm_file',
      { node: linux.node, vmid: 100, path: '/root/.ssh/id_ed25519' },
      'POLICY_DENIED',
      /"\/root\/\.ssh\/id_\*"/,
    );
    await fails(
      'read_vm_file',
      { node: linux.node, vmid: 100, path: '/proc/version' },
      'POLICY_DENIED',
      /"\/proc\/\*\*"/,
    );
    await fails(
      'write_vm_file',
      { node: linux.node, vmid: 100, path: '/boot/grub/grub.cfg', content: SECRET },
      'POLICY_DENIED',
      /Writing \/boot\/grub\/grub\.cfg is refused by the rule "\/boot\/\*\*" in files\.write_deny_paths/,
    );
    await fails(
      'write_vm_file',
      { node: linux.node, vmid: 100, path: '/root/notes.txt', content: SECRET },
      'POLICY_DENIED',
      /Writing \/root\/notes\.txt is not allowed: it matches no rule in files\.write_allow_paths/,
    );
    await fails(
      'read_vm_file',
      { node: linux.node, vmid: 100, path: '/tmp/../etc/shadow' },
      'VALIDATION',
      /path: "\.\." segments are not accepted/,
    );
    await fails(
      'read_vm_file',
      { node: linux.node, vmid: 100, path: 'etc/hostname' },
      'VALIDATION',
      /is not absolute/,
    );
    await fails(
      'read_vm_file',
      { node: linux.node, vmid: 100, path: '~/x' },
      'VALIDATION',
      /is not absolute/,
    );
    const rest = await request(h.url)
      .post(`/nodes/${linux.node}/vms/100/files/read`)
      .set(h.auth)
      .send({ path: '/etc/gshadow' })
      .expect(403);
    assert.equal(rest.body.code, 'POLICY_DENIED');
    assert.equal(rest.body.details.policy_code, 'FILE_POLICY_DENY_PATH');
    assert.deepEqual(since(seq), [], 'refused before any PVE request');
  });

  test('Windows guests: drive paths with either slash, matched without case; data streams and POSIX paths are refused', async () => {
    const node = windows.node;
    const vmid = windows.vmid;
    const seq = lastSeq();
    const written = await ok('write_vm_file', {
      node,
      vmid,
      path: 'c:/temp/setup.ini',
      content: '[setup]\r\n',
    });
    assert.equal(written.path, 'C:\\temp\\setup.ini');
    assert.equal(
      mutations(seq).find((r) => r.path.endsWith('/file-write'))!.body!.file,
      'C:\\temp\\setup.ini',
    );
    const read = await ok('read_vm_file', { node, vmid, path: 'C:\\Temp\\SETUP.INI' });
    assert.equal(read.content, '[setup]\r\n');
    await fails(
      'read_vm_file',
      { node, vmid, path: 'c:\\windows\\system32\\config\\sam' },
      'POLICY_DENIED',
      /"\?:\/Windows\/System32\/config\/\*\*"/,
    );
    await fails(
      'read_vm_file',
      { node, vmid, path: 'C:\\Temp\\setup.ini:hidden' },
      'VALIDATION',
      /alternate data stream/,
    );
    await fails('read_vm_file', { node, vmid, path: 'C:\\PROGRA~1\\x.txt' }, 'VALIDATION', /8\.3 short name/);
    await fails('read_vm_file', { node, vmid, path: '\\\\server\\share\\x' }, 'VALIDATION', /UNC/);
    await fails(
      'read_vm_file',
      { node, vmid, path: '/etc/hostname' },
      'VALIDATION',
      /runs Windows; give a drive path/,
    );
    await fails(
      'read_vm_file',
      { node: linux.node, vmid: 100, path: 'C:\\Temp\\setup.ini' },
      'VALIDATION',
      /does not run Windows/,
    );
  });

  test('the guest must be a running VM whose agent answers; a container is refused with the exec tool to use instead', async () => {
    const stopped = [...h.sim.cluster.guests()].find(
      (g) => g.type === 'qemu' && g.status === 'stopped' && !g.template,
    )!;
    const container = [...h.sim.cluster.guests()].find((g) => g.type === 'lxc')!;
    const seq = lastSeq();
    await fails(
      'read_vm_file',
      { node: stopped.node, vmid: stopped.vmid, path: '/etc/hostname' },
      'CONFLICT',
      /is not running \(status: stopped\)/,
    );
    const ct = await fails(
      'write_vm_file',
      { node: container.node, vmid: container.vmid, path: '/tmp/x', content: SECRET },
      'VALIDATION',
      /is a container; files in containers are not available through the QEMU guest agent/,
    );
    assert.match(ct, /execute_container_command/);
    assert.deepEqual(mutations(seq), [], 'nothing was written');

    h.sim.cluster.setAgentRunning(100, false);
    try {
      await fails(
        'read_vm_file',
        { node: linux.node, vmid: 100, path: '/etc/hostname' },
        'CONFLICT',
        /guest agent of VM 100 .* is not answering/,
      );
      await fails(
        'write_vm_file',
        { node: linux.node, vmid: 100, path: '/tmp/y', content: SECRET },
        'CONFLICT',
        /not answering/,
      );
      assert.deepEqual(mutations(seq), [], 'an agent that does not answer is found out before the write');
    } finally {
      h.sim.cluster.setAgentRunning(100, true);
    }
    const saved = linux.config.agent;
    delete linux.config.agent;
    try {
      await fails(
        'read_vm_file',
        { node: linux.node, vmid: 100, path: '/etc/hostname' },
        'CONFLICT',
        /no QEMU guest agent configured/,
      );
    } finally {
      linux.config.agent = saved;
    }
    await fails(
      'read_vm_file',
      { node: linux.node, vmid: 100, path: '/tmp/nope.txt' },
      'NOT_FOUND',
      /\/tmp\/nope\.txt does not exist in VM 100/,
    );
    await fails(
      'write_vm_file',
      { node: linux.node, vmid: 100, path: '/srv/missing/dir/x.txt', content: 'x' },
      'NOT_FOUND',
      /folder/,
    );
    await fails('read_vm_file', { node: linux.node, vmid: 100, path: '/tmp' }, 'VALIDATION', /is a folder/);
  });

  test('the content is in no audit row and no log line; the calls and refusals are audited', async () => {
    const events = await request(h.url).get('/audit/events').set(h.auth).query({ limit: 500 }).expect(200);
    const rows = JSON.stringify(events.body);
    assert.ok(!rows.includes(SECRET), 'no audit row holds the content');
    const list = events.body.events as Array<{
      action: string;
      outcome: string;
      reason?: string;
      details?: any;
    }>;
    assert.ok(list.some((e) => e.action === 'write_vm_file' && e.outcome === 'succeeded'));
    assert.ok(list.some((e) => e.action === 'read_vm_file' && e.outcome === 'succeeded'));
    assert.ok(
      list.some(
        (e) =>
          e.action === 'write_vm_file' &&
          e.outcome === 'denied' &&
          e.details?.policy_code === 'FILE_POLICY_DENY_PATH',
      ),
      rows,
    );
    await sleep(300); // the log file is written asynchronously
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /write_vm_file succeeded/, 'the debug log has the calls');
    assert.ok(!log.includes(SECRET), 'no log line holds the content');
    assert.match(log, /"content\\?":\\?"<redacted>/, 'the content argument is redacted');
  });
});

/** With command_policy.exec_require_approval, both tools need an operator's approval, asked only after every check. */
describe('read_vm_file and write_vm_file with exec approvals', () => {
  let h: Harness;
  let mcp: Client;
  const { call, fails } = toolCalls(() => mcp);
  const { lastSeq, since } = simRequests(() => h.sim);

  harnessSuite(
    () =>
      startHarness({ nodes: 1, guests: 4 }, (sim) =>
        withOperator(testConfig([simulatorTargetConfig(sim)]), { execRequireApproval: true }),
      ),
    (started, client) => {
      h = started;
      mcp = client;
      simGuest(h.sim, 100).config.ostype = 'l26';
    },
  );

  test('a refused path asks nobody; an allowed one is approved for exactly that content, then written once', async () => {
    const node = simGuest(h.sim, 100).node;
    let seq = lastSeq();
    await fails(
      'write_vm_file',
      { node, vmid: 100, path: '/etc/sudoers', content: SECRET },
      'POLICY_DENIED',
      /"\/etc\/sudoers"/,
    );
    // (a POLICY_DENIED, not APPROVAL_REQUIRED: the policy guard runs before the approval guard)

    const args = { node, vmid: 100, path: '/tmp/approved.txt', content: `${SECRET}\n` };
    const refused = await call('write_vm_file', args);
    assert.match(resultText(refused), /^APPROVAL_REQUIRED: /);
    assert.deepEqual(
      since(seq).filter((r) => r.path.includes('/agent/file-')),
      [],
      'nothing written before approval',
    );
    const id = /Approval request ([0-9a-f-]{36})/.exec(resultText(refused))![1];
    const record = await request(h.url).get(`/approvals/${id}`).set(h.auth).expect(200);
    assert.ok(!JSON.stringify(record.body).includes(SECRET), 'the approval record does not hold the content');
    const token = await approveAsOperator(h.url, id);

    const other = await call('write_vm_file', { ...args, content: 'something else', approval_token: token });
    assert.match(resultText(other), /granted for a different call/, 'the token is bound to the content');
    assert.equal(guestFile(simGuest(h.sim, 100), '/tmp/approved.txt'), undefined, 'nothing written with it');
    const fresh = await call('write_vm_file', args);
    const token2 = await approveAsOperator(
      h.url,
      /Approval request ([0-9a-f-]{36})/.exec(resultText(fresh))![1],
    );
    const done = await call('write_vm_file', { ...args, approval_token: token2 });
    assert.equal(done.isError, undefined, resultText(done));
    assert.equal(guestFile(simGuest(h.sim, 100), '/tmp/approved.txt')?.toString(), `${SECRET}\n`);

    seq = lastSeq();
    const read = await call('read_vm_file', { node, vmid: 100, path: '/tmp/approved.txt' });
    assert.match(resultText(read), /^APPROVAL_REQUIRED: /);
    assert.deepEqual(
      since(seq).filter((r) => r.path.includes('/agent/file-read')),
      [],
      'the file is not read before the approval',
    );
  });
});
