import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, TOKEN, envCredentials, findProblem, minimalFile } from './helpers.js';

const INSECURE =
  'Insecure TLS configuration blocked: set proxmox.verify_ssl=true. Only dev_mode=true can allow verify_ssl=false.';

const target = (host: string, extra: object = {}) => ({
  proxmox: { host },
  auth: { user: 'mcp@pve', token_name: 'mcp', token_value: TOKEN },
  ...extra,
});

describe('multi-target configuration', () => {
  let box: Sandbox;
  before(() => {
    box = new Sandbox();
  });
  after(() => box.remove());

  test('targets are parsed in file order with their own settings', () => {
    const config = box.load({
      targets: {
        prod: target('pve-prod.example.com', { description: 'Production' }),
        'lab-2.home': { ...target('10.0.0.5'), read_only: true, proxmox: { host: '10.0.0.5', port: 443 } },
      },
    });
    assert.deepEqual(
      config.targets.map((t) => ({
        name: t.name,
        host: t.host,
        port: t.port,
        ro: t.readOnly,
        d: t.description,
      })),
      [
        { name: 'prod', host: 'pve-prod.example.com', port: 8006, ro: false, d: 'Production' },
        { name: 'lab-2.home', host: '10.0.0.5', port: 443, ro: true, d: undefined },
      ],
    );
  });

  test('targets cannot be mixed with top-level proxmox/auth', () => {
    const problems = box.problems({ ...minimalFile(), targets: { prod: target('pve.example.com') } });
    assert.deepEqual(problems, [
      'proxmox: not allowed together with targets; move it into targets.<name>.proxmox',
      'auth: not allowed together with targets; move it into targets.<name>.auth',
    ]);
  });

  test('target names, entries and their keys are validated with full paths', () => {
    const problems = box.problems({
      targets: {
        'bad name!': target('a.example.com'),
        lab: { proxmox: { host: 'lab.example.com', prot: 8006 }, read_only: 'yes' },
        empty: null,
      },
    });
    assert.match(findProblem(problems, 'targets.bad name!:'), /target name "bad name!" is not allowed/);
    assert.match(findProblem(problems, 'targets.lab.proxmox.prot'), /unknown key/);
    assert.match(findProblem(problems, 'targets.lab.read_only'), /got "yes"; expected true or false/);
    findProblem(problems, 'targets.lab.auth.user: missing');
    findProblem(problems, 'targets.lab.auth.token_value: missing');
    assert.match(findProblem(problems, 'targets.empty:'), /got null; expected an object/);
  });

  test('an empty targets object is an error', () => {
    assert.match(box.problems({ targets: {} })[0], /^targets: got an object; expected at least one target/);
  });
});

