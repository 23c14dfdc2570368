import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ssh2 from 'ssh2';
import { PveSimulator, simulatorSshConfig } from '../../src/simulator/index.js';
import type { SimGuest } from '../../src/simulator/index.js';
import { sshFingerprint } from '../../src/proxmox/ssh/host-keys.js';
import { pctExecLine } from '../../src/proxmox/ssh/shell-quote.js';
import { SCHEMA_PATH } from '../helpers/test-app.js';

const { Client } = ssh2;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A real ssh2 client: logs in with the simulator's password and accepts only the pinned host key. */
async function connect(
  sim: PveSimulator,
  password = sim.ssh!.password,
): Promise<InstanceType<typeof Client>> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
    client.connect({
      host: sim.ssh!.host,
      port: sim.ssh!.port,
      username: sim.ssh!.user,
      password,
      hostVerifier: (key: Buffer) => sshFingerprint(key) === sim.ssh!.hostKeyFingerprint,
    });
  });
  return client;
}

function exec(client: InstanceType<typeof Client>, line: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    client.exec(line, (error, stream) => {
      if (error) return reject(error);
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      stream.on('data', (c: Buffer) => (stdout += c.toString()));
      stream.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      stream.on('exit', (c: number | null) => (code = c));
      stream.on('close', () => resolve({ code, stdout, stderr }));
      stream.end();
    });
  });
}

/** The exact line the container tools send (src/proxmox/ssh/shell-quote.ts). */
const pct = (vmid: number, argv: string[]) =>
  pctExecLine({ vmid, command: { argv }, useSudo: false, timeoutSeconds: 30 });

describe('simulator SSH endpoint (pct exec for the demo)', () => {
  let sim: PveSimulator;
  let client: InstanceType<typeof Client>;
  let running: SimGuest;
  let stopped: SimGuest;
  let vm: SimGuest;

  before(async () => {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0, ssh: true });
    const guests = [...sim.cluster.guests()];
    running = guests.find((g) => g.type === 'lxc' && g.status === 'running')!;
    stopped = guests.find((g) => g.type === 'lxc' && g.status === 'stopped')!;
    vm = guests.find((g) => g.type === 'qemu')!;
    assert.ok(running && stopped && vm, 'the seed has a running and a stopped container and a VM');
    client = await connect(sim);
  });
  after(async () => {
    client?.end();
    await sim.stop();
  });

  test('simulatorSshConfig points every node at the endpoint and pins its host key', () => {
    const ssh = simulatorSshConfig(sim);
    const nodes = sim.cluster.nodes().map((n) => n.name);
    assert.equal(ssh.port, sim.ssh!.port);
    assert.deepEqual(Object.keys(ssh.hostOverrides).sort(), nodes.sort());
    assert.ok(Object.values(ssh.hostOverrides).every((h) => h === sim.ssh!.host));
    assert.ok(Object.values(ssh.hostKeyFingerprints).every((f) => /^SHA256:[A-Za-z0-9+/]{43}$/.test(f)));
    assert.equal(ssh.strictHostKeyChecking, true);
  });

  test('a running container answers the programs it knows, from its own config', async () => {
    const hostname = String(running.config.hostname);
    const uname = await exec(client, pct(running.vmid, ['uname', '-a']));
    assert.equal(uname.code, 0, uname.stderr);
    assert.match(uname.stdout, new RegExp(`^Linux ${hostname} \\S+-pve #1 SMP .* x86_64 GNU/Linux\\n$`));
    assert.deepEqual(await exec(client, pct(running.vmid, ['hostname'])), {
      code: 0,
      stdout: `${hostname}\n`,
      stderr: '',
    });
    const osRelease = await exec(client, pct(running.vmid, ['cat', '/etc/os-release']));
    assert.equal(osRelease.code, 0);
    assert.match(osRelease.stdout, new RegExp(`^ID=${String(running.config.ostype)}$`, 'm'));
    assert.equal(
      (await exec(client, pct(running.vmid, ['id']))).stdout,
      'uid=0(root) gid=0(root) groups=0(root)\n',
    );
    assert.match((await exec(client, pct(running.vmid, ['uptime']))).stdout, /up .* load average: /);
    // quoted arguments arrive as the words they were, as sh would split them
    const echo = await exec(client, pct(running.vmid, ['echo', "it's", '$HOME', 'a  b']));
    assert.deepEqual(echo, { code: 0, stdout: "it's $HOME a  b\n", stderr: '' });
  });

  test('other programs are "command not found" (127); missing files and bad options fail like coreutils', async () => {
    const missing = await exec(client, pct(running.vmid, ['apt-get', 'update']));
    assert.deepEqual(missing, { code: 127, stdout: '', stderr: 'apt-get: command not found\n' });
    const cat = await exec(client, pct(running.vmid, ['cat', '/etc/shadow']));
    assert.equal(cat.code, 1);
    assert.match(cat.stderr, /cat: \/etc\/shadow: No such file or directory/);
    assert.equal((await exec(client, pct(running.vmid, ['uname', '-z']))).code, 1);
  });

  test("pct's own refusals: stopped container, unknown vmid and a VM exit 255 as on a node", async () => {
    assert.deepEqual(await exec(client, pct(stopped.vmid, ['uname', '-a'])), {
      code: 255,
      stdout: '',
      stderr: `CT ${stopped.vmid} not running\n`,
    });
    const unknown = await exec(client, pct(99999, ['id']));
    assert.equal(unknown.code, 255);
    assert.match(unknown.stderr, /^Configuration file 'nodes\/\S+\/lxc\/99999\.conf' does not exist\n$/);
    const qemu = await exec(client, pct(vm.vmid, ['id']));
    assert.equal(qemu.code, 255);
    assert.equal(qemu.stderr, `Configuration file 'nodes/${vm.node}/lxc/${vm.vmid}.conf' does not exist\n`);
  });

  test('unquoted shell syntax is a syntax error, never run; doctor login probes pass', async () => {
    const injected = await exec(client, `/usr/sbin/pct exec ${running.vmid} -- id; reboot`);
    assert.equal(injected.code, 2);
    assert.match(injected.stderr, /Syntax error/);
    assert.equal((await exec(client, 'true')).code, 0);
    assert.equal((await exec(client, 'sudo -n true')).code, 0);
  });

  test('a wrong password is refused', async () => {
    await assert.rejects(connect(sim, 'not-the-password'), /authentication/i);
  });
});
