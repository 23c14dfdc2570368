import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { simulatorApiSuite, type SimClient, type Json } from '../helpers/sim-client.js';
import type { PveSimulator } from '../../src/simulator/index.js';

/** Seeded: VM 100 (pve1) runs with its agent; VM 106 (pve1) has `agent: 1` but no agent running; 104 is stopped. */
describe('simulator: QEMU guest agent', () => {
  let sim: PveSimulator;
  let api: SimClient;
  const vm100 = '/nodes/pve1/qemu/100/agent';

  /** Runs a command through exec + exec-status and returns the final status. */
  const run = async (path: string, command: string[], inputData?: string): Promise<Json> => {
    const res = await api.postJson(`${path}/exec`, {
      command,
      ...(inputData !== undefined ? { 'input-data': inputData } : {}),
    });
    assert.equal(res.status, 200, `${command.join(' ')}: ${res.reason}`);
    const pid: number = res.json.data.pid;
    return api.data(`${path}/exec-status?pid=${pid}`);
  };

  simulatorApiSuite({}, (started) => ({ sim, api } = started));

  test('exec returns a pid; exec-status has exited/exitcode/out-data decoded, as PVE returns them', async () => {
    const res = await api.post(`${vm100}/exec`, { command: ['echo', 'hello', 'world'] });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.json.data), ['pid']);
    const status = await api.get(`${vm100}/exec-status?pid=${res.json.data.pid}`);
    assert.deepEqual(status.json, { data: { exited: 1, exitcode: 0, 'out-data': 'hello world\n' } });
    // qemu-ga forgets a process once it reported its exit
    const again = await api.get(`${vm100}/exec-status?pid=${res.json.data.pid}`);
    assert.equal(again.status, 500);
    assert.equal(again.reason, "Agent error: Invalid parameter 'pid'");
  });

  test('the guest answers uname, hostname and /etc/os-release like a Debian VM', async () => {
    const uname = await run(vm100, ['uname', '-a']);
    assert.match(uname['out-data'], /^Linux web-01 6\.\d+\.\d+-\d+-amd64 #1 SMP .* x86_64 GNU\/Linux\n$/);
    assert.equal((await run(vm100, ['/usr/bin/hostname']))['out-data'], 'web-01\n');
    const osRelease = await run(vm100, ['cat', '/etc/os-release']);
    assert.match(osRelease['out-data'], /^PRETTY_NAME="Debian GNU\/Linux 12 \(bookworm\)"\n/);
    const missing = await run(vm100, ['cat', '/nope']);
    assert.deepEqual(missing, {
      exited: 1,
      exitcode: 1,
      'err-data': 'cat: /nope: No such file or directory\n',
    });
  });

  test('no shell without sh -c: an argv element with spaces is one program name, which does not exist', async () => {
    const res = await api.post(`${vm100}/exec`, { command: 'uname -a' });
    assert.equal(res.status, 500);
    assert.equal(
      res.json.message,
      'Agent error: Failed to execute child process “uname -a” (No such file or directory)\n',
    );
    // the reason phrase carries the same text, non-ASCII characters replaced
    assert.equal(
      res.reason,
      'Agent error: Failed to execute child process ?uname -a? (No such file or directory)',
    );
    const unknown = await api.postJson(`${vm100}/exec`, { command: ['nosuchprog'] });
    assert.equal(
      unknown.json.message,
      'Agent error: Failed to execute child process “nosuchprog” (No such file or directory)\n',
    );
  });

  test('sh -c runs ;, &&, ||, pipes and redirections; an unknown command exits 127 with the shell message', async () => {
    assert.equal(
      (await run(vm100, ['/bin/sh', '-c', 'echo a && echo b; false || echo c']))['out-data'],
      'a\nb\nc\n',
    );
    assert.equal((await run(vm100, ['sh', '-c', 'seq 5 | head -n 2']))['out-data'], '1\n2\n');
    assert.equal(
      (await run(vm100, ['sh', '-c', 'echo \'single quoted\' "$HOME"']))['out-data'],
      'single quoted /root\n',
    );
    const missing = await run(vm100, ['sh', '-c', 'nosuchcmd --help']);
    assert.deepEqual(missing, { exited: 1, exitcode: 127, 'err-data': 'sh: 1: nosuchcmd: not found\n' });
    const bash = await run(vm100, ['bash', '-c', 'nosuchcmd']);
    assert.equal(bash['err-data'], 'bash: line 1: nosuchcmd: command not found\n');
    const merged = await run(vm100, ['sh', '-c', 'cat /nope 2>&1; exit 3']);
    assert.deepEqual(merged, {
      exited: 1,
      exitcode: 3,
      'out-data': 'cat: /nope: No such file or directory\n',
    });
    const silent = await run(vm100, ['sh', '-c', 'cat /nope 2>/dev/null']);
    assert.deepEqual(silent, { exited: 1, exitcode: 1 });
  });

  test('input-data becomes stdin', async () => {
    assert.equal((await run(vm100, ['cat'], 'from stdin\n'))['out-data'], 'from stdin\n');
    assert.equal((await run(vm100, ['sh'], 'echo scripted; uname -s\n'))['out-data'], 'scripted\nLinux\n');
  });

  test('sleep keeps the process running (exited 0, nothing else) until its time is up', async () => {
    const long = await api.postJson(`${vm100}/exec`, { command: ['sh', '-c', 'sleep 30; echo done'] });
    assert.deepEqual(await api.data(`${vm100}/exec-status?pid=${long.json.data.pid}`), { exited: 0 });
    const forever = await api.postJson(`${vm100}/exec`, { command: ['sleep', 'infinity'] });
    assert.deepEqual(await api.data(`${vm100}/exec-status?pid=${forever.json.data.pid}`), { exited: 0 });

    const short = await api.postJson(`${vm100}/exec`, { command: ['sh', '-c', 'sleep 0.05; echo done'] });
    let status: Json = { exited: 0 };
    for (let i = 0; i < 100 && !status.exited; i++) {
      await sleep(20);
      status = await api.data(`${vm100}/exec-status?pid=${short.json.data.pid}`);
    }
    assert.deepEqual(status, { exited: 1, exitcode: 0, 'out-data': 'done\n' });
  });

  test('output beyond the agent cap is cut and flagged out-truncated', async () => {
    sim.cluster.agentOutputLimit = 1000;
    try {
      const big = await run(vm100, ['sh', '-c', 'yes | head -c 5000']);
      assert.equal(big['out-data'].length, 1000);
      assert.equal(big['out-truncated'], 1);
      assert.equal(big['out-data'].slice(0, 4), 'y\ny\n');
      const zeros = await run(vm100, ['head', '-c', '999', '/dev/zero']);
      assert.equal(zeros['out-data'], '\u0000'.repeat(999));
      assert.equal(zeros['out-truncated'], undefined, 'only a cut stream is flagged');
      const many = await run(vm100, ['seq', '100000']);
      assert.equal(many['out-truncated'], 1);
    } finally {
      sim.cluster.agentOutputLimit = 16 * 1024 * 1024;
    }
  });

  test('ping, get-osinfo, get-host-name and network-get-interfaces wrap the agent answer in result', async () => {
    assert.deepEqual((await api.post(`${vm100}/ping`)).json, { data: { result: {} } });
    const os = await api.data(`${vm100}/get-osinfo`);
    assert.equal(os.result.id, 'debian');
    assert.equal(os.result['version-id'], '12');
    assert.deepEqual(await api.data(`${vm100}/get-host-name`), { result: { 'host-name': 'web-01' } });
    const nics: Json[] = (await api.data(`${vm100}/network-get-interfaces`)).result;
    assert.deepEqual(
      nics.map((n) => n.name),
      ['lo', 'ens18'],
    );
    const mac = /virtio=([0-9A-F:]+)/.exec((await api.data('/nodes/pve1/qemu/100/config')).net0)![1];
    assert.equal(nics[1]['hardware-address'], mac.toLowerCase());
    assert.deepEqual(Object.keys(nics[1]['ip-addresses'][0]).sort(), [
      'ip-address',
      'ip-address-type',
      'prefix',
    ]);
    assert.equal(nics[1]['ip-addresses'][0]['ip-address-type'], 'ipv4');
    const legacy = await api.post('/nodes/pve1/qemu/100/agent', { command: 'get-host-name' });
    assert.deepEqual(legacy.json.data, { result: { 'host-name': 'web-01' } });
    const index: Json[] = await api.data(vm100);
    assert.ok(index.some((c) => c.name === 'exec-status'));
  });

  test('agent configured but not running in the guest, VM not running, paused VM: PVE’s 500s', async () => {
    const notRunning = await api.post('/nodes/pve1/qemu/106/agent/ping');
    assert.equal(notRunning.status, 500);
    assert.equal(notRunning.reason, 'QEMU guest agent is not running');
    sim.cluster.setAgentRunning(106, true);
    assert.equal((await api.post('/nodes/pve1/qemu/106/agent/ping')).status, 200);
    sim.cluster.setAgentRunning(106, false);

    const stopped = await api.postJson('/nodes/pve2/qemu/104/agent/exec', { command: ['true'] });
    assert.equal(stopped.reason, 'VM 104 is not running');

    const paused = await api.task(await api.post('/nodes/pve1/qemu/100/status/suspend'));
    assert.equal(paused.exitstatus, 'OK');
    assert.equal((await api.post(`${vm100}/ping`)).reason, 'QEMU guest agent is not running');
    await api.task(await api.post('/nodes/pve1/qemu/100/status/resume'));
    assert.equal((await api.post(`${vm100}/ping`)).status, 200);
  });

  test('no agent option in the config: "No QEMU guest agent configured"', async () => {
    // 104 is stopped, so the deletion applies at once; then start it
    assert.equal((await api.put('/nodes/pve2/qemu/104/config', { delete: 'agent' })).status, 200);
    assert.equal((await api.task(await api.post('/nodes/pve2/qemu/104/status/start'))).exitstatus, 'OK');
    const res = await api.postJson('/nodes/pve2/qemu/104/agent/exec', { command: ['true'] });
    assert.equal(res.status, 500);
    assert.equal(res.reason, 'No QEMU guest agent configured');
    // agent: 0 is configured-but-disabled: no agent device, so nothing answers. On a running VM the option
    // cannot be hot-plugged: it stays pending until the reboot
    assert.equal((await api.put('/nodes/pve2/qemu/104/config', { agent: '0' })).status, 200);
    assert.equal(
      (await api.post('/nodes/pve2/qemu/104/agent/ping')).reason,
      'No QEMU guest agent configured',
    );
    assert.equal((await api.task(await api.post('/nodes/pve2/qemu/104/status/reboot'))).exitstatus, 'OK');
    assert.equal(
      (await api.post('/nodes/pve2/qemu/104/agent/ping')).reason,
      'QEMU guest agent is not running',
    );
  });

  test('a restart clears the agent’s process table', async () => {
    const res = await api.postJson(`${vm100}/exec`, { command: ['sleep', '60'] });
    await api.task(await api.post('/nodes/pve1/qemu/100/status/reset'));
    const status = await api.get(`${vm100}/exec-status?pid=${res.json.data.pid}`);
    assert.equal(status.reason, "Agent error: Invalid parameter 'pid'");
  });

  test('a Windows guest runs cmd /c; unknown commands answer like cmd.exe', async () => {
    const created = await api.task(
      await api.post('/nodes/pve1/qemu', {
        vmid: '300',
        name: 'win-01',
        ostype: 'win11',
        agent: '1',
        scsi0: 'local-lvm:40',
        net0: 'virtio,bridge=vmbr0',
        start: '1',
      }),
    );
    assert.equal(created.exitstatus, 'OK');
    const path = '/nodes/pve1/qemu/300/agent';
    assert.deepEqual(await run(path, ['cmd', '/c', 'echo', 'x']), {
      exited: 1,
      exitcode: 0,
      'out-data': 'x\r\n',
    });
    assert.equal((await run(path, ['cmd.exe', '/c', 'hostname']))['out-data'], 'WIN-01\r\n');
    const unknown = await run(path, ['cmd', '/c', 'frobnicate']);
    assert.equal(unknown.exitcode, 1);
    assert.match(
      unknown['err-data'],
      /^'frobnicate' is not recognized as an internal or external command,\r\n/,
    );
    assert.equal((await api.data(`${path}/get-osinfo`)).result.id, 'mswindows');
    assert.deepEqual(
      (await api.data(`${path}/network-get-interfaces`)).result.map((n: Json) => n.name),
      ['Loopback Pseudo-Interface 1', 'Ethernet'],
    );
  });
});
