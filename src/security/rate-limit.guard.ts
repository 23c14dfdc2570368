import { Injectable, type ExecutionContext } from '@nestjs/common';
import { SkipThrottle, ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import { DomainError } from '../common/errors/domain-error.js';
import type { Principal } from '../common/tools/tool-definition.js';

type ThrottledRequest = { principal?: Principal; ip?: string };

/** The two limits @nestjs/throttler keeps: one bucket per API key, one per client address (throttler names). */
export const RATE_LIMIT_PER_KEY = 'per-key';
export const RATE_LIMIT_PER_ADDRESS = 'per-address';

/**
 * `http.rate_limit_rpm` tool calls per minute for each API key and for each client address, over REST, POST
 * /{tool} and MCP tools/call alike (a global guard, so it sees both paths). One bucket per caller across all
 * tools, not per route. Over the limit: 429 RATE_LIMITED with Retry-After on HTTP; an error result over MCP.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    return Promise.resolve((req as ThrottledRequest).ip ?? 'unknown');
  }

  protected override generateKey(context: ExecutionContext, tracker: string, name: string): string {
    const req = context.switchToHttp().getRequest<ThrottledRequest>();
    // the per-key bucket follows the key wherever it calls from; requests without a key fall back to the address
    const who = name === RATE_LIMIT_PER_KEY && req.principal ? `key:${req.principal.name}` : `ip:${tracker}`;
    return createHash('sha256').update(`${name}:${who}`).digest('hex');
  }

  protected override getRequestResponse(context: ExecutionContext) {
    const http = context.switchToHttp();
    // MCP tool calls carry no HTTP response object: headers are simply not set there
    return { req: http.getRequest<Record<string, unknown>>(), res: http.getResponse<object>() ?? {} };
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw new DomainError(
      'RATE_LIMITED',
      `Too many requests: at most ${detail.limit} tool calls per minute; retry in ${detail.timeToBlockExpire} s`,
      { details: { limit_per_minute: detail.limit, retry_after_seconds: detail.timeToBlockExpire } },
    );
  }
}

/** Exempts a controller or route from both rate-limit buckets (SkipThrottle() alone only covers 'default'). */
export const NoRateLimit = () => SkipThrottle({ [RATE_LIMIT_PER_KEY]: true, [RATE_LIMIT_PER_ADDRESS]: true });
