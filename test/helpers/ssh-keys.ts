import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import ssh2 from 'ssh2';

const { utils } = ssh2;

type KeyType = 'ed25519' | 'ecdsa';
type KeyOptions = { passphrase?: string; cipher?: string; rounds?: number; comment?: string };

/**
 * ssh2's `utils.generateKeyPairSync` writes a key that its own `parseKey` (and so its Server and Client) refuses as
 * "Malformed OpenSSH private key" about 3 times in 1,000 (measured: 9 of 3,000 ed25519 pairs). Tests generate
 * several keys per suite, so they take a fresh pair until both halves parse, instead of failing at random.
 */
export function generateSshKeyPair(
  type: KeyType,
  options: KeyOptions = {},
): { private: string; public: string } {
  for (let attempt = 1; ; attempt++) {
    const pair =
      type === 'ed25519'
        ? utils.generateKeyPairSync('ed25519', options)
        : utils.generateKeyPairSync('ecdsa', { bits: 256 as const, ...options });
    const parsedPrivate = utils.parseKey(pair.private, options.passphrase);
    const parsedPublic = utils.parseKey(pair.public);
    if (!(parsedPrivate instanceof Error) && !(parsedPublic instanceof Error)) return pair;
    if (attempt >= 20) throw new Error(`ssh2 produced ${attempt} unparsable ${type} key pairs in a row`);
  }
}

let sshKeygenInstalled: boolean | undefined;

/**
 * For the checks that compare with OpenSSH's own `ssh-keygen`: true when it is installed. Without it a developer's
 * run marks the test skipped, with the reason; CI (whose .ci/run installs openssh-client) fails instead, so the
 * checks never pass without having run.
 */
export function sshKeygenOrSkip(t: TestContext): boolean {
  sshKeygenInstalled ??= spawnSync('ssh-keygen', ['-?']).error === undefined;
  if (sshKeygenInstalled) return true;
  const reason = 'ssh-keygen is not installed (Debian: apt-get install openssh-client)';
  if (process.env.CI) assert.fail(`${reason}; CI runs the checks against it`);
  t.skip(`${reason}: its checks did not run`);
  return false;
}
