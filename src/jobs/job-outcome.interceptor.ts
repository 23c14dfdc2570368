import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { callArguments } from '../audit/tool-call-facts.js';
import { DomainError } from '../common/errors/domain-error.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../mcp/decorators/mcp-tool.decorator.js';
import type { JobDto } from './dto/job.dto.js';

/**
 * Global, inside the audit interceptor: a mutating tool called with `wait: true` whose job ended `failed` is a
 * failed call, not a success that happens to carry a failed job. It becomes JOB_FAILED (HTTP 502, MCP isError)
 * with the job attached: MCP structuredContent is the job (the tool's own output shape), REST has it in
 * `details.job`. Jobs still running when the wait ended (wait_timed_out) and completed jobs stay results; a
 * service's internal waits (a stop before a delete) are the service's to judge.
 */
@Injectable()
export class JobOutcomeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const tool = Reflect.getMetadata(MCP_TOOL_METADATA, context.getHandler()) as McpToolOptions | undefined;
    if (!tool || tool.risk === 'read') return next.handle();
    const wait = callArguments(context.switchToHttp().getRequest()).wait;
    if (wait !== true && wait !== 'true') return next.handle();
    return next.handle().pipe(
      map((result: unknown) => {
        if (isFailedJob(result)) throw jobFailed(result);
        return result;
      }),
    );
  }
}

function isFailedJob(result: unknown): result is JobDto {
  if (!result || typeof result !== 'object') return false;
  const r = result as Partial<JobDto>;
  return typeof r.job_id === 'string' && typeof r.tool_name === 'string' && r.status === 'failed';
}

export function jobFailed(job: JobDto): DomainError {
  return new DomainError(
    'JOB_FAILED',
    `${job.summary}: the Proxmox task failed${job.last_error ? `: ${job.last_error}` : ''} (job ${job.job_id})`,
    {
      hint:
        'Nothing more will happen for this job. Read last_error (get_job shows the task log), fix the cause, then ' +
        'call the tool again or retry_job with this job_id.',
      details: { job_id: job.job_id, task_id: job.task_id, job },
      structured: job as unknown as Record<string, unknown>,
    },
  );
}
