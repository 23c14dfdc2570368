import { Router } from '../router.js';
import { registerAccessRoutes } from './access.js';
import { registerAgentRoutes } from './agent.js';
import { registerBackupRoutes } from './vzdump.js';
import { registerClusterRoutes } from './cluster.js';
import { registerDiskRoutes } from './disks.js';
import { registerDownloadRoutes } from './download.js';
import { registerGuestRoutes } from './guests.js';
import { registerLxcConfigRoutes } from './lxc-config.js';
import { registerLxcLifecycleRoutes } from './lxc-lifecycle.js';
import { registerLogRoutes } from './logs.js';
import { registerMigrationRoutes } from './migration.js';
import { registerNodeRoutes } from './nodes.js';
import { registerPoolRoutes } from './pools.js';
import { registerPowerRoutes } from './power.js';
import { registerQemuConfigRoutes } from './qemu-config.js';
import { registerQemuLifecycleRoutes } from './qemu-lifecycle.js';
import { registerSnapshotRoutes } from './snapshots.js';
import { registerStorageContentRoutes } from './storage-content.js';
import { registerStorageRoutes } from './storage.js';
import { registerTaskRoutes } from './tasks.js';

/** Every endpoint the simulator implements; anything else in the schema answers 501 "… by the PVE simulator". */
export function buildRouter(): Router {
  const router = new Router();
  registerClusterRoutes(router);
  registerPoolRoutes(router);
  registerAccessRoutes(router);
  registerNodeRoutes(router);
  registerGuestRoutes(router);
  registerPowerRoutes(router);
  registerQemuConfigRoutes(router);
  registerQemuLifecycleRoutes(router);
  registerLxcLifecycleRoutes(router);
  registerLxcConfigRoutes(router);
  registerDiskRoutes(router);
  registerMigrationRoutes(router);
  registerSnapshotRoutes(router);
  registerAgentRoutes(router);
  registerStorageRoutes(router);
  registerStorageContentRoutes(router);
  registerBackupRoutes(router);
  registerDownloadRoutes(router);
  registerTaskRoutes(router);
  registerLogRoutes(router);
  return router;
}
