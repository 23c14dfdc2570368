import type { Router } from '../router.js';

/** GET /access/permissions: the API token's effective privileges (see access.ts). */
export function registerAccessRoutes(router: Router): void {
  router.get('/access/permissions', (ctx) =>
    ctx.access.permissions(ctx.authUser, { path: ctx.params.path, userid: ctx.params.userid }),
  );
}
