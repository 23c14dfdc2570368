import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import type { AppConfig, SshConfig } from '../../src/config/app-config.js';
import { DomainError } from '../../src/common/errors/domain-error.js';
import { SshExecutor, type SshRunRequest } from '../../src/proxmox/ssh/ssh-executor.js';
import { pctExecLine } from '../../src/proxmox/ssh/shell-quote.js';
import { FakeNodes, NODE_PASSWORD, NODE_USER } from '../helpers/ssh-server.js';
import { testConfig } from '../helpers/test-app.js';
import { generateSshKeyPair, sshKeygenOrSkip } from '../helpers/ssh-keys.js';

const { utils } = ssh2;

/**
 * The SSH executor against a real SSH server in this process (test/helpers/ssh-server.ts) that plays two nodes:
 * host key trust (pins, known_hosts plain/hashed/changed/revoked, unknown), password and key login, exit codes,
 * stdin, the wall-clock timeout, the output cap and cancellation.
 */
describe('SshExecutor against an in-process SSH server', () => {
  let fake: FakeNodes;
  let dir: string;
  let clientKey: ParsedKey;
  let keyFile: string;
  let encryptedKeyFile: string;
  const running = new Set([101, 103]);

  before(async () => {
    Logger.overrideLogger(false);
    dir = mkdtempSync(join(tmpdir(), 'ssh-exec-'));
    const generated = generateSshKeyPair('ed25519');
    clientKey = utils.parseKey(generated.private) as ParsedKey;
    keyFile = join(dir, 'id_ed25519');
    writeFileSync(keyFile, generated.private, { mode: 0o600 });
    const encrypted = generateSshKeyPair('ed25519', {
      passphrase: 'correct horse',
      cipher: 'aes256-cbc',
      rounds: 16,
    });
    encryptedKeyFile = join(dir, 'id_encrypted');
    writeFileSync(encryptedKeyFile, encrypted.private, { mode: 0o600 });
    fake = await FakeNodes.start({
      nodes: ['pve1', 'pve2'],
      clientKey,
      containerStatus: (node, vmid) =>
        node === 'pve1' && vmid >= 100 && vmid < 110
          ? running.has(vmid)
            ? 'running'
            : 'stopped'
          : undefined,
    });
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sshConfig = (overrides: Partial<SshConfig> = {}): SshConfig =>
    fake.sshConfig({ useSudo: false, ...overrides });
  const executor = (ssh: SshConfig | undefined, extra: Partial<AppConfig> = {}) =>
    new SshExecutor({ ...testConfig([]), ...(ssh ? { ssh } : {}), ...extra });
  const request = (argv: string[], overrides: Partial<SshRunRequest> = {}): SshRunRequest => ({
    node: 'pve1',
    command: pctExecLine({ vmid: 101, command: { argv }, useSudo: false, timeoutSeconds: 10 }),
    timeoutSeconds: 10,
    maxOutputBytes: 64 * 1024,
    purpose: 'test',
    ...overrides,
  });
  const unexpected = (): never => {
    throw new Error('expected a rejection');
  };
  const caught = (e: unknown): DomainError => {
    assert.ok(e instanceof DomainError, String(e));
    return e;
  };
  const rejectsWith = async (promise: Promise<unknown>, code: string, message: RegExp) => {
    await assert.rejects(promise, (e: unknown) => {
      assert.ok(e instanceof DomainError, String(e));
      assert.equal(e.code, code, e.message);
      assert.match(e.message, message);
      return true;
    });
  };

  test('a pinned host key and a password: the node receives the exact command line and answers', async () => {
    const before = fake.records.length;
    const result = await executor(sshConfig()).run(request(['echo', 'hello', '; rm -rf /']));
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout.toString(), 'hello ; rm -rf /\n');
    assert.equal(result.timedOut, false);
    assert.equal(result.host, '127.0.0.1');
    const record = fake.records[before];
    assert.equal(
      record.commandLine,
      "timeout --kill-after=5s 10s /usr/sbin/pct exec 101 -- 'echo' 'hello' '; rm -rf /'",
    );
    assert.equal(record.user, NODE_USER);
    assert.equal(record.node, 'pve1');
  });

  test('key authentication, and an encrypted key with its passphrase', async () => {
    const plain = await executor(sshConfig({ password: undefined, keyFile })).run(request(['uname']));
    assert.match(plain.stdout.toString(), /^Linux ct-101 /);
    await rejectsWith(
      executor(sshConfig({ password: undefined, keyFile: encryptedKeyFile })).run(request(['uname'])),
      'UPSTREAM_AUTH',
      /encrypted and ssh\.key_passphrase is missing or wrong/,
    );
    await rejectsWith(
      executor(sshConfig({ password: undefined, keyFile: encryptedKeyFile, keyPassphrase: 'wrong' })).run(
        request(['uname']),
      ),
      'UPSTREAM_AUTH',
      /missing or wrong/,
    );
    // the right passphrase decrypts it; the node does not know this key, so the login itself is refused
    const err = await executor(
      sshConfig({ password: undefined, keyFile: encryptedKeyFile, keyPassphrase: 'correct horse' }),
    )
      .run(request(['uname']))
      .then(unexpected, caught);
    assert.equal(err.code, 'UPSTREAM_AUTH');
    assert.match(
      err.message,
      /SSH login to node pve1 \(mcp-agent@127\.0\.0\.1:\d+\) was refused \(public key/,
    );
    assert.ok(!err.message.includes('correct horse'));
  });

  test('a wrong password is UPSTREAM_AUTH without the password in the message, and nothing runs', async () => {
    const before = fake.records.length;
    const err = await executor(sshConfig({ password: 'not-the-password-77' }))
      .run(request(['uname']))
      .then(unexpected, caught);
    assert.equal(err.code, 'UPSTREAM_AUTH');
    assert.match(err.message, /password authentication failed/);
    assert.ok(
      !JSON.stringify({ m: err.message, h: err.hint, d: err.details }).includes('not-the-password-77'),
    );
    assert.equal(fake.records.length, before);
  });

  test('an unknown host key is refused before login, naming the fingerprint it saw (as ssh-keygen prints it)', async (t) => {
    const before = fake.records.length;
    const err = await executor(sshConfig({ hostKeyFingerprints: {} }))
      .run(request(['uname']))
      .then(unexpected, caught);
    assert.equal(err.code, 'UPSTREAM_TLS');
    assert.match(
      err.message,
      /host key of node pve1 .* is not trusted: the node presented SHA256:\S+ \(ssh-ed25519\)/,
    );
    assert.equal(err.details?.seen_fingerprint, fake.fingerprint('pve1'));
    assert.equal(err.details?.ssh_host_key, 'unknown');
    assert.match(err.hint ?? '', /Nothing was sent/);
    assert.equal(fake.records.length, before, 'no command reached the node');
    if (!sshKeygenOrSkip(t)) return;
    const pub = join(dir, 'node.pub');
    writeFileSync(pub, `${fake.publicKeyLine('pve1')}\n`);
    const printed = execFileSync('ssh-keygen', ['-lf', pub], { encoding: 'utf8' });
    assert.ok(printed.includes(fake.fingerprint('pve1')), `ssh-keygen printed ${printed}`);
  });

  test("a pin that does not match names the expected and the seen fingerprint (another node's key)", async () => {
    const err = await executor(sshConfig({ hostKeyFingerprints: { pve1: fake.fingerprint('pve2') } }))
      .run(request(['uname']))
      .then(unexpected, caught);
    assert.equal(err.code, 'UPSTREAM_TLS');
    assert.match(err.message, /does not match ssh\.host_key_fingerprints\.pve1: expected SHA256:/);
    assert.ok(
      err.message.includes(fake.fingerprint('pve2')) && err.message.includes(fake.fingerprint('pve1')),
    );
    assert.equal(err.details?.ssh_host_key, 'pin_mismatch');
  });

  test('known_hosts: a plain entry is trusted; a hashed one too (ssh-keygen -H)', async (t) => {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `# nodes\n${fake.knownHostsLine('pve1')}\n`);
    const ok = await executor(sshConfig({ hostKeyFingerprints: {}, knownHostsFile: file })).run(
      request(['uname']),
    );
    assert.equal(ok.exitCode, 0);
    if (!sshKeygenOrSkip(t)) return;
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    assert.match(execFileSync('cat', [file], { encoding: 'utf8' }), /^\|1\|/m);
    const hashed = await executor(sshConfig({ hostKeyFingerprints: {}, knownHostsFile: file })).run(
      request(['uname']),
    );
    assert.equal(hashed.exitCode, 0);
  });

  test('known_hosts: another key for the host is a changed key; a @revoked key is refused', async () => {
    const changed = join(dir, 'known_hosts_changed');
    writeFileSync(changed, `[${fake.address('pve1')}]:${fake.port} ${fake.publicKeyLine('pve2')}\n`);
    const err = await executor(sshConfig({ hostKeyFingerprints: {}, knownHostsFile: changed }))
      .run(request(['uname']))
      .then(unexpected, caught);
    assert.equal(err.code, 'UPSTREAM_TLS');
    assert.match(
      err.message,
      /has changed: known_hosts lists SHA256:\S+ \(ssh-ed25519\), the node presented/,
    );
    assert.match(err.hint ?? '', /intercepted/);

    const revoked = join(dir, 'known_hosts_revoked');
    writeFileSync(revoked, `@revoked * ${fake.publicKeyLine('pve1')}\n${fake.knownHostsLine('pve1')}\n`);
    const err2 = await executor(sshConfig({ hostKeyFingerprints: {}, knownHostsFile: revoked }))
      .run(request(['uname']))
      .then(unexpected, caught);
    assert.equal(err2.details?.ssh_host_key, 'revoked');
  });

  test('non-zero exit with stderr only: exit code and stderr kept', async () => {
    const result = await executor(sshConfig()).run(request(['ls', '/nope']));
    assert.equal(result.exitCode, 2);
    assert.equal(result.stdout.length, 0);
    assert.match(result.stderr.toString(), /No such file or directory/);
  });

  test('stdin reaches the command, then EOF', async () => {
    const result = await executor(sshConfig()).run(request(['cat'], { stdin: 'line one\nline two\n' }));
    assert.equal(result.stdout.toString(), 'line one\nline two\n');
  });

  test('a command that never ends is killed by the node at the deadline (timeout → 124) and reported timed out', async () => {
    const result = await executor(sshConfig()).run(
      request(['sleep', '1e9'], {
        command: pctExecLine({
          vmid: 101,
          command: { argv: ['sleep', '1e9'] },
          useSudo: false,
          timeoutSeconds: 1,
        }),
        timeoutSeconds: 1,
      }),
    );
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, 124);
  });

  test('a node that does not end it: we hang up after the kill-after grace period', async () => {
    const hung = await FakeNodes.start({
      nodes: ['pve1'],
      ignoreTimeout: true,
      containerStatus: () => 'running',
    });
    try {
      const result = await executor(
        sshConfig({
          port: hung.port,
          hostOverrides: hung.hostOverrides(),
          hostKeyFingerprints: { pve1: hung.fingerprint('pve1') },
        }),
      ).run(
        request(['sleep', '1e9'], {
          command: pctExecLine({
            vmid: 101,
            command: { argv: ['sleep', '1e9'] },
            useSudo: false,
            timeoutSeconds: 1,
            killAfterSeconds: 1,
          }),
          timeoutSeconds: 1,
          killAfterSeconds: 1,
        }),
      );
      // we hung up: no exit status ever came (ssh2's Server drops signal requests once exec runs, so the KILL we
      // send first is only honoured by a real sshd)
      assert.equal(result.timedOut, true);
      assert.equal(result.exitCode, null);
    } finally {
      await hung.close();
    }
  });

  test('100 MB of output: the first max bytes are kept, the rest counted and dropped, the truncation flagged', async () => {
    const total = 100 * 1024 * 1024;
    const result = await executor(sshConfig()).run(
      request(['head', '-c', String(total), '/dev/zero'], {
        timeoutSeconds: 120,
        maxOutputBytes: 1024 * 1024,
      }),
    );
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdoutBytes, total);
    assert.equal(result.stdout.length, 1024 * 1024);
    assert.equal(result.stdoutTruncated, true);
    assert.equal(result.stderrTruncated, false);
  });

  test('cancellation (the caller went away) closes the session: TIMEOUT', async () => {
    const controller = new AbortController();
    const pending = executor(sshConfig()).run(request(['sleep', '1e9'], { signal: controller.signal }));
    setTimeout(() => controller.abort(), 300);
    await rejectsWith(pending, 'TIMEOUT', /cancelled/);
  });

  test('unreachable: a closed port is UPSTREAM_UNAVAILABLE naming host and port', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await rejectsWith(
      executor(sshConfig({ port, hostOverrides: { pve1: '127.0.0.1' } })).run(request(['uname'])),
      'UPSTREAM_UNAVAILABLE',
      new RegExp(
        `Cannot reach node pve1 \\(mcp-agent@127\\.0\\.0\\.1:${port}\\) over SSH: connection refused`,
      ),
    );
  });

  test('without an ssh section: NOT_IMPLEMENTED naming it', async () => {
    await rejectsWith(executor(undefined).run(request(['uname'])), 'NOT_IMPLEMENTED', /not configured/);
  });

  test('the command text is logged only with logging.log_commands', async () => {
    const lines: string[] = [];
    Logger.overrideLogger({
      log: (m: unknown) => lines.push(String(m)),
      error: () => undefined,
      warn: () => undefined,
      debug: (m: unknown) => lines.push(String(m)),
      verbose: () => undefined,
    });
    try {
      await executor(sshConfig()).run(request(['echo', 'secret-ish-argument']));
      assert.ok(lines.length > 0 && !lines.some((l) => l.includes('secret-ish-argument')), lines.join('\n'));
      lines.length = 0;
      const base = testConfig([]);
      await executor(sshConfig(), { logging: { ...base.logging, logCommands: true } }).run(
        request(['echo', 'secret-ish-argument']),
      );
      assert.ok(lines.some((l) => l.includes('secret-ish-argument')));
      assert.ok(!lines.some((l) => l.includes(NODE_PASSWORD)));
    } finally {
      Logger.overrideLogger(false);
    }
  });
});
