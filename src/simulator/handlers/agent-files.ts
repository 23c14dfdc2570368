import { assertAgentAvailable } from '../guest-agent.js';
import { readFile, writeFile } from '../guest-files.js';
import type { RouteContext, Router } from '../router.js';
import { guestOf } from './guests.js';

/**
 * The guest agent's file endpoints (qemu-server API2/Qemu/Agent.pm): file-read (GET, `count`/`offset`, `decode`
 * off = base64) and file-write (POST, `encode` off = `content` is already base64). The agent checks come first,
 * as in PVE; the files are the guest's (guest-files.ts).
 */
const BASE = '/nodes/{node}/qemu/{vmid}/agent';

export function registerAgentFileRoutes(router: Router): void {
  router.get(`${BASE}/file-read`, (ctx: RouteContext) => {
    const guest = guestOf(ctx, 'qemu');
    assertAgentAvailable(guest);
    return readFile(guest, ctx.str('file') ?? '', {
      count: ctx.int('count'),
      offset: ctx.int('offset'),
      decode: ctx.has('decode') ? ctx.bool('decode') : true,
    });
  });
  router.post(`${BASE}/file-write`, (ctx: RouteContext) => {
    const guest = guestOf(ctx, 'qemu');
    assertAgentAvailable(guest);
    return writeFile(
      guest,
      ctx.str('file') ?? '',
      ctx.str('content') ?? '',
      ctx.has('encode') ? ctx.bool('encode') : true,
    );
  });
}
