import { Logger } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { DomainError } from '../../common/errors/domain-error.js';
import type { ApiKeyConfig } from '../../config/app-config.js';
import type { AuthDenial } from '../api-key.middleware.js';
import { AuthFailureLimiter } from '../auth-failure-limiter.js';
import type { PolicyAudit } from '../approvals/policy-audit.js';
import { mayDecide, type ApprovalDecisions } from './approval-decisions.js';
import { errorPage, grantedPage, listPage, PAGE_CSP, signInPage } from './page-html.js';
import {
  cookieValue,
  PageSessions,
  SESSION_COOKIE,
  sessionCookie,
  type PageSession,
} from './page-session.js';

const logger = new Logger('ApprovalsPage');

/** The page itself; its forms post to the paths below it. */
export const APPROVALS_PAGE_PATH = '/approvals';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DECISION =
  /^\/approvals\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(approve|deny)$/;
/** Form bodies are a key or a CSRF token: anything larger is not one of ours. */
const MAX_FORM_BYTES = 4096;

export interface ApprovalsPageOptions {
  apiKeys: readonly ApiKeyConfig[];
  decisions: ApprovalDecisions;
  audit: PolicyAudit;
  /** The risk class of a tool (from the tool registry, which lives above this layer). */
  riskOf: (tool: string) => string | undefined;
  failureLimit: number;
  failureWindowMs: number;
  /** A wrong key on the sign-in form, for the audit log like any other failed API-key attempt. */
  onDenied?: (denial: AuthDenial) => void;
  /** The Host/Origin rules of /mcp (DNS-rebinding protection), applied to the page's own requests. */
  hostCheck?: RequestHandler;
  now?: () => number;
}

/**
 * /approvals: the operator's page to approve or deny pending requests in a browser. Server-rendered HTML with a
 * strict CSP (no script at all, one hashed style, forms to 'self' only). It sits before the API-key middleware
 * and authenticates on its own: a sign-in form takes an admin API key once and answers with a signed session
 * cookie (HttpOnly, SameSite=Strict, Path=/approvals, see page-session.ts). Every form post must carry the
 * session's CSRF token and come from the page's own origin. Approving is POST /approvals/{id}'s own code
 * (ApprovalsService.approveAsPrincipal); the token is shown once, in that answer.
 *
 * Requests it does not own (the JSON routes GET/POST /approvals/{id}, anything with an Authorization header on
 * GET /approvals) pass through unchanged to the API-key middleware and Nest.
 */
