import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { Principal } from '../../common/tools/tool-definition.js';
import type { ManifestTool } from '../tool-manifest.js';
import { SERVER_CAPABILITIES, SERVER_INSTRUCTIONS, serverIdentity, type ServerInfo } from '../server-info.js';

/*
 * The stdio opener: answers a 2025-era client's opening (initialize, ping, the first tools/list) before the MCP
 * SDK is loaded. Importing the SDK and zod costs about as much as node's own start (bench figure 5), and a client
 * waits for tools/list before it shows a tool. This file imports node built-ins only; keep it that way.
 *
 * It answers only what it can answer exactly as the SDK would (the same result objects and key order, the same
 * version negotiation; test/e2e/stdio-opener.e2e.test.ts compares the bytes), and hands everything else to the SDK
 * unchanged: from the first message it does not answer (or the first tools/list, once answered), the SDK's
 * transport reads the rest of stdin, in order. The SDK is first fed the opening messages the client already sent
 * (initialize, notifications/initialized) so that it ends in the state it would have reached by itself; its answer
 * to the replayed initialize is not written again (TaskListenStdioTransport drops it, and warns if it differs).
 */

/** The local user of a stdio server: whoever started the process. */
export const STDIO_PRINCIPAL: Principal = { name: 'stdio', scope: 'admin', via: 'stdio' };

/**
 * How long the fast start waits for tools/list before it starts the application anyway (the opener hands over
 * then; serveStdioFast waits as long after a hand-over for another reason). Loading the application holds the
 * event loop for a second or more (module evaluation is synchronous), so a boot begun between a client's
 * `initialize` and its `tools/list` would delay that answer by as much: clients send both at once, so a second is
 * ample, and one that never lists its tools only gets the application a second later.
 */
export const BOOT_AFTER_IDLE_MS = 1000;

/**
 * The 2025-era protocol versions the SDK's Server negotiates through `initialize`, most preferred first (the
 * SDK's SUPPORTED_PROTOCOL_VERSIONS without the 2026-07-28 revisions; a contract test keeps the two equal). A
 * requested version in this list is echoed; any other is handed to the SDK, which answers with its own choice.
 */
export const OPENER_PROTOCOL_VERSIONS: readonly string[] = [
  '2025-11-25',
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
  '2024-10-07',
];

/** Why the opener stopped answering. */
export type OpeningEnd =
  /** it answered tools/list: the SDK and the application can load now */
  | 'listed'
  /** no tools/list within `idleMs`: load them anyway */
  | 'idle'
  /** a message it does not answer itself (the SDK reads it first) */
  | 'handover'
  /** stdin ended */
  | 'ended';

export interface StdioOpening {
  end: OpeningEnd;
  /**
   * What the SDK's transport reads instead of stdin: the replayed opening lines, then every byte the opener did
   * not answer, then the rest of stdin (piped; ended when stdin ends).
   */
  input: Readable;
  /** The answer the opener wrote to each replayed request, by id (the SDK's answers to these are dropped). */
  answered: Map<string | number, string>;
  /** Stops feeding stdin into `input` (the server closed; lets the process exit while stdin is still open). */
  release(): void;
}

export interface OpenerOptions {
  info: ServerInfo;
  /** tools/list for the stdio caller (the manifest, filtered as the application would). */
  tools: ManifestTool[];
  /** How long to wait for tools/list before handing over anyway. */
  idleMs: number;
  stdin?: Readable;
  stdout?: Writable;
}

/** Longer than any opening message: a line still unfinished past this is the SDK's to refuse. */
const MAX_OPENING_LINE = 1 << 20;
const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);

