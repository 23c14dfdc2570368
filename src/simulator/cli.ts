import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTokenSpec } from './auth.js';
import { PveSimulator, type SimulatorOptions } from './simulator.js';

/**
 * `proxmox-mcp-plus simulator`: runs the PVE API simulator until SIGINT/SIGTERM and prints how to reach it.
 * Bad flags throw an error whose code starts with ERR_PARSE_ARGS, which the CLI reports on stderr with exit code 2.
 */
export const SIMULATOR_USAGE = `Usage: proxmox-mcp-plus simulator [options]
  --port P           listen port (default 8006; 0 = any free port)
  --host H           listen address (default 127.0.0.1)
  --nodes N          cluster nodes pve1..pveN (default 3)
  --guests G         VMs and containers, vmids from 100 (default 12)
  --task-seconds S   how long tasks run (default 2)
  --token USER@REALM!NAME=SECRET   the accepted API token (default root@pam!mcp with a random secret)
  --ssh              also the nodes' SSH side (pct exec for containers): user root, a random password
Requests are checked against the PVE schema file named by PVE_API_SCHEMA (e.g. a copy of apidoc.json).
`;

class SimulatorUsageError extends Error {
  readonly code = 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE';
}

export async function runSimulatorCli(argv: string[]): Promise<void> {
  const options = parseSimulatorArgs(argv);
  if (!options) {
    process.stdout.write(SIMULATOR_USAGE);
    return;
  }
  const sim = await PveSimulator.start(options);
  const certDir = mkdtempSync(join(tmpdir(), 'pve-simulator-'));
  const certFile = join(certDir, 'pve-simulator.pem');
  writeFileSync(certFile, sim.certPem);
  process.stdout.write(banner(sim, certFile, options));
  try {
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } finally {
    await sim.stop();
    rmSync(certDir, { recursive: true, force: true });
    process.stdout.write('PVE simulator stopped.\n');
  }
}

/** The options, or undefined for --help. Throws SimulatorUsageError for bad values. */
export function parseSimulatorArgs(argv: string[]): SimulatorOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      nodes: { type: 'string' },
      guests: { type: 'string' },
      'task-seconds': { type: 'string' },
      token: { type: 'string' },
      ssh: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return undefined;
  const options: SimulatorOptions = {
    port: integer('--port', values.port, 0, 65535) ?? 8006,
    host: values.host ?? '127.0.0.1',
    nodes: integer('--nodes', values.nodes, 1, 250),
    guests: integer('--guests', values.guests, 0, 100_000),
    ...(values.ssh ? { ssh: true } : {}),
  };
  const seconds = values['task-seconds'];
  if (seconds !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(seconds) || Number(seconds) > 3600) {
      throw new SimulatorUsageError(
        `--task-seconds: got "${seconds}"; expected seconds 0-3600, e.g. 2 or 0.5`,
      );
    }
    options.taskSeconds = Number(seconds);
  }
  if (values.token !== undefined) {
    try {
      parseTokenSpec(values.token);
    } catch (error) {
      throw new SimulatorUsageError(`--token: ${(error as Error).message}`);
    }
    options.token = values.token;
  }
  if (values.host !== undefined && !/^[\w.:-]+$/.test(values.host)) {
    throw new SimulatorUsageError(`--host: got "${values.host}"; expected an IP address or host name`);
  }
  return options;
}

function integer(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max))
    throw new SimulatorUsageError(`${flag}: got "${value}"; expected an integer ${min}-${max}`);
  return n;
}

function sshLines(sim: PveSimulator): string {
  const ssh = sim.ssh!;
  return (
    `  SSH:          ${ssh.user}@${ssh.host} port ${ssh.port}, password ${ssh.password}\n` +
    `                (host key ${ssh.hostKeyFingerprint}; answers pct exec <vmid> -- <program> for containers)\n`
  );
}

function banner(sim: PveSimulator, certFile: string, options: SimulatorOptions): string {
  // a wildcard listen address is reached through loopback (which the certificate names)
  const reachable =
    sim.host === '0.0.0.0' || sim.host === '::'
      ? sim.url.replace(sim.host === '::' ? '[::]' : '0.0.0.0', '127.0.0.1')
      : sim.url;
  const guests = sim.cluster.guestCount;
  return `PVE simulator (Proxmox VE ${sim.cluster.version.release} API) — no real hosts are touched
  API URL:      ${sim.url}/api2/json
  API token:    ${sim.tokenSpec}
  Certificate:  SHA-256 ${sim.fingerprint}
                (PEM at ${certFile})
  Cluster:      ${sim.cluster.nodes().length} nodes, ${guests} guests; tasks take ${options.taskSeconds ?? 2} s; schema checks ${sim.schemaChecked ? 'on' : 'OFF'}
${sim.ssh ? sshLines(sim) : ''}  Try:          curl --cacert ${certFile} -H 'Authorization: ${sim.authorization}' ${reachable}/api2/json/cluster/resources
Press Ctrl+C to stop.
`;
}
