import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultFilesConfig, MAX_FILE_WRITE_BYTES } from '../../src/config/file-policy.defaults.js';
import { redactValue } from '../../src/common/redaction/redactor.js';
import {
  compileFilePolicy,
  compileGlob,
  evaluateFileAccess,
  normaliseGuestPath,
} from '../../src/security/policy/file-path.js';
import { Sandbox, envCredentials, findProblem, minimalFile } from '../config/helpers.js';

const policy = compileFilePolicy(undefined);
const decide = (access: 'read' | 'write', path: string) => {
  const d = evaluateFileAccess(access, path, policy);
  return d.allowed
    ? 'allowed'
    : d.error === 'VALIDATION'
      ? `VALIDATION ${d.message}`
      : `${d.code} ${d.message}`;
};

describe('guest file paths: one normal form, judged by the files rules', () => {
  test('POSIX paths: repeated slashes and "." go, ".." and relative paths are refused', () => {
    assert.deepEqual(normaliseGuestPath('//etc/./ssh//sshd_config/'), {
      kind: 'posix',
      path: '/etc/ssh/sshd_config',
      key: '/etc/ssh/sshd_config',
    });
    assert.match((normaliseGuestPath('/tmp/../etc/shadow') as any).problem, /"\.\." segments/);
    assert.match((normaliseGuestPath('tmp/x') as any).problem, /is not absolute/);
    assert.match((normaliseGuestPath('/tmp/a\nb') as any).problem, /control characters/);
    assert.match((normaliseGuestPath('') as any).problem, /^path: required/);
    assert.match((normaliseGuestPath(42) as any).problem, /^path: must be a string/);
  });

  test('Windows paths: drive upper-cased, sent with backslashes, matched with slashes; tricks refused', () => {
    assert.deepEqual(normaliseGuestPath('c:/Users\\me//notes.txt'), {
      kind: 'windows',
      path: 'C:\\Users\\me\\notes.txt',
      key: 'C:/Users/me/notes.txt',
    });
    for (const [path, why] of [
      ['C:\\a\\..\\Windows\\System32\\config\\SAM', /"\.\."/],
      ['C:\\Windows\\System32\\config\\SAM::$DATA', /alternate data stream/],
      ['C:\\Windows\\System32\\config\\SAM.', /ends in a dot or space/],
      ['C:\\Windows\\System32\\config\\SAM ', /ends in a dot or space/],
      ['C:\\WINDOW~1\\System32', /8\.3 short name/],
      ['\\\\?\\C:\\Windows', /UNC and device paths/],
      ['\\\\server\\share\\x', /UNC and device paths/],
      ['C:relative.txt', /is not absolute/],
    ] as const) {
      assert.match((normaliseGuestPath(path) as any).problem, why, path);
    }
  });

  test('globs: * and ? within a segment, ** across (and the folder itself); drive globs without case', () => {
    const g = compileGlob('/home/*/.ssh/id_*');
    assert.ok(g.re.test('/home/ann/.ssh/id_ed25519'));
    assert.ok(!g.re.test('/home/ann/sub/.ssh/id_rsa'), '* stays inside one segment');
    const proc = compileGlob('/proc/**');
    assert.ok(proc.re.test('/proc') && proc.re.test('/proc/1/environ'));
    assert.ok(!proc.re.test('/processes'));
    const win = compileGlob('?:/Windows/System32/config/**');
    assert.equal(win.kind, 'windows');
    assert.ok(win.re.test('D:/windows/system32/CONFIG/sam'));
    assert.equal(compileGlob('/etc/Shadow').re.test('/etc/shadow'), false, 'POSIX rules keep case');
    assert.ok(compileGlob('/a/**/z').re.test('/a/z') && compileGlob('/a/**/z').re.test('/a/b/c/z'));
    assert.ok(compileGlob('/a.b/[x]').re.test('/a.b/[x]') && !compileGlob('/a.b').re.test('/aXb'));
  });

  test('the defaults: secrets and kernel trees never read; system files, keys and /boot never written', () => {
    for (const path of [
      '/etc/shadow',
      '/etc/shadow-',
      '/etc/gshadow',
      '/root/.ssh/id_rsa',
      '/proc/1/environ',
      '/sys/kernel',
      '/etc/ssh/ssh_host_ed25519_key',
      'C:\\Windows\\System32\\config\\SAM',
    ]) {
      assert.match(decide('read', path), /^FILE_POLICY_DENY_PATH /, path);
    }
    for (const path of [
      '/etc/hostname',
      '/var/log/syslog',
      '/etc/ssh/ssh_host_ed25519_key.pub',
      '/home/ann/.bashrc',
      'C:\\Users\\ann\\notes.txt',
    ]) {
      assert.equal(decide('read', path), 'allowed', path);
    }
    for (const path of [
      '/boot/grub/grub.cfg',
      '/etc/passwd',
      '/etc/sudoers.d/x',
      '/root/.ssh/authorized_keys',
      '/home/ann/.ssh/authorized_keys',
      '/usr/bin/ls',
      '/etc/pve/storage.cfg',
      'C:\\Windows\\win.ini',
    ]) {
      assert.match(decide('write', path), /^FILE_POLICY_DENY_PATH /, path);
    }
    for (const path of [
      '/tmp/x',
      '/etc/motd',
      '/etc/nginx/sites-enabled/app',
      '/srv/www/index.html',
      'C:\\Temp\\setup.ini',
    ]) {
      assert.equal(decide('write', path), 'allowed', path);
    }
    assert.equal(defaultFilesConfig().maxWriteBytes, MAX_FILE_WRITE_BYTES);
    assert.equal(MAX_FILE_WRITE_BYTES, 46080, "PVE's 61440 base64 characters");
  });

  test('a refusal names the path, the rule and the list; an empty allow list allows nothing of that kind', () => {
    assert.equal(
      decide('read', '/etc/shadow'),
      'FILE_POLICY_DENY_PATH Reading /etc/shadow is refused by the rule "/etc/shadow*" in files.read_deny_paths',
    );
    const narrow = compileFilePolicy({ ...defaultFilesConfig(), writeAllowPaths: ['/tmp/**'] });
    const d = evaluateFileAccess('write', 'C:\\Temp\\x', narrow);
    assert.ok(!d.allowed && d.error === 'POLICY_DENIED');
    assert.equal(d.code, 'FILE_POLICY_NOT_ALLOWLISTED');
    assert.match(d.hint, /No Windows path may be written/);
  });

  test('the redactor hides content beside a path or file (tool arguments, PVE parameters), not storage content types', () => {
    assert.deepEqual(redactValue({ path: '/tmp/x', content: 'hello', encoding: 'utf8' }), {
      path: '/tmp/x',
      content: '<redacted>',
      encoding: 'utf8',
    });
    assert.equal(redactValue({ file: '/tmp/x', content: 'aGk=' }).content, '<redacted>');
    assert.equal(redactValue({ storage: 'local', content: 'iso' }).content, 'iso');
  });
});