/** Reads stdin until the opening is over; resolves with what the SDK's transport must read from then on. */
export function openStdio(options: OpenerOptions): Promise<StdioOpening> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const replay: string[] = [];
  const answered = new Map<string | number, string>();
  let pending: Buffer = Buffer.alloc(0);
  let initialized = false;
  let flushed = true;

  const write = (id: string | number, result: unknown): string => {
    // the SDK's Protocol builds its responses in this key order, and its stdio transport writes JSON + '\n'
    const json = JSON.stringify({ result, jsonrpc: '2.0', id });
    flushed = stdout.write(`${json}\n`);
    return json;
  };

  /** One line: answered here (and whether that was tools/list), or not (it and all after go to the SDK). */
  const step = (line: string): 'answered' | 'listed' | 'handover' => {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return 'handover';
    }
    if (!isObject(message) || message.jsonrpc !== '2.0' || !keysWithin(message, REQUEST_KEYS))
      return 'handover';
    const { id, method, params } = message;
    if (!initialized) {
      if (method !== 'initialize' || !isRequestId(id) || !answerableInitialize(params)) return 'handover';
      const result = {
        protocolVersion: params.protocolVersion,
        capabilities: SERVER_CAPABILITIES,
        serverInfo: serverIdentity(options.info),
        instructions: SERVER_INSTRUCTIONS,
      };
      answered.set(id, write(id, result));
      replay.push(line);
      initialized = true;
      return 'answered';
    }
    if (method === 'notifications/initialized' && !('id' in message) && noParams(params)) {
      replay.push(line); // the SDK's Server records it; it has no answer
      return 'answered';
    }
    if (!isRequestId(id) || !noParams(params)) return 'handover';
    if (method === 'ping') {
      write(id, {});
      return 'answered';
    }
    if (method === 'tools/list') {
      write(id, { tools: options.tools });
      return 'listed';
    }
    return 'handover';
  };

  return new Promise<StdioOpening>((resolve) => {
    let finished = false;
    const finish = (end: OpeningEnd) => {
      if (finished) return;
      finished = true;
      clearTimeout(idle);
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      // handed over in this same tick: stdin is flowing, and data emitted without a listener would be lost
      const input = new PassThrough();
      input.write(Buffer.concat([...replay.map((line) => Buffer.from(`${line}\n`)), pending]));
      if (end === 'ended' || stdin.readableEnded) input.end();
      else stdin.pipe(input);
      const opening: StdioOpening = {
        end,
        input,
        answered,
        release: () => {
          stdin.unpipe(input);
          stdin.pause();
        },
      };
      // the tools/list answer (half a megabyte) may still be queued for a pipe the client has not read yet: what
      // comes next holds the event loop, so it waits until the answer is with the kernel (as the SDK's send does)
      if (flushed) return resolve(opening);
      const written = () => {
        stdout.off('drain', written);
        stdout.off('error', written); // a client gone: the SDK's transport finds out on its first write
        resolve(opening);
      };
      stdout.on('drain', written);
      stdout.on('error', written);
    };
    const onData = (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        const newline = pending.indexOf(0x0a);
        if (newline === -1) break;
        // as the SDK's ReadBuffer splits lines
        const outcome = step(pending.toString('utf8', 0, newline).replace(/\r$/, ''));
        if (outcome === 'handover') return finish('handover');
        pending = pending.subarray(newline + 1);
        if (outcome === 'listed') return finish('listed');
      }
      if (pending.length > MAX_OPENING_LINE) finish('handover');
    };
    const onEnd = () => finish('ended');
    // a client gone mid-opening (EPIPE) is not a crash: the SDK's transport, which listens from its start, closes
    // on the next write; until then nobody would be listening (the SDK's own listener stays after it closes too)
    stdout.on('error', () => undefined);
    const idle = setTimeout(() => finish('idle'), options.idleMs);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    if (stdin.readableEnded) finish('ended');
  });
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function keysWithin(value: Json, allowed: Set<string>): boolean {
  return Object.keys(value).every((key) => allowed.has(key));
}

/** The SDK's RequestIdSchema: a string or an integer. */
function isRequestId(value: unknown): value is string | number {
  return typeof value === 'string' || Number.isInteger(value);
}

/** Params the opener answers without reading them: none, or `{}` (a `_meta` or a cursor goes to the SDK). */
function noParams(params: unknown): boolean {
  return params === undefined || (isObject(params) && Object.keys(params).length === 0);
}

/**
 * An initialize the SDK's Server would accept and answer with the requested version: the InitializeRequest
 * schema (core's schemas.ts) checked for what the opener can be sure of, conservatively. No `_meta` (a
 * 2026-07-28 envelope claim changes the era), a version in OPENER_PROTOCOL_VERSIONS, clientInfo with string name
 * and version, and capabilities whose known members have the shapes the schema requires. Anything in doubt is
 * the SDK's to answer.
 */
function answerableInitialize(params: unknown): params is { protocolVersion: string } {
  if (!isObject(params) || !keysWithin(params, INITIALIZE_KEYS)) return false;
  const { protocolVersion, clientInfo, capabilities } = params;
  if (typeof protocolVersion !== 'string' || !OPENER_PROTOCOL_VERSIONS.includes(protocolVersion))
    return false;
  if (!isObject(clientInfo) || typeof clientInfo.name !== 'string' || typeof clientInfo.version !== 'string')
    return false;
  for (const key of ['title', 'websiteUrl', 'description'])
    if (clientInfo[key] !== undefined && typeof clientInfo[key] !== 'string') return false;
  if (clientInfo.icons !== undefined) return false;
  return knownCapabilities(capabilities);
}

const INITIALIZE_KEYS = new Set(['protocolVersion', 'capabilities', 'clientInfo']);

/** ClientCapabilitiesSchema, for the members a client commonly declares; anything unusual is handed over. */
function knownCapabilities(capabilities: unknown): boolean {
  if (!isObject(capabilities)) return false;
  for (const [key, value] of Object.entries(capabilities)) {
    if (!isObject(value)) return false;
    switch (key) {
      case 'roots':
        if (value.listChanged !== undefined && typeof value.listChanged !== 'boolean') return false;
        break;
      case 'sampling':
        if (!optionalObjects(value, ['context', 'tools'])) return false;
        break;
      case 'elicitation':
        if (!optionalObjects(value, ['form', 'url'])) return false;
        if (isObject(value.form) && value.form.applyDefaults !== undefined) {
          if (typeof value.form.applyDefaults !== 'boolean') return false;
        }
        break;
      case 'experimental':
      case 'extensions':
        if (!Object.values(value).every(isObject)) return false;
        break;
      case 'tasks':
        return false; // a deprecated 2025-11-25 shape with nested rules: the SDK decides
      default:
      // a name the schema does not know: it drops it
    }
  }
  return true;
}

function optionalObjects(value: Json, keys: string[]): boolean {
  return keys.every((key) => value[key] === undefined || isObject(value[key]));
}
