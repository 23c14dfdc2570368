import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable } from 'rxjs';
import type { Principal } from '../tools/tool-definition.js';
import { runWithCallContext } from './call-context.js';

/**
 * REST requests get the same call context MCP tool calls get from the tool invoker: who is calling, and an abort
 * signal that fires when the client hangs up (a `wait` then stops early). MCP calls arrive with theirs already set.
 */
@Injectable()
export class CallContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request & { principal?: Principal }>();
    const res = http.getResponse<Response>();
    const aborted = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) aborted.abort();
    });
    return new Observable((subscriber) =>
      runWithCallContext({ signal: aborted.signal, principal: req.principal }, () =>
        next.handle().subscribe(subscriber),
      ),
    );
  }
}
