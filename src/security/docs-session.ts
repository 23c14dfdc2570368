import type { Request, Response } from 'express';
import type { Principal } from '../common/tools/tool-definition.js';
import { presentedCredential } from './api-key.middleware.js';

/** Under the documentation prefix, so the Basic login that opened /docs is accepted for it (GET only). */
export const DOCS_SESSION_PATH = '/docs/session';

/**
 * GET /docs/session: the API key this request authenticated with, for the Swagger UI page to authorize itself
 * ("Try it out" then sends `Authorization: Bearer <key>` at once, without the Authorize dialog).
 *
 * It only echoes the credential the request itself carried (the Basic password a browser sends for /docs), so it
 * tells nobody anything new. Other origins cannot read it: CORS never allows credentials here, and a request a
 * browser marks as coming from another site is refused outright. Never cached.
 */
export function docsSessionHandler() {
  return (req: Request & { principal?: Principal }, res: Response): void => {
    res.setHeader('Cache-Control', 'no-store');
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      res.status(403).json({
        statusCode: 403,
        code: 'FORBIDDEN',
        message: 'The documentation session is only served to the documentation page itself (same origin)',
      });
      return;
    }
    const credential =
      req.principal?.via === 'api-key' ? presentedCredential(req.headers.authorization) : undefined;
    res.json(credential ? { scheme: 'bearer', key: credential.secret } : {});
  };
}

/**
 * Swagger UI's onComplete hook (serialised into swagger-ui-init.js by @nestjs/swagger, so it must not reference
 * anything outside itself): fetches /docs/session next to the page and preauthorizes the "bearer" scheme.
 */
export function authorizeFromDocsSession(this: void): void {
  // the browser's window (no DOM types in this project)
  const w = globalThis as unknown as {
    location: { pathname: string };
    ui?: { preauthorizeApiKey(name: string, value: string): void };
  };
  const path = w.location.pathname.replace(/\/(index\.html)?$/, '') + '/session';
  fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } })
    .then((r) => (r.ok ? r.json() : {}))
    .then((session: { key?: string }) => {
      if (session.key && w.ui) w.ui.preauthorizeApiKey('bearer', session.key);
    })
    .catch(() => undefined);
}
