import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  REDACTED,
  isSecretKey,
  redactText,
  redactValue,
  rememberSecrets,
} from '../../src/common/redaction/redactor.js';

/** Table H (H2-H4) on the one redactor every log line, error body, audit row and job row goes through. */
describe('the redactor', () => {
  test('H2: PVEAPIToken=… inside free text, whatever surrounds it', () => {
    const token = 'PVEAPIToken=root@pam!mcp=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
    for (const text of [
      `401 ${token}`,
      `{"error":"${token}"}`,
      `header '${token}';next`,
      `PVEAPIToken root@pam!mcp=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee`,
    ]) {
      const out = redactText(text);
      assert.ok(!out.includes('aaaaaaaa-bbbb'), out);
      assert.match(out, /PVEAPIToken=<redacted>/);
    }
  });

  test('Bearer/Basic credentials and key=value / "key": "value" pairs', () => {
    assert.equal(redactText('Authorization: Bearer abcdefgh12345678'), 'Authorization: Bearer <redacted>');
    assert.equal(redactText('Basic dXNlcjpwYXNzd29yZA=='), 'Basic <redacted>');
    assert.equal(redactText('Basic is refused here'), 'Basic is refused here', 'prose stays readable');
    assert.equal(
      redactText('password=hunter2 token_value=xyz token_name=mcp cipassword: abc'),
      'password=<redacted> token_value=<redacted> token_name=mcp cipassword: <redacted>',
    );
    assert.equal(
      redactText('{"approval_token": "with spaces in it", "user": "x"}'),
      '{"approval_token": "<redacted>", "user": "x"}',
    );
    assert.equal(redactText('a=1&api_key=k%20y&b=2'), 'a=1&api_key=<redacted>&b=2');
  });

  test('URL credentials, PEM private keys (also cut off), approval tokens', () => {
    assert.equal(redactText('postgres://mcp:s3cr3t@db:5432/jobs'), 'postgres://mcp:<redacted>@db:5432/jobs');
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----';
    assert.equal(redactText(`key:\n${pem}\nafter`), 'key:\n<redacted private key>\nafter');
    assert.equal(redactText('-----BEGIN RSA PRIVATE KEY-----\nMIIEow'), '<redacted private key>');
    assert.equal(redactText('use pmpa_Zx8-kP2qR7sT9uVw'), 'use pmpa_<redacted>');
  });

  test('configured secrets are replaced wherever they appear, also URL-encoded', () => {
    rememberSecrets(['weird/secret+value=1', 'short']);
    assert.equal(redactText('got weird/secret+value=1 back'), `got ${REDACTED} back`);
    assert.equal(redactText(`q=${encodeURIComponent('weird/secret+value=1')}`), `q=${REDACTED}`);
    assert.equal(redactText('a short word'), 'a short word', 'too short to be remembered');
  });

  test('H3: secret keys at any depth, in arrays, without touching the input', () => {
    const input = {
      a: { b: { c: { d: { e: { password: 'p1' } } } } },
      list: [{ token_value: 't1' }, { sshkeys: 'ssh-ed25519 AAAA… me' }],
      tokenName: 'mcp',
      require_approval_token: true,
      approval_token: null,
      note: 'Bearer abcdefgh12345678',
    };
    const out = redactValue(input);
    assert.deepEqual(out, {
      a: { b: { c: { d: { e: { password: REDACTED } } } } },
      list: [{ token_value: REDACTED }, { sshkeys: REDACTED }],
      tokenName: 'mcp',
      require_approval_token: true,
      approval_token: null,
      note: `Bearer ${REDACTED}`,
    });
    assert.equal(input.a.b.c.d.e.password, 'p1', 'the original is unchanged');
  });

  test('H4: cloud-init and container passwords, SSH key lists, private keys by key name', () => {
    for (const key of [
      'password',
      'cipassword',
      'ciPassword',
      'ssh_public_keys',
      'sshkeys',
      'private_key',
      'apiKey',
      'X-Approval-Token',
      'Authorization',
    ]) {
      assert.ok(isSecretKey(key), key);
    }
    for (const key of ['token_name', 'tokenName', 'user', 'name', 'vmid', 'passthrough']) {
      assert.ok(!isSecretKey(key), key);
    }
  });

  test('command text is hidden unless logging.log_commands', () => {
    assert.deepEqual(redactValue({ command: 'cat /etc/shadow' }), { command: REDACTED });
    assert.deepEqual(redactValue({ command: 'uptime' }, { keepCommands: true }), { command: 'uptime' });
    // even kept, secrets inside a command are still scrubbed
    assert.deepEqual(redactValue({ command: 'mysql --password=s3cret' }, { keepCommands: true }), {
      command: 'mysql --password=<redacted>',
    });
  });

  test('errors, cycles, buffers and deep nesting are handled without throwing', () => {
    const err = Object.assign(new Error('failed with Bearer abcdefgh12345678'), { code: 'E_X' });
    const out = redactValue({ err }) as { err: { message: string; code: string; stack: string } };
    assert.equal(out.err.message, 'failed with Bearer <redacted>');
    assert.equal(out.err.code, 'E_X');
    assert.ok(!out.err.stack.includes('abcdefgh12345678'));
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.deepEqual(redactValue(cyclic), { a: 1, self: '<circular>' });
    assert.deepEqual(redactValue({ b: Buffer.from('secret') }), { b: '<binary 6 bytes>' });
    let deep: unknown = 'leaf';
    for (let i = 0; i < 1000; i++) deep = { d: deep };
    assert.doesNotThrow(() => redactValue(deep));
  });
});
