import type { SimStorage } from '../cluster-model.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';

/** Per-node storage: the list with usage and one storage's status (content: storage-content.ts). */
export function registerStorageRoutes(router: Router): void {
  router
    .get('/nodes/{node}/storage', storageList)
    .get('/nodes/{node}/storage/{storage}/status', storageStatus);
}

/** `content` filter: a list (`iso,backup`) matching storages that hold any of those types. */
function contentFilter(ctx: RouteContext): string[] | undefined {
  const text = ctx.str('content');
  return text === undefined ? undefined : text.split(/[,;\s]+/).filter(Boolean);
}

function storageInfo(ctx: RouteContext, node: string, storage: SimStorage): Record<string, unknown> {
  const { total, used, avail } = ctx.cluster.usage(node, storage);
  return {
    storage: storage.storage,
    type: storage.type,
    content: storage.content.join(','),
    shared: storage.shared ? 1 : 0,
    // a storage disabled in storage.cfg is still listed, neither enabled nor active
    active: storage.disabled ? 0 : 1,
    enabled: storage.disabled ? 0 : 1,
    total,
    used,
    avail,
    used_fraction: total ? used / total : 0,
  };
}

function storageList(ctx: RouteContext): unknown {
  const node = ctx.node().name;
  const content = contentFilter(ctx);
  const only = ctx.str('storage');
  if (only !== undefined && !ctx.cluster.storage(only))
    throw PveError.params({ storage: 'No such storage.' });
  return ctx.cluster
    .storages()
    .filter(
      (s) =>
        (only === undefined || s.storage === only) &&
        (!content || content.some((c) => s.content.includes(c))),
    )
    .map((s) => storageInfo(ctx, node, s));
}

function storageStatus(ctx: RouteContext): unknown {
  const node = ctx.node().name;
  const storage = ctx.cluster.storage(ctx.str('storage') ?? '');
  if (!storage) throw PveError.params({ storage: 'No such storage.' });
  const { storage: _id, used_fraction: _fraction, ...status } = storageInfo(ctx, node, storage);
  return status;
}
