import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import {
  decideHostKey,
  hostFieldMatches,
  knownHostsName,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  sshFingerprint,
} from '../../src/proxmox/ssh/host-keys.js';
import { describeConfig } from '../../src/config/config.describe.js';
import { Sandbox, findProblem, minimalFile } from '../config/helpers.js';
import { generateSshKeyPair } from '../helpers/ssh-keys.js';

const { utils } = ssh2;
const blobOf = (type: 'ed25519' | 'ecdsa') => {
  const generated = generateSshKeyPair(type);
  return (utils.parseKey(generated.public) as ParsedKey).getPublicSSH();
};
const line = (hosts: string, blob: Buffer, type = 'ssh-ed25519') =>
  `${hosts} ${type} ${blob.toString('base64')}`;

describe('SSH host key trust (known_hosts and pins)', () => {
  const key = blobOf('ed25519');
  const other = blobOf('ed25519');

  test('host patterns: lists, wildcards, negation, case, [host]:port', () => {
    assert.ok(hostFieldMatches('pve1,pve2', 'pve2'));
    assert.ok(hostFieldMatches('PVE*.lab', 'pve7.lab'));
    assert.ok(hostFieldMatches('pve?', 'pve3'));
    assert.ok(!hostFieldMatches('pve?', 'pve10'));
    assert.ok(!hostFieldMatches('*.lab,!evil.lab', 'evil.lab'), 'a matching negation wins');
    assert.ok(hostFieldMatches('[10.0.0.5]:2222', knownHostsName('10.0.0.5', 2222)));
    assert.ok(
      !hostFieldMatches('10.0.0.5', knownHostsName('10.0.0.5', 2222)),
      'port 22 entries do not cover 2222',
    );
    assert.equal(knownHostsName('pve1', 22), 'pve1');
  });

  test('hashed entries (|1|salt|HMAC-SHA1) match exactly their host', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[pve1]:2222').digest();
    const field = `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
    assert.ok(hostFieldMatches(field, '[pve1]:2222'));
    assert.ok(!hostFieldMatches(field, 'pve1'));
    assert.ok(!hostFieldMatches('|1|bad|entry', 'pve1'));
  });

  test('parsing skips comments, unknown markers and lines whose blob is not the named key type', () => {
    const entries = parseKnownHosts(
      [
        '# comment',
        '',
        line('pve1', key),
        `pve2 ssh-rsa ${key.toString('base64')}`,
        '@weird pve3 ssh-ed25519 AAAA',
        `@revoked pve4 ${line('', key).trim()}`,
        'garbage',
      ].join('\n'),
    );
    assert.deepEqual(
      entries.map((e) => [e.hosts, e.marker ?? null, e.line]),
      [
        ['pve1', null, 3],
        ['pve4', 'revoked', 6],
      ],
    );
  });

  test('decisions: pin decides alone; known_hosts accepts, reports changed, revoked or unknown', () => {
    const known = parseKnownHosts(
      `${line('pve1', key)}\n${line('pve2', other)}\n@revoked * ${line('', other).trim()}`,
    );
    assert.deepEqual(decideHostKey(key, { pin: sshFingerprint(key), names: ['pve1'] }), {
      trusted: true,
      via: 'fingerprint',
    });
    const mismatch = decideHostKey(key, { pin: sshFingerprint(other), knownHosts: known, names: ['pve1'] });
    assert.equal(mismatch.trusted, false);
    assert.deepEqual(decideHostKey(key, { knownHosts: known, names: ['pve1'] }), {
      trusted: true,
      via: 'known_hosts',
    });
    const changed = decideHostKey(other, { knownHosts: known, names: ['pve1'] });
    assert.ok(
      !changed.trusted && changed.reason === 'revoked',
      'the revoked key is refused before anything else',
    );
    const third = blobOf('ed25519');
    const changedKey = decideHostKey(third, { knownHosts: known, names: ['pve1'] });
    assert.ok(!changedKey.trusted && changedKey.reason === 'changed');
    assert.deepEqual(changedKey.expected, [`${sshFingerprint(key)} (ssh-ed25519)`]);
    const unknown = decideHostKey(third, { knownHosts: known, names: ['pve9'] });
    assert.ok(!unknown.trusted && unknown.reason === 'unknown' && unknown.seen === sshFingerprint(third));
    assert.ok(!decideHostKey(key, { names: ['pve1'] }).trusted, 'nothing configured: never trusted');
  });

  test('the key types known_hosts lists for the host are offered first', () => {
    const ecdsa = blobOf('ecdsa');
    const known = parseKnownHosts(line('pve1', ecdsa, 'ecdsa-sha2-nistp256'));
    const order = preferredHostKeyAlgorithms({ knownHosts: known, names: ['pve1'] }, [
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'rsa-sha2-512',
    ]);
    assert.deepEqual(order, ['ecdsa-sha2-nistp256', 'ssh-ed25519', 'rsa-sha2-512']);
    assert.deepEqual(preferredHostKeyAlgorithms({ pin: 'SHA256:x', names: [] }, ['a', 'b']), ['a', 'b']);
  });
});

describe('ssh configuration keys for the executor', () => {
  const box = new Sandbox();
  after(() => box.remove());

  test('key_passphrase is a secret (never shown), connect_timeout an integer 1-300', () => {
    const key = box.write('keys/id_ed25519', 'key');
    const config = box.load({
      ...minimalFile(),
      ssh: { key_file: key, key_passphrase: 'pass-phrase-42', connect_timeout: 20 },
    });
    assert.equal(config.ssh?.keyPassphrase, 'pass-phrase-42');
    assert.equal(config.ssh?.connectTimeoutSeconds, 20);
    const shown = JSON.stringify(describeConfig(config));
    assert.ok(!shown.includes('pass-phrase-42'));
    assert.match(shown, /"connect_timeout":20/);
    const problems = box.problems({
      ...minimalFile(),
      ssh: { key_file: key, connect_timeout: 0, key_passphrase: 7 },
    });
    assert.match(findProblem(problems, 'ssh.connect_timeout'), /an integer 1-300/);
    findProblem(problems, 'ssh.key_passphrase');
  });
});
