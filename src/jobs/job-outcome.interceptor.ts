import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { callArguments } from '../audit/tool-call-facts.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../common/tools/mcp-tool.decorator.js';
import type { JobDto } from './dto/job.dto.js';
import { jobFailed } from './job-failed.js';

/**
 * Global, inside the audit interceptor: a mutating tool called with `wait: true` whose job ended `failed` is a
 * failed call, not a success that happens to carry a failed job. It becomes JOB_FAILED (HTTP 502, MCP isError)
 * with the job attached: MCP structuredContent is the tool's own result (the job, or a container tool's
 * per-container results), REST has the job in `details.job`. Jobs still running when the wait ended (wait_timed_out) and completed jobs stay results; a
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
        const failed = failedJobOf(result);
        if (failed) throw jobFailed(failed.job, failed.structured);
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

/**
 * The failed job of a result: a JobDto, or a per-guest action result (container tools: `results[].job`) in which
 * nothing succeeded and a job failed. A selection where some guests succeeded stays a result listing each one.
 */
function failedJobOf(result: unknown): { job: JobDto; structured: Record<string, unknown> } | undefined {
  if (isFailedJob(result)) return { job: result, structured: result as unknown as Record<string, unknown> };
  if (!result || typeof result !== 'object') return undefined;
  const r = result as { results?: unknown; succeeded?: unknown; failed?: unknown };
  if (!Array.isArray(r.results) || r.succeeded !== 0 || typeof r.failed !== 'number' || r.failed === 0) {
    return undefined;
  }
  const job = (r.results as Array<{ job?: unknown }>).map((item) => item?.job).find(isFailedJob);
  return job ? { job, structured: result as Record<string, unknown> } : undefined;
}