describe('the files section of the configuration', () => {
  let box: Sandbox;
  before(() => {
    box = new Sandbox();
  });
  after(() => box.remove());

  test('defaults without a section; keys from the file and FILES_* variables', () => {
    assert.deepEqual(box.load(undefined, envCredentials).files, defaultFilesConfig());
    const fromEnv = box.load(undefined, {
      ...envCredentials,
      FILES_WRITE_ALLOW_PATHS: '/tmp/**,C:/Temp/**',
      FILES_MAX_READ_BYTES: '4096',
    });
    assert.deepEqual(fromEnv.files?.writeAllowPaths, ['/tmp/**', 'C:/Temp/**']);
    assert.equal(fromEnv.files?.maxReadBytes, 4096);
    const fromFile = box.load({
      ...minimalFile(),
      files: { read_deny_paths: ['/srv/secret/**'], max_write_bytes: 100 },
    });
    assert.deepEqual(fromFile.files?.readDenyPaths, ['/srv/secret/**']);
    assert.equal(fromFile.files?.maxWriteBytes, 100);
  });

  test('a relative glob and a write cap over what PVE takes are refused, naming the key', () => {
    const problem = findProblem(
      box.problems({ ...minimalFile(), files: { read_allow_paths: ['var/log/**'] } }),
      'files.read_allow_paths',
    );
    assert.match(problem, /absolute path glob/);
    assert.match(
      findProblem(
        box.problems({ ...minimalFile(), files: { max_write_bytes: 46081 } }),
        'files.max_write_bytes',
      ),
      /46080/,
    );
  });
});
