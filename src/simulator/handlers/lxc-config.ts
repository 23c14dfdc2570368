import { PveError } from '../pve-error.js';
import { configParams, uniqueTags } from '../qemu-config.js';
import type { RouteContext, Router } from '../router.js';
import { guestOf } from './guests.js';
import { lockError } from './power.js';
import { normalizeCtNet } from './lxc-lifecycle.js';

/**
 * PUT /nodes/{node}/lxc/{vmid}/config after pve-container API2/LXC/Config.pm `update_vm`: synchronous (returns
 * null), guarded by the config lock and the digest. Simplification: changes apply at once, also to a running
 * container (PVE hot-plugs cores, memory, swap, cpulimit and the descriptive options; a few others wait in
 * [PENDING] until the next start, which the simulator does not model for containers). Mount point edits
 * (rootfs/mpN) are not simulated: use resize.
 */
export function registerLxcConfigRoutes(router: Router): void {
  router.put('/nodes/{node}/lxc/{vmid}/config', updateContainerConfig);
}

const CONTROL = ['digest', 'delete', 'revert'];

function updateContainerConfig(ctx: RouteContext): null {
  const guest = guestOf(ctx, 'lxc');
  const digest = ctx.str('digest');
  const changes = configParams(ctx, CONTROL);
  const deletes = (ctx.str('delete') ?? '').split(/[,;\s]+/).filter(Boolean);
  if (!Object.keys(changes).length && !deletes.length && !ctx.has('revert')) {
    throw PveError.internal('no options specified');
  }
  for (const key of deletes) {
    if (changes[key] !== undefined) {
      throw PveError.params({ delete: `you can't use '-${key}' and -delete ${key}' at the same time` });
    }
  }
  for (const key of [...Object.keys(changes), ...deletes]) {
    if (/^(?:rootfs|mp\d+|unused\d+)$/.test(key)) {
      throw PveError.notImplemented(`changing '${key}' is not implemented by the PVE simulator`);
    }
    // the option is fixed at create time (text is a guess)
    if (key === 'unprivileged') throw PveError.internal("unable to modify read-only option: 'unprivileged'");
  }
  const locked = lockError(guest);
  if (locked) throw PveError.internal(locked);
  if (digest !== undefined && digest !== ctx.cluster.digest(guest)) {
    throw PveError.internal('detected modified configuration - file changed by other user? Try again.');
  }
  for (const [key, value] of Object.entries(changes)) {
    if (/^net\d+$/.test(key)) changes[key] = normalizeCtNet(String(value));
    if (key === 'tags') changes[key] = uniqueTags(String(value));
  }
  ctx.cluster.updateConfig(guest, {
    ...changes,
    ...Object.fromEntries(deletes.map((key) => [key, undefined])),
  });
  return null;
}
