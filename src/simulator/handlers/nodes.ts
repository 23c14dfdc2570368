import type { RouteContext, Router } from '../router.js';
import { nodeStatus } from '../views.js';

/** Per-node reads: status and network configuration. */
export function registerNodeRoutes(router: Router): void {
  router
    .get('/nodes/{node}/status', (ctx) => nodeStatus(ctx.cluster, ctx.node()))
    .get('/nodes/{node}/network', network);
}

const BRIDGE_TYPES = new Set(['bridge', 'OVSBridge']);

/** GET /nodes/{node}/network[?type=…]: `any_bridge`/`any_local_bridge` select Linux and OVS bridges. */
function network(ctx: RouteContext): unknown {
  const interfaces = ctx.cluster.networkInterfaces(ctx.node().name);
  const type = ctx.str('type');
  const wanted = (t: string): boolean => {
    if (!type || type === 'include_sdn') return true;
    if (type === 'any_bridge' || type === 'any_local_bridge') return BRIDGE_TYPES.has(t);
    return t === type;
  };
  return interfaces.filter((i) => wanted(i.type)).map((i) => ({ ...i }));
}