export function approvalsPageMiddleware(options: ApprovalsPageOptions) {
  const sessions = new PageSessions(options.apiKeys, options.now);
  const limiter = new AuthFailureLimiter(options.failureLimit, options.failureWindowMs);
  const now = options.now ?? Date.now;

  const handle = async (req: Request, res: Response): Promise<void> => {
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Frame-Options', 'DENY');
    // not helmet's no-referrer: under it browsers send `Origin: null` with the page's own form posts
    res.setHeader('Referrer-Policy', 'same-origin');
    const session = sessions.verify(cookieValue(req.headers.cookie, SESSION_COOKIE));
    const secure = req.secure;

    if (req.method === 'GET') {
      if (!session) return send(res, 200, signInPage(undefined, sessions.configured));
      const denied =
        typeof req.query.denied === 'string' && UUID.test(req.query.denied) ? req.query.denied : undefined;
      return list(res, session, 200, denied ? { notice: `Denied request ${denied}.` } : undefined);
    }

    // every form post: from this page's own origin, as a form
    if (!sameOrigin(req)) {
      return send(
        res,
        403,
        errorPage(403, 'Form posts to the approvals page must come from the page itself.'),
      );
    }
    let form: URLSearchParams;
    try {
      form = await readForm(req);
    } catch (error) {
      return send(res, 400, errorPage(400, (error as Error).message));
    }

    if (req.path === '/approvals/sign-in') {
      const key = form.get('key') ?? '';
      const principal = key ? sessions.match(key) : undefined;
      if (!principal) return refuseSignIn(req, res, key ? 'invalid' : 'missing');
      if (!mayDecide(principal)) {
        await options.audit.record(pageEvent(principal.name, 'denied', 'NOT_ADMIN'));
        return send(
          res,
          403,
          signInPage({
            error: `The key '${principal.name}' is not an admin key; only admin keys approve requests.`,
          }),
        );
      }
      await options.audit.record(pageEvent(principal.name, 'succeeded', 'SIGNED_IN'));
      res.setHeader('Set-Cookie', sessionCookie(sessions.issue(principal), secure));
      return redirect(res);
    }

    if (!session) {
      return send(
        res,
        401,
        signInPage(
          { error: 'Your session has ended (or you were never signed in); sign in again.' },
          sessions.configured,
        ),
      );
    }
    if (!sessions.csrfMatches(session, form.get('csrf') ?? undefined)) {
      return send(
        res,
        403,
        errorPage(
          403,
          'This form is stale or was not sent by this page (CSRF token mismatch); reload the page.',
          view(session),
        ),
      );
    }

    if (req.path === '/approvals/sign-out') {
      sessions.signOut(session);
      res.setHeader('Set-Cookie', sessionCookie('', secure, 0));
      return send(res, 200, signInPage({ notice: 'Signed out.' }, sessions.configured));
    }

    const [, id, action] = DECISION.exec(req.path)!;
    try {
      if (action === 'approve') {
        const granted = await options.decisions.approve(id, session.principal);
        return send(res, 200, grantedPage(granted, view(session)));
      }
      await options.decisions.deny(id, session.principal);
      return redirect(res, `?denied=${id}`);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const status =
        error.code === 'NOT_FOUND'
          ? 404
          : error.code === 'CONFLICT'
            ? 409
            : error.code === 'FORBIDDEN'
              ? 403
              : 400;
      return list(res, session, status, { error: `${error.message}${error.hint ? ` ${error.hint}` : ''}` });
    }
  };

  const list = async (
    res: Response,
    session: PageSession,
    status: number,
    message?: { error: string } | { notice: string },
  ): Promise<void> => {
    const at = now();
    const items = (await options.decisions.pending()).map((request) => ({
      request,
      risk: options.riskOf(request.toolName),
      expired: request.requestExpiresAt <= at,
    }));
    send(res, status, listPage(items, view(session), message));
  };

  const refuseSignIn = (req: Request, res: Response, why: 'missing' | 'invalid'): void => {
    const address = req.ip ?? req.socket.remoteAddress;
    const verdict = limiter.fail(address);
    if (verdict.count <= options.failureLimit + 1) {
      options.onDenied?.({
        reason: verdict.throttled ? 'throttled' : why,
        address,
        method: req.method,
        path: req.path,
        failures: verdict.count,
      });
    }
    if (verdict.throttled) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))));
      return send(
        res,
        429,
        signInPage(
          { error: 'Too many failed sign-ins from this address; wait and try again.' },
          sessions.configured,
        ),
      );
    }
    send(
      res,
      401,
      signInPage(
        { error: why === 'missing' ? 'Enter an API key.' : 'That key is not valid.' },
        sessions.configured,
      ),
    );
  };

  return (req: Request, res: Response, next: NextFunction): void => {
    if (!owns(req)) return next();
    const run = () =>
      handle(req, res).catch((error: unknown) => {
        logger.error(`${req.method} ${req.path} failed: ${(error as Error)?.stack ?? String(error)}`);
        if (!res.headersSent)
          send(res, 500, errorPage(500, 'The approvals page failed; see the server log.'));
      });
    if (options.hostCheck) options.hostCheck(req, res, () => void run());
    else void run();
  };
}

/** The requests this page answers; everything else is the JSON API's. */
function owns(req: Request): boolean {
  if (req.method === 'GET') {
    return (
      (req.path === APPROVALS_PAGE_PATH || req.path === `${APPROVALS_PAGE_PATH}/`) &&
      !req.headers.authorization
    );
  }
  if (req.method !== 'POST') return false;
  return req.path === '/approvals/sign-in' || req.path === '/approvals/sign-out' || DECISION.test(req.path);
}

/**
 * A form post from the page itself. Browsers mark it Sec-Fetch-Site: same-origin; without that header the Origin
 * (when sent) must name this Host. The CSRF token is checked as well: either alone would do in today's browsers.
 */
function sameOrigin(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

async function readForm(req: Request): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new Error('The approvals page takes form posts (application/x-www-form-urlencoded) only.');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error(`Form too large (over ${MAX_FORM_BYTES} bytes).`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const view = (session: PageSession) => ({ name: session.principal.name, csrf: session.csrf });

function pageEvent(actor: string, outcome: 'succeeded' | 'denied', reason: string) {
  return { actor, action: 'approval.page_sign_in', outcome, reason, details: { via: 'approvals page' } };
}

function send(res: Response, status: number, html: string): void {
  res.status(status).type('text/html; charset=utf-8').send(html);
}

/** Post/redirect/get back to the list (303: the browser follows with GET). */
function redirect(res: Response, query = ''): void {
  res.status(303).setHeader('Location', `${APPROVALS_PAGE_PATH}${query}`);
  res.end();
}
