import { Router } from '../router.js';
import { registerAgentRoutes } from './agent.js';
import { registerClusterRoutes } from './cluster.js';
import { registerGuestRoutes } from './guests.js';
import { registerNodeRoutes } from './nodes.js';
import { registerPowerRoutes } from './power.js';
import { registerQemuConfigRoutes } from './qemu-config.js';
import { registerQemuLifecycleRoutes } from './qemu-lifecycle.js';
import { registerSnapshotRoutes } from './snapshots.js';
import { registerStorageRoutes } from './storage.js';
import { registerTaskRoutes } from './tasks.js';

/** Every endpoint the simulator implements; anything else in the schema answers 501 "… by the PVE simulator". */
export function buildRouter(): Router {
  const router = new Router();
  registerClusterRoutes(router);
  registerNodeRoutes(router);
  registerGuestRoutes(router);
  registerPowerRoutes(router);
  registerQemuConfigRoutes(router);
  registerQemuLifecycleRoutes(router);
  registerSnapshotRoutes(router);
  registerAgentRoutes(router);
  registerStorageRoutes(router);
  registerTaskRoutes(router);
  return router;
}
