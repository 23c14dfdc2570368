import type { SimGuest } from '../cluster-model.js';
import { assertAgentAvailable, execCommand, execStatus } from '../guest-agent.js';
import { hostNameInfo, networkInterfaces, osInfo } from '../guest-os-info.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';
import { guestOf } from './guests.js';

/**
 * QEMU guest agent endpoints (qemu-server API2/Qemu/Agent.pm): each loads the config, checks that an agent is
 * configured, the VM runs and the agent answers, then relays one qemu-ga command. The simple commands wrap the
 * agent's answer as `{result: …}`; exec answers `{pid}` and exec-status the process state (no wrapper).
 */
const BASE = '/nodes/{node}/qemu/{vmid}/agent';

/** The commands the simulated agent answers, with their qemu-ga results. */
const COMMANDS: Record<string, { method: 'GET' | 'POST'; result: (guest: SimGuest) => unknown }> = {
  ping: { method: 'POST', result: () => ({}) },
  'get-osinfo': { method: 'GET', result: osInfo },
  'get-host-name': { method: 'GET', result: hostNameInfo },
  'network-get-interfaces': { method: 'GET', result: networkInterfaces },
  'get-time': { method: 'GET', result: () => Date.now() * 1_000_000 },
  'get-timezone': { method: 'GET', result: () => ({ zone: 'UTC', offset: 0 }) },
  info: {
    method: 'GET',
    result: () => ({
      version: '7.2.15',
      supported_commands: ['guest-exec', 'guest-exec-status', 'guest-get-osinfo', 'guest-ping'].map(
        (name) => ({
          name,
          enabled: true,
          'success-response': true,
        }),
      ),
    }),
  },
};

/** Every command PVE lists in the agent index. */
const INDEX = [
  'exec',
  'exec-status',
  'file-read',
  'file-write',
  'fsfreeze-freeze',
  'fsfreeze-status',
  'fsfreeze-thaw',
  'fstrim',
  'get-fsinfo',
  'get-host-name',
  'get-memory-block-info',
  'get-memory-blocks',
  'get-osinfo',
  'get-time',
  'get-timezone',
  'get-users',
  'get-vcpus',
  'info',
  'network-get-interfaces',
  'ping',
  'set-user-password',
  'shutdown',
  'suspend-disk',
  'suspend-hybrid',
  'suspend-ram',
].sort();

export function registerAgentRoutes(router: Router): void {
  router.get(BASE, () => INDEX.map((name) => ({ name })));
  // the old generic endpoint: POST …/agent with command=<name>
  router.post(BASE, (ctx) => agentCommand(ctx, ctx.str('command') ?? ''));
  for (const [name, def] of Object.entries(COMMANDS)) {
    router.add(def.method, `${BASE}/${name}`, (ctx) => agentCommand(ctx, name));
  }
  router.post(`${BASE}/exec`, exec);
  router.get(`${BASE}/exec-status`, (ctx) => {
    const guest = guestOf(ctx, 'qemu');
    return execStatus(ctx.cluster, guest, ctx.int('pid') ?? 0);
  });
}

function agentCommand(ctx: RouteContext, name: string): unknown {
  const guest = guestOf(ctx, 'qemu');
  assertAgentAvailable(guest);
  const def = COMMANDS[name];
  if (!def) throw PveError.notImplemented(`agent command '${name}' is not implemented by the PVE simulator`);
  return { result: def.result(guest) };
}

/** `command` arrives as a JSON array, repeated form keys (an array) or one form value (a one-element argv). */
function exec(ctx: RouteContext): unknown {
  const guest = guestOf(ctx, 'qemu');
  const raw = ctx.params.command;
  const argv = (Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw]).map((v) =>
    typeof v === 'string' ? v : JSON.stringify(v),
  );
  return execCommand(ctx.cluster, guest, argv, ctx.str('input-data'));
}
