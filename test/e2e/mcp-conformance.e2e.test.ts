import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { API_KEY, startHarness, type Harness } from '../helpers/test-app.js';

/** The generic scenarios of the official MCP conformance suite; the others need its fixture tools. */
const SCENARIOS = [
  'server-initialize',
  'ping',
  'tools-list',
  'logging-set-level',
  'dns-rebinding-protection',
];
const LOG = '.tmp/mcp-conformance.log';

/**
 * The conformance CLI cannot send an Authorization header, so a loopback proxy adds it and forwards Host and
 * Origin unchanged (the DNS-rebinding scenario still tests our Host/Origin checks). The suite needs Node 22,
 * fetched with npx from the npm registry (never a project dependency). Its own summary goes to a log file.
 */
describe('official MCP conformance suite (generic server scenarios)', () => {
  let h: Harness;
  let proxy: http.Server;
  let proxyUrl: string;

  before(async () => {
    h = await startHarness();
    const target = new URL(h.url);
    proxy = http.createServer((req, res) => {
      const up = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, authorization: `Bearer ${API_KEY}` },
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => res.writeHead(502).end());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/mcp`;
  });
  after(async () => {
    await new Promise<void>((r) => proxy.close(() => r()));
    await h.close();
  });

  test('every generic scenario passes', { timeout: 300_000 }, async () => {
    mkdirSync('.tmp', { recursive: true });
    let output = '';
    for (const scenario of SCENARIOS) {
      const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(
          'npx',
          [
            '-y',
            '-p',
            'node@22',
            '-p',
            '@modelcontextprotocol/conformance@0.1.16',
            '--',
            'conformance',
            'server',
          ].concat(['--url', proxyUrl, '--scenario', scenario]),
          { env: { ...process.env, NO_COLOR: '1' } },
        );
        let text = '';
        child.stdout.on('data', (c: Buffer) => (text += c.toString()));
        child.stderr.on('data', (c: Buffer) => (text += c.toString()));
        child.on('close', (c) => resolve({ code: c, out: text }));
      });
      output += `\n=== ${scenario} (exit ${code})\n${out}`;
      writeFileSync(LOG, output);
      assert.equal(code, 0, `conformance scenario ${scenario} failed; see ${LOG}`);
      assert.doesNotMatch(out, /FAILURE/, scenario);
    }
  });
});
