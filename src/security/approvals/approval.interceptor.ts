import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, from, mergeMap, Observable } from 'rxjs';
import { currentCall, runWithCallContext } from '../../common/context/call-context.js';
import type { DeferredApproval } from './deferred-approval.js';

/**
 * Global, inside the audit interceptor (and around the ValidationPipe and the handler): a gated call runs with its
 * pending approval in the call context, so the service's first change (a job, a PVE mutation, an SSH command)
 * settles it through approvalCheckpoint() after every validation and read-only check. Fails closed: a handler
 * that returns without having made a change settles it before its result is handed out, and an error of a call
 * whose approval was refused is always that refusal.
 */
@Injectable()
export class ApprovalInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const approval = context.switchToHttp().getRequest<{ approval?: DeferredApproval }>().approval;
    if (!approval) return next.handle();
    const refusalOr = async (error: unknown): Promise<never> => {
      if (approval.asked) await approval.settle(); // throws the refusal, if that is how it ended
      throw error;
    };
    return new Observable((subscriber) =>
      runWithCallContext({ ...currentCall(), approval }, () =>
        next
          .handle()
          .pipe(
            mergeMap(async (result: unknown) => {
              await approval.settle();
              return result;
            }),
            catchError((error: unknown) => from(refusalOr(error))),
          )
          .subscribe(subscriber),
      ),
    );
  }
}
