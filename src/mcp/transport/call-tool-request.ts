import {
  ProtocolError,
  ProtocolErrorCode,
  type CallToolRequest,
  type StandardSchemaV1,
} from '@modelcontextprotocol/server';

const SHAPE = 'tools/call takes params {"name": "<tool name>", "arguments": {<argument>: <value>, …}}';

export type CheckedCallParams = CallToolRequest['params'];

/**
 * The params schema our tools/call handler is registered with (the SDK's 3-argument setRequestHandler), in place
 * of the SDK's own: its parse answers a malformed call with a raw zod dump, and its copy of `arguments` drops an
 * `__proto__` key (it becomes the copy's prototype) that the invoker must see to refuse. A Standard Schema by hand
 * because the check throws the exact protocol error to answer.
 */
export const CHECKED_CALL_PARAMS: StandardSchemaV1<unknown, CheckedCallParams> = {
  '~standard': {
    version: 1,
    vendor: 'proxmox-mcp-plus',
    validate: (params) => ({ value: checkedCallParams(params) }),
  },
};

/**
 * The tools/call params our handler relies on, checked field by field: a malformed call (no name, `arguments` an
 * array, a numeric `name`) is answered -32602 Invalid params naming the field, what it was and what is accepted,
 * never an internal error. The SDK has parsed the envelope already; this is what the handler itself reads.
 *
 * The arguments object is handed on as the client sent it, not as a parsed copy: a copy built key by key
 * turns an `__proto__` key into the copy's prototype, and the tool would never see it. The invoker refuses it
 * like any unknown argument instead.
 */
export function checkedCallParams(params: unknown): CheckedCallParams {
  if (params === undefined || params === null) {
    throw invalid(`params is missing; ${SHAPE}`);
  }
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw invalid(`params must be an object, got ${kind(params)}; ${SHAPE}`);
  }
  const { name, arguments: args } = params as CallToolRequest['params'] & Record<string, unknown>;
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
  const meta = (params as Record<string, unknown>)._meta;
  if (meta !== undefined && (typeof meta !== 'object' || meta === null || Array.isArray(meta))) {
    throw invalid(`params._meta must be an object, got ${kind(meta)}`);
  }
  const progressToken = (meta as Record<string, unknown> | undefined)?.progressToken;
  if (progressToken !== undefined && typeof progressToken !== 'string' && typeof progressToken !== 'number') {
    throw invalid(`params._meta.progressToken must be a string or a number, got ${kind(progressToken)}`);
  }
  return params as CheckedCallParams;
}

const invalid = (message: string) =>
  new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid tools/call: ${message}`);

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)?.slice(0, 40) ?? ''}`.trim();
}
