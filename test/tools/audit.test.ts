import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// `npm run audit` is scripts/audit.mjs running the real `npm audit --omit=dev` on this repository. The advisory
// service is played by a loopback server that npm is pointed at (npm_config_registry), as a registry mirror would
// be: what the script decides from npm's real answers is what is tested.
const SCRIPT = fileURLToPath(new URL('../../../scripts/audit.mjs', import.meta.url));

type Advisories = Record<string, unknown[]>;

describe('scripts/audit.mjs against a loopback advisory service', () => {
  let server: Server;
  let registry: string;
  let answer: { status: number; body: Advisories | string } = { status: 200, body: {} };
  // npm caches what it computed per advisory: a cache of our own keeps runs apart from each other and the user's
  const cache = mkdtempSync(join(tmpdir(), 'pmp-audit-cache-'));

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'POST' && req.url?.endsWith('/-/npm/v1/security/advisories/bulk')) {
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
        } else {
          // package documents (npm asks for them to say whether a fix exists): not needed here
          res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registry = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(cache, { recursive: true, force: true });
  });

  function audit(registryUrl = registry): Promise<{ status: number | null; out: string }> {
    const { NODE_V8_COVERAGE: _notOurCode, ...env } = process.env;
    return new Promise((resolve, reject) => {
      // async spawn: the loopback registry answers from this process's event loop
      const child = spawn(process.execPath, [SCRIPT], {
        env: { ...env, npm_config_registry: registryUrl, npm_config_cache: cache },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.once('error', reject);
      child.once('close', (status) => resolve({ status, out }));
    });
  }

  test('a critical advisory for a runtime package fails with the package and the advisory named', async () => {
    answer = {
      status: 200,
      body: {
        busboy: [
          {
            id: 1,
            url: 'https://advisories.invalid/1',
            title: 'Test advisory: request smuggling',
            severity: 'critical',
            vulnerable_versions: '<=1.6.0',
            cwe: [],
            cvss: { score: 9.1, vectorString: null },
          },
        ],
      },
    };
    const r = await audit();
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /npm audit: \d+ runtime dependencies checked; [1-9]\d* critical/);
    assert.match(
      r.out,
      /critical: busboy.*Test advisory: request smuggling \(https:\/\/advisories\.invalid\/1\)/,
    );
    assert.match(r.out, /npm audit: FAILED — \d+ high or critical advisories in what ships/);
  });

  test('moderate advisories are listed but do not fail', async () => {
    answer = {
      status: 200,
      body: {
        busboy: [
          {
            id: 2,
            url: 'https://advisories.invalid/2',
            title: 'Test advisory: slow parsing',
            severity: 'moderate',
            vulnerable_versions: '<=1.6.0',
            cwe: [],
            cvss: { score: 5, vectorString: null },
          },
        ],
      },
    };
    const r = await audit();
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /moderate: busboy.*Test advisory: slow parsing/);
    assert.match(r.out, /npm audit: OK — no high or critical advisories/);
  });

  test('no advisories: OK with the counts', async () => {
    answer = { status: 200, body: {} };
    const r = await audit();
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /0 critical, 0 high, 0 moderate, 0 low, 0 info/);
  });

  test('a registry without the audit endpoint (this machine: 405) is NOT CHECKED, exit 3, never a pass', async () => {
    answer = { status: 405, body: '' };
    const r = await audit();
    assert.equal(r.status, 3, r.out);
    assert.match(
      r.out,
      /^npm audit: NOT CHECKED — the advisory service could not be reached \(405 Method Not Allowed - POST .*advisories\/bulk\)$/m,
    );
  });

  test('an unreachable service is NOT CHECKED with the reason, exit 3', async () => {
    // a port nobody listens on: the server's own port once closed would race, so use a fresh closed one
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await audit(`http://127.0.0.1:${port}/`);
    assert.equal(r.status, 3, r.out);
    assert.match(r.out, /NOT CHECKED — the advisory service could not be reached \(.*ECONNREFUSED/);
  });
});
