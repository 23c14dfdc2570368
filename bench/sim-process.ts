/**
 * The PVE simulator in its own process, driven over IPC by bench/sim-handle.ts.
 *
 * Why a separate process: real PVE runs on other machines, so its CPU must not be counted as ours. In the bench
 * process the simulator's TLS and JSON work would share the server's event loop (inflating latency) and show up
 * in process.cpuUsage() (inflating the poller's CPU figure). On this 2-core machine it still shares the cores.
 */
import { PveSimulator } from '../src/simulator/index.js';
import type { SimCommand, SimReply } from './sim-protocol.js';

let sim: PveSimulator | undefined;

function started(): PveSimulator {
  if (!sim) throw new Error('the simulator is not started');
  return sim;
}

async function run(command: SimCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'start': {
      sim = await PveSimulator.start(command.options);
      return {
        host: sim.host,
        port: sim.port,
        url: sim.url,
        fingerprint: sim.fingerprint,
        token: sim.token,
        schemaChecked: sim.schemaChecked,
      };
    }
    case 'totalRequests':
      return started().totalRequests;
    case 'requestsSince':
      // method + path of every request after `seq` (the log keeps the last 10 000)
      return started()
        .requests.filter((r) => r.seq > command.seq)
        .map((r) => ({ method: r.method, path: r.path, status: r.status }));
    case 'script':
      started().tasks.script(command.script);
      return null;
    case 'stoppableGuests': {
      // half VMs (any state: stopping a stopped VM is a valid task), half running containers; on an even
      // number of nodes each type sits on every other node, so both together cover every node
      const all = [...started().cluster.guests()].filter((g) => !g.template && !g.lock);
      const vms = all.filter((g) => g.type === 'qemu');
      const cts = all.filter((g) => g.type === 'lxc' && g.status === 'running');
      const half = Math.ceil(command.count / 2);
      return [...vms.slice(0, half), ...cts.slice(0, command.count - half)].map((g) => ({
        vmid: g.vmid,
        node: g.node,
        type: g.type,
      }));
    }
    case 'violations': {
      const violations = started().schemaViolations();
      return {
        count: violations.length,
        first: violations.slice(0, 3).map((v) => `${v.method} ${v.path}: ${v.violation}`),
      };
    }
    case 'stop':
      await sim?.stop();
      sim = undefined;
      return null;
  }
}

process.on('message', (message: { id: number; command: SimCommand }) => {
  run(message.command).then(
    (result) => process.send?.({ id: message.id, ok: true, result } satisfies SimReply),
    (error: unknown) =>
      process.send?.({
        id: message.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      } satisfies SimReply),
  );
});
// the parent went away: do not linger
process.on('disconnect', () => {
  void sim?.stop().finally(() => process.exit(0));
  if (!sim) process.exit(0);
});