describe('TLS settings', () => {
  let box: Sandbox;
  before(() => {
    box = new Sandbox();
  });
  after(() => box.remove());

  test('verify_ssl=false is blocked without dev_mode, with the reference message', () => {
    const file = minimalFile();
    file.proxmox.verify_ssl = false;
    const problem = findProblem(box.problems(file), 'proxmox.verify_ssl');
    assert.ok(problem.startsWith(`proxmox.verify_ssl: ${INSECURE}`), problem);

    const envProblem = findProblem(
      box.problems(undefined, { ...envCredentials, PROXMOX_VERIFY_SSL: 'false' }),
      'PROXMOX_VERIFY_SSL',
    );
    assert.ok(envProblem.includes(INSECURE) && envProblem.includes('PROXMOX_DEV_MODE=true'), envProblem);

    const multi = box.problems({
      targets: {
        lab: { ...target('lab.example.com'), proxmox: { host: 'lab.example.com', verify_ssl: false } },
      },
    });
    assert.ok(findProblem(multi, 'targets.lab.proxmox.verify_ssl').includes(INSECURE));
  });

  test('verify_ssl=false next to a fingerprint or CA file says they contradict and to remove one, not to pin', () => {
    const fp = 'AB:'.repeat(31) + 'AB';
    const envProblem = findProblem(
      box.problems(undefined, { ...envCredentials, PROXMOX_VERIFY_SSL: 'false', PROXMOX_FINGERPRINT: fp }),
      'PROXMOX_VERIFY_SSL',
    );
    assert.ok(!envProblem.includes('pin it with'), envProblem);
    assert.match(
      envProblem,
      /PROXMOX_VERIFY_SSL=false turns certificate checks off, but PROXMOX_FINGERPRINT pins/,
    );
    assert.match(envProblem, /Remove one of them, whichever you intend/);
    assert.match(
      envProblem,
      /remove PROXMOX_VERIFY_SSL;.*PROXMOX_DEV_MODE=true\), remove PROXMOX_FINGERPRINT\./,
    );

    const file = minimalFile();
    file.proxmox.verify_ssl = false;
    file.proxmox.fingerprint = fp;
    const fileProblem = findProblem(box.problems(file), 'proxmox.verify_ssl');
    assert.match(fileProblem, /but proxmox\.fingerprint pins the certificate: they contradict/);
    assert.match(
      fileProblem,
      /remove proxmox\.verify_ssl;.*security\.dev_mode=true\), remove proxmox\.fingerprint\./,
    );
    // with dev_mode both may stay; the pin wins (tls.ts)
    assert.equal(box.load({ ...file, security: { dev_mode: true } }).targets[0].fingerprint, fp);
  });

  test('verify_ssl=false is allowed with security.dev_mode=true (file) or PROXMOX_DEV_MODE=true (env)', () => {
    const file = { ...minimalFile(), security: { dev_mode: true } };
    file.proxmox.verify_ssl = false;
    const config = box.load(file);
    assert.equal(config.targets[0].verifySsl, false);
    assert.equal(config.security.devMode, true);
    const fromEnv = box.load(undefined, {
      ...envCredentials,
      PROXMOX_VERIFY_SSL: 'false',
      PROXMOX_DEV_MODE: 'true',
    });
    assert.equal(fromEnv.targets[0].verifySsl, false);
  });

  test('fingerprints are normalised to upper-case colon hex, with or without colons, any case', () => {
    const hex = '0123456789abcdef'.repeat(4);
    const expected = hex.toUpperCase().match(/.{2}/g)!.join(':');
    for (const input of [hex, hex.toUpperCase(), hex.match(/.{2}/g)!.join(':'), `  ${expected} `]) {
      const file = minimalFile();
      file.proxmox.fingerprint = input;
      assert.equal(box.load(file).targets[0].fingerprint, expected, input);
    }
  });

  test('fingerprints that are not SHA-256 hex are refused', () => {
    const bad = [
      'ab'.repeat(20), // SHA-1 size
      `sha256//${'AB'.repeat(32)}`,
      'zz'.repeat(32),
      `A:${'BC:'.repeat(31)}D`,
    ];
    for (const fingerprint of bad) {
      const file = minimalFile();
      file.proxmox.fingerprint = fingerprint;
      const problem = findProblem(box.problems(file), 'proxmox.fingerprint');
      assert.match(problem, /expected a SHA-256 certificate fingerprint: 64 hex digits/);
    }
    const file = minimalFile();
    file.proxmox.fingerprint = 'ab'.repeat(20);
    assert.match(box.problems(file)[0], /that is 20 bytes; a SHA-256 fingerprint has 32/);
  });

  test('ca_file must exist, be readable and hold a PEM certificate', () => {
    const pem = box.write(
      'pve-root-ca.pem',
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    );
    const file = minimalFile();
    file.proxmox.ca_file = 'pve-root-ca.pem';
    assert.equal(box.load(file).targets[0].caFile, pem);

    file.proxmox.ca_file = 'missing.pem';
    assert.match(
      findProblem(box.problems(file), 'proxmox.ca_file'),
      /missing\.pem\): the file does not exist/,
    );

    box.write('key.pem', '-----BEGIN PRIVATE KEY-----\n');
    file.proxmox.ca_file = 'key.pem';
    assert.match(findProblem(box.problems(file), 'proxmox.ca_file'), /holds no PEM certificate/);
  });

  test('host must be a bare host name or address; IPv6 brackets are removed', () => {
    const file = minimalFile();
    file.proxmox.host = '[fd00::10]';
    assert.equal(box.load(file).targets[0].host, 'fd00::10');
    for (const host of ['pve.example.com:8006', 'pve/x', 'pve example', '']) {
      file.proxmox.host = host;
      findProblem(box.problems(file), 'proxmox.host: got');
    }
  });

  test('auth values are checked against PVE formats, with a hint for user@realm!token', () => {
    const file = minimalFile();
    file.auth.user = 'root@pam!mcp';
    file.auth.token_name = '1x';
    const problems = box.problems(file);
    assert.match(
      findProblem(problems, 'auth.user'),
      /expected user@realm, e\.g\. root@pam \(without "!tokenname"/,
    );
    assert.match(findProblem(problems, 'auth.token_name'), /got "1x"; expected a token ID/);
  });
});
