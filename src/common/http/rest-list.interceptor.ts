import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { map, type Observable } from 'rxjs';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../tools/mcp-tool.decorator.js';

/** The paging headers of a REST list answer (also exposed to browsers through CORS). */
export const LIST_HEADERS = ['X-Total-Count', 'X-Limit', 'X-Offset'] as const;

/**
 * The reference project's list shape on REST: for a tool with `restList` (GET /jobs), the JSON body is the array
 * itself and the paging moves to headers, so a script written for the reference (`for job in r.json()`) works.
 * Only on the tool's own REST route: MCP calls and POST /{tool_name} (context type `mcp`) keep the structured object.
 */
@Injectable()
export class RestListInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const tool = Reflect.getMetadata(MCP_TOOL_METADATA, context.getHandler()) as McpToolOptions | undefined;
    const key = tool?.restList;
    if (!key) return next.handle();
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map((result: unknown) => {
        const page = result as Record<string, unknown>;
        const header = (name: string, value: unknown) => {
          if (typeof value === 'number') res.setHeader(name, String(value));
        };
        header('X-Total-Count', page.total);
        header('X-Limit', page.limit);
        header('X-Offset', page.offset);
        return page[key];
      }),
    );
  }
}
