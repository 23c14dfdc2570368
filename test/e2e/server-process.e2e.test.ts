import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PveSimulator } from '../../src/simulator/index.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { SCHEMA_PATH } from '../helpers/test-app.js';

describe('server as a separate process', () => {
  let sim: PveSimulator;
  let dir: string;
  const started: ServerProcess[] = [];

  before(async () => {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0 });
    dir = mkdtempSync(join(tmpdir(), 'pmp-proc-'));
  });
  after(async () => {
    // kill, not stop: a test that failed half-way must not turn cleanup into a second failure.
    await Promise.all(started.map((p) => p.kill()));
    const violations = sim.schemaViolations();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(violations, [], 'requests that real PVE would refuse');
  });

  async function getVms(server: ServerProcess, headers: Record<string, string>) {
    const res = await fetch(`${server.url}/vms`, { headers });
    return { status: res.status, body: (await res.json()) as { vms?: Array<{ vmid: number }> } };
  }

  test('after kill -9 a new process on the same SQLite file serves again; SIGTERM exits 0', async () => {
    const sqlitePath = join(dir, 'jobs.sqlite3');
    const first = await startServerProcess({ sim, sqlitePath });
    started.push(first);

    assert.equal((await getVms(first, {})).status, 401, 'the API key from PROXMOX_API_KEY is required');
    // the launcher re-executed itself (same pid) with a capped young generation (bin/proxmox-mcp-plus.js)
    if (typeof (process as { execve?: unknown }).execve === 'function') {
      const cmdline = readFileSync(`/proc/${first.pid}/cmdline`, 'utf8').split('\0');
      assert.ok(cmdline.includes('--max-semi-space-size=16'), cmdline.join(' '));
    }
    const before = await getVms(first, first.auth);
    assert.equal(before.status, 200, first.output());
    assert.ok(before.body.vms && before.body.vms.length > 0);

    assert.equal(await first.kill('SIGKILL'), null, 'a SIGKILLed process has no exit code');
    await assert.rejects(fetch(`${first.url}/livez`), 'nothing listens after kill -9');

    const second = await startServerProcess({ sim, sqlitePath });
    started.push(second);
    assert.notEqual(second.pid, first.pid);
    const again = await getVms(second, second.auth);
    assert.equal(again.status, 200, second.output());
    assert.deepEqual(
      again.body.vms!.map((v) => v.vmid),
      before.body.vms.map((v) => v.vmid),
    );

    assert.equal(await second.kill('SIGTERM'), 0, second.output());
    assert.match(second.output(), /listening on http:\/\/127\.0\.0\.1:/);
  });
});
