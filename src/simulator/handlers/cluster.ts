import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';
import { guestResource, memUsedByNode, nodeListItem, nodeResource, storageResource } from '../views.js';

/** Cluster-wide reads: /version, /cluster/{status,resources,nextid}, /nodes, /storage (pools: pools.ts). */
export function registerClusterRoutes(router: Router): void {
  router
    .get('/version', (ctx) => ({ ...ctx.cluster.version }))
    .get('/cluster/status', clusterStatus)
    .get('/cluster/resources', clusterResources)
    .get('/cluster/nextid', nextId)
    .get('/nodes', (ctx) => {
      const memUsed = memUsedByNode(ctx.cluster);
      return ctx.cluster.nodes().map((n) => nodeListItem(n, memUsed.get(n.name) ?? 0));
    })
    .get('/storage', storageConfigList);
}

function clusterStatus(ctx: RouteContext): unknown {
  const { cluster } = ctx;
  const nodes = cluster.nodes();
  if (cluster.standalone) {
    // no corosync: a single node entry and no `cluster` entry (manager Cluster.pm)
    const n = nodes[0];
    return [
      {
        type: 'node',
        id: `node/${n.name}`,
        name: n.name,
        nodeid: 0,
        local: 1,
        online: 1,
        ip: n.ip,
        level: '',
      },
    ];
  }
  return [
    {
      type: 'cluster',
      id: 'cluster',
      name: cluster.clusterName,
      nodes: nodes.length,
      quorate: cluster.isQuorate() ? 1 : 0,
      version: nodes.length + 1,
    },
    ...nodes.map((n) => ({
      type: 'node',
      id: `node/${n.name}`,
      name: n.name,
      nodeid: n.nodeid,
      local: n.name === cluster.localNode ? 1 : 0,
      online: n.online ? 1 : 0,
      ip: n.ip,
      level: '',
    })),
  ];
}

function clusterResources(ctx: RouteContext): unknown {
  const { cluster } = ctx;
  const type = ctx.str('type');
  const items: unknown[] = [];
  if (!type || type === 'vm') {
    for (const guest of cluster.guests())
      items.push(guestResource(guest, cluster.node(guest.node)?.online ?? false));
  }
  if (!type || type === 'node') {
    const memUsed = memUsedByNode(cluster);
    for (const node of cluster.nodes()) items.push(nodeResource(node, memUsed.get(node.name) ?? 0));
  }
  if (!type || type === 'storage') {
    const usage = cluster.usageIndex();
    for (const node of cluster.nodes()) {
      for (const storage of cluster.storages()) items.push(storageResource(cluster, node, storage, usage));
    }
  }
  if (!type || type === 'sdn') {
    for (const node of cluster.nodes()) {
      items.push({
        id: `sdn/${node.name}/localnetwork`,
        type: 'sdn',
        sdn: 'localnetwork',
        node: node.name,
        status: node.online ? 'ok' : 'unknown',
      });
    }
  }
  return items;
}

/** A JSON string, not a number: PVE uses the id as a hash key first (proxmox-api.md §3). */
function nextId(ctx: RouteContext): string {
  const requested = ctx.str('vmid');
  if (requested !== undefined) {
    if (ctx.cluster.guest(Number(requested)))
      throw PveError.params({ vmid: `VM ${requested} already exists` });
    return requested;
  }
  return String(ctx.cluster.nextFreeVmid());
}

/** GET /storage: the storage.cfg entries. */
function storageConfigList(ctx: RouteContext): unknown {
  const type = ctx.str('type');
  return ctx.cluster
    .storages()
    .filter((s) => !type || s.type === type)
    .map((s) => ({
      storage: s.storage,
      type: s.type,
      content: s.content.join(','),
      ...s.options,
      ...(s.shared ? { shared: 1 } : {}),
      digest: ctx.cluster.storageDigest,
    }));
}
