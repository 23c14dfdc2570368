import { guestRrd, nodeRrd, storageRrd, type RrdCf, type RrdTimeframe } from '../rrd-series.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';
import { nodeMemUsed } from '../views.js';

/**
 * GET …/rrddata of nodes, guests and storages (pve-manager API2/Nodes.pm, qemu-server, pve-container,
 * API2/Storage/Status.pm): the RRD history from rrd-series.ts. PVE reads the cluster-wide RRD cache, so a guest's
 * history is found by its ID alone; an entity without an RRD file fails like PVE's rrd lookup does (500).
 * Node and guest rrddata are not proxied to the node (no proxyto in the schema): an offline node's history is
 * served too. Storage rrddata is proxied, so an offline node fails with 595 before it gets here.
 */
export function registerRrdRoutes(router: Router): void {
  router
    .get('/nodes/{node}/rrddata', nodeRrdData)
    .get('/nodes/{node}/qemu/{vmid}/rrddata', guestRrdData)
    .get('/nodes/{node}/lxc/{vmid}/rrddata', guestRrdData)
    .get('/nodes/{node}/storage/{storage}/rrddata', storageRrdData);
}

const timeframe = (ctx: RouteContext): RrdTimeframe => (ctx.str('timeframe') ?? 'hour') as RrdTimeframe;
const cf = (ctx: RouteContext): RrdCf => (ctx.str('cf') === 'MAX' ? 'MAX' : 'AVERAGE');

const noRrdFile = (file: string): PveError =>
  PveError.internal(`RRD error: opening '/var/lib/rrdcached/db/${file}': No such file or directory`);

function nodeRrdData(ctx: RouteContext): unknown {
  const node = ctx.node();
  const memUsed = nodeMemUsed(node, ctx.cluster.guestsOn(node.name));
  return nodeRrd(node, memUsed, timeframe(ctx), cf(ctx));
}

function guestRrdData(ctx: RouteContext): unknown {
  const vmid = ctx.vmid();
  const guest = ctx.cluster.guest(vmid);
  if (!guest) throw noRrdFile(`pve-vm-9.0/${vmid}`);
  return guestRrd(guest, timeframe(ctx), cf(ctx));
}

function storageRrdData(ctx: RouteContext): unknown {
  const node = ctx.node().name;
  const id = ctx.str('storage') ?? '';
  const storage = ctx.cluster.storage(id);
  // pvestatd writes a storage's RRD only on the nodes it is configured for
  if (!storage || (storage.nodes && !storage.nodes.includes(node)))
    throw noRrdFile(`pve-storage-9.0/${node}/${id}`);
  const { total, used } = ctx.cluster.usage(node, storage);
  return storageRrd(`${node}/${id}`, { total, used }, timeframe(ctx), cf(ctx));
}
