import {
  CallToolRequestSchema,
  ErrorCode,
  McpError,
  type CallToolRequest,
} from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod/v4';

const SHAPE = 'tools/call takes params {"name": "<tool name>", "arguments": {<argument>: <value>, …}}';

/**
 * The tools/call request schema our servers register instead of the SDK's CallToolRequestSchema.
 *
 * With the SDK's schema, a malformed call (no params, `arguments` an array, a numeric `name`) fails inside the
 * SDK's own parse and is answered -32603 Internal error with a raw zod dump. Here params are checked first and a
 * malformed call is answered -32602 Invalid params naming the field, what it was and what is accepted. (The SDK
 * parses request params with this schema before anything else; an McpError thrown by the transform is what it
 * answers with.)
 *
 * The arguments object is handed on as the client sent it, not as a parsed copy: a copy built key by key
 * turns an `__proto__` key into the copy's prototype, and the tool would never see it. The invoker refuses it
 * like any unknown argument instead.
 */
export const CheckedCallToolRequestSchema = z.object({
  method: z.literal('tools/call'),
  params: z.unknown().transform((params) => checkedParams(params)),
});

function checkedParams(params: unknown): CallToolRequest['params'] {
  if (params === undefined || params === null) {
    throw invalid(`params is missing; ${SHAPE}`);
  }
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw invalid(`params must be an object, got ${kind(params)}; ${SHAPE}`);
  }
  const { name, arguments: args } = params as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') {
    throw invalid(
      `params.name must be the tool name as a string, got ${name === undefined ? 'nothing' : kind(name)}; ` +
        'tools/list names the tools',
    );
  }
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    throw invalid(
      `params.arguments must be an object of argument names to values, got ${kind(args)}; ` +
        `the input schema of '${name}' in tools/list lists them`,
    );
  }
  // the rest (_meta, task) as the SDK defines it, reported by field rather than as a dump
  const parsed = CallToolRequestSchema.shape.params.safeParse(params);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `params.${issue.path.map(String).join('.')}: ${issue.message}`,
    );
    throw invalid(problems.join('; '));
  }
  return {
    ...parsed.data,
    name,
    ...(args === undefined ? {} : { arguments: args as Record<string, unknown> }),
  };
}

const invalid = (message: string) => new McpError(ErrorCode.InvalidParams, `Invalid tools/call: ${message}`);

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 40) ?? ''}`.trim();
}
