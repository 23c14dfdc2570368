import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GuestConfig, SimGuest } from '../cluster-model.js';
import { PveError } from '../pve-error.js';
import {
  checkDriveParams,
  configParams,
  normalizeNet,
  pendingItems,
  updateVmConfig,
  validateSshKeys,
  type ConfigUpdate,
} from '../qemu-config.js';
import type { RouteContext, Router } from '../router.js';
import { warn } from '../tasks.js';
import { guestOf } from './guests.js';
import { lockError } from './power.js';

/**
 * PUT (synchronous) and POST (a `qmconfig` task) on /nodes/{node}/qemu/{vmid}/config, and GET …/pending, after
 * qemu-server's $update_vm_api: parameter checks and the digest/lock checks fail at once; the change itself runs
 * in the worker (POST) or under the config lock (PUT). A running VM takes what it can hot-plug; everything else
 * stays in `[PENDING]` until the next start or reboot.
 */
const CONTROL_PARAMS = [
  'digest',
  'background_delay',
  'skip_cloud_init',
  'import-working-storage',
  'skiplock',
  'delete',
  'revert',
  'force',
];

export function registerQemuConfigRoutes(router: Router): void {
  router
    .put('/nodes/{node}/qemu/{vmid}/config', (ctx) => updateConfig(ctx, true))
    .post('/nodes/{node}/qemu/{vmid}/config', (ctx) => updateConfig(ctx, false))
    .get('/nodes/{node}/qemu/{vmid}/pending', (ctx) => pendingItems(ctx.cluster, guestOf(ctx, 'qemu')));
}

/** PVE::Tools::split_list. */
export function splitList(text: string | undefined): string[] {
  return (text ?? '').split(/[,;\s]+/).filter(Boolean);
}

/** `-key value` pairs as the task log's "update VM" line shows them (cipassword hidden). */
function describe(ctx: RouteContext): string {
  const skip = new Set([
    'node',
    'vmid',
    'digest',
    'background_delay',
    'skip_cloud_init',
    'import-working-storage',
  ]);
  return Object.keys(ctx.params)
    .filter((k) => !skip.has(k))
    .sort()
    .map((k) => `-${k} ${k === 'cipassword' ? '<hidden>' : (ctx.str(k) ?? '')}`)
    .join(' ');
}

/** The early checks ($load_and_check_config): digest, lock, balloon vs memory. */
function loadAndCheck(ctx: RouteContext, guest: SimGuest, set: GuestConfig, deletes: string[]): void {
  const digest = ctx.str('digest');
  if (digest && digest !== ctx.cluster.digest(guest)) {
    throw PveError.internal('checksum mismatch (file change by other user?)');
  }
  // removing the saved state of a VM hibernated to disk is allowed despite its `suspended` lock
  const suspendedCleanup = guest.lock === 'suspended' && deletes.includes('vmstate');
  if (!ctx.bool('skiplock') && !suspendedCleanup) {
    const locked = lockError(guest);
    if (locked) throw PveError.internal(locked);
  }
  if (set.memory !== undefined || set.balloon !== undefined) {
    const memory = set.memory ?? guest.pending?.memory ?? guest.config.memory ?? 512;
    const maxmem = Number(/(?:current=)?(\d+)/.exec(String(memory))?.[1] ?? 512);
    const balloon = Number(set.balloon ?? guest.pending?.balloon ?? guest.config.balloon ?? 0);
    if (balloon && balloon > maxmem) {
      throw PveError.internal('balloon value too large (must be smaller than assigned memory)');
    }
  }
}

async function updateConfig(ctx: RouteContext, sync: boolean): Promise<string | null> {
  ctx.rootOnly('skiplock');
  const set = configParams(ctx, CONTROL_PARAMS);
  validateSshKeys(set.sshkeys === undefined ? undefined : String(set.sshkeys));
  const deleteList = splitList(ctx.str('delete')).map((opt) => (opt === 'cdrom' ? 'ide2' : opt));
  const revertList = splitList(ctx.str('revert'));
  if (!deleteList.length && !revertList.length && !Object.keys(set).length) {
    throw PveError.internal('no options specified');
  }
  if (set.cdrom !== undefined) {
    const value = String(set.cdrom);
    set.ide2 = /media=/.test(value) ? value : `${value},media=cdrom`;
    delete set.cdrom;
  }
  const optionExists = (opt: string) =>
    !ctx.schemaChecked ||
    (ctx.paramSchema(opt) !== undefined && !CONTROL_PARAMS.includes(opt) && opt !== 'node' && opt !== 'vmid');
  for (const opt of revertList) {
    if (!optionExists(opt)) throw PveError.params({ revert: `unknown option '${opt}'` });
    if (set[opt] !== undefined) {
      throw PveError.params({ delete: `you can't use '-${opt}' and -revert ${opt}' at the same time` });
    }
  }
  for (const opt of deleteList) {
    if (set[opt] !== undefined) {
      throw PveError.params({ delete: `you can't use '-${opt}' and -delete ${opt}' at the same time` });
    }
    if (revertList.includes(opt)) {
      throw PveError.params({
        revert: `you can't use '-delete ${opt}' and -revert ${opt}' at the same time`,
      });
    }
    if (!optionExists(opt)) throw PveError.params({ delete: `unknown option '${opt}'` });
  }
  checkDriveParams(ctx, set);
  for (const key of Object.keys(set)) {
    if (/^net\d+$/.test(key)) set[key] = normalizeNet(String(set[key]));
    if (key === 'vmgenid' && String(set[key]) === '1') set[key] = randomUUID();
  }
  const guest = guestOf(ctx, 'qemu');
  loadAndCheck(ctx, guest, set, deleteList);
  const update: ConfigUpdate = { set, delete: deleteList, revert: revertList, force: ctx.bool('force') };
  const node = guest.node;
  if (sync) {
    updateVmConfig(ctx.cluster, guest, update, { node, log: () => undefined, warn: () => undefined });
    return null;
  }
  const line = `update VM ${guest.vmid}: ${describe(ctx)}`;
  const task = ctx.tasks.start({
    node,
    type: 'qmconfig',
    id: String(guest.vmid),
    user: ctx.authUser,
    log: [line],
    run: (t) => {
      // the worker repeats the checks under the config lock
      loadAndCheck(ctx, guest, set, deleteList);
      updateVmConfig(ctx.cluster, guest, update, {
        node,
        log: (l) => t.log.push(l),
        warn: (l) => warn(t, l),
      });
      return undefined;
    },
  });
  const delay = ctx.int('background_delay');
  if (delay) {
    // wait up to background_delay seconds; a finished task answers null (or its error)
    const timer = new AbortController();
    const timeout = sleep(delay * 1000, undefined, { signal: timer.signal }).then(
      () => undefined,
      () => undefined,
    );
    const done = await Promise.race([ctx.tasks.whenDone(task.upid), timeout]);
    timer.abort();
    if (done) {
      const status = done.exitstatus ?? '';
      if (status === 'OK' || status.startsWith('WARNINGS:')) return null;
      throw PveError.internal(`failed to update VM ${guest.vmid}: ${status}`);
    }
  }
  return task.upid;
}
