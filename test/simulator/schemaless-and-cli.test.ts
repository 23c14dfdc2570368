import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { Agent, request } from 'undici';
import { NO_SCHEMA_WARNING, PveSimulator } from '../../src/simulator/index.js';
import { parseSimulatorArgs } from '../../src/simulator/cli.js';
import { SCHEMA_PATH, SimClient, type Json } from '../helpers/sim-client.js';

describe('simulator without a schema file', () => {
  test('warns once per process on stderr and still serves (unchecked)', async () => {
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string | Uint8Array, ...rest: never[]) => {
      written.push(String(chunk));
      return original(chunk, ...rest);
    };
    let first: PveSimulator | undefined;
    let second: PveSimulator | undefined;
    try {
      first = await PveSimulator.start({ schemaPath: null });
      second = await PveSimulator.start({ schemaPath: null });
    } finally {
      process.stderr.write = original;
    }
    const client = new SimClient(first);
    try {
      assert.equal(written.filter((w) => w.includes(NO_SCHEMA_WARNING)).length, 1);
      assert.equal(first.schemaChecked, false);
      assert.equal((await client.get('/version')).status, 200);
      const unchecked = await client.get('/cluster/resources?type=qemu');
      assert.equal(unchecked.status, 200, 'no schema, no parameter check');
      assert.equal(first.schemaViolations().length, 0);
      const unknown = await client.get('/foo');
      assert.equal(unknown.status, 501);
      assert.equal(unknown.reason, "Method 'GET /foo' not implemented by the PVE simulator");
      first.cluster.setNodeOnline('pve3', false);
      assert.equal((await client.get('/nodes/pve3/status')).status, 595, 'node proxying still applies');
      assert.equal((await client.get('/version', { auth: false })).status, 401);
    } finally {
      await client.close();
      await first.stop();
      await second.stop();
    }
  });

  test('a schemaPath that does not exist is an error, not a silent unchecked run', async () => {
    await assert.rejects(PveSimulator.start({ schemaPath: '/nonexistent/apidoc.json' }), /does not exist/);
  });

  test('bad options are refused with the option named', async () => {
    await assert.rejects(PveSimulator.start({ nodes: 0 }), /nodes/);
    await assert.rejects(PveSimulator.start({ guests: -1 }), /guests/);
    await assert.rejects(PveSimulator.start({ token: 'root@pam=secret' }), /USER@REALM!TOKENNAME=SECRET/);
    await assert.rejects(PveSimulator.start({ standalone: true, nodes: 3 }), /standalone/);
  });
});

describe('proxmox-mcp-plus simulator (CLI)', () => {
  test('parses its flags strictly', () => {
    assert.deepEqual(
      parseSimulatorArgs(['--port', '0', '--nodes', '2', '--guests', '4', '--task-seconds', '0.5']),
      {
        port: 0,
        host: '127.0.0.1',
        nodes: 2,
        guests: 4,
        taskSeconds: 0.5,
      },
    );
    assert.equal(parseSimulatorArgs(['--ssh'])?.ssh, true);
    assert.equal(parseSimulatorArgs([])?.ssh, undefined);
    assert.equal(parseSimulatorArgs(['--help']), undefined);
    assert.throws(() => parseSimulatorArgs(['--nodes', 'abc']), /--nodes: got "abc"/);
    assert.throws(() => parseSimulatorArgs(['--task-seconds', '-1']), /--task-seconds/);
    assert.throws(() => parseSimulatorArgs(['--token', 'nobang=x']), /--token/);
    assert.throws(() => parseSimulatorArgs(['--nodez', '2']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  });

  test('bad values exit 2 with the message on stderr', () => {
    const r = spawnSync(process.execPath, ['bin/proxmox-mcp-plus.js', 'simulator', '--guests', 'many'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--guests: got "many"/);
  });

  test('prints URL, token, fingerprint and a curl line, serves, and stops on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [
        'bin/proxmox-mcp-plus.js',
        'simulator',
        '--port',
        '0',
        '--nodes',
        '2',
        '--guests',
        '4',
        '--token',
        'root@pam!ci=s3cret-Value',
        '--ssh',
      ],
      { env: { ...process.env, PVE_API_SCHEMA: SCHEMA_PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 15_000;
      while (!out.includes('Ctrl+C') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /API token: +root@pam!ci=s3cret-Value/);
      assert.match(out, /Certificate: +SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
      assert.match(out, /schema checks on/);
      assert.match(
        out,
        /SSH: +root@127\.0\.0\.1 port \d+, password \S+\n +\(host key SHA256:\S+; answers pct exec/,
      );
      assert.match(
        out,
        /curl --cacert \S+ -H 'Authorization: PVEAPIToken=root@pam!ci=s3cret-Value' https:\/\/127\.0\.0\.1:\d+\/api2\/json\//,
      );
      const url = /API URL: +(https:\/\/\S+)/.exec(out)![1];
      const pem = /PEM at (\S+)\)/.exec(out)![1];
      const { readFileSync } = await import('node:fs');
      const agent = new Agent({ connect: { ca: readFileSync(pem, 'utf8') } });
      const res = await request(`${url}/nodes`, {
        dispatcher: agent,
        headers: { authorization: 'PVEAPIToken=root@pam!ci=s3cret-Value' },
      });
      const body: Json = await res.body.json();
      assert.equal(body.data.length, 2);
      await agent.destroy();
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0);
    assert.match(out, /PVE simulator stopped\./);
  });
});
