import type { NextFunction, Request, Response } from 'express';
import type { MetricsService } from './metrics.service.js';

/** nginx's convention for "the client closed the connection before the answer was sent". */
const CLIENT_CLOSED = 499;

/**
 * The first HTTP middleware (app.setup.ts), so refusals by later ones (API key, body limits) are counted too, as
 * in the reference (metrics outermost). The route template is read when the response ends, after routing.
 */
export function httpMetricsMiddleware(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!metrics.enabled) return next();
    const started = performance.now();
    res.once('close', () => {
      const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED;
      metrics.observeHttp(req, status, performance.now() - started);
    });
    next();
  };
}
