import { randomUUID } from 'node:crypto';
import {
  acceptedContent,
  CLIENT_CAPABILITIES_META_KEY,
  createRequestStateCodec,
  inputRequired,
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  type CallToolResult,
  type ClientCapabilities,
  type GetPromptResult,
  type InputRequests,
  type InputRequiredResult,
  type ReadResourceResult,
  type Server,
  type ServerContext,
  type Tool,
} from '@modelcontextprotocol/server';
import type { McpServerExtension } from '../../src/mcp/transport/mcp-server.js';

/**
 * The official MCP conformance suite's fixtures (@modelcontextprotocol/conformance): the tools, resources and
 * prompts named `test_*` / `test://…` its scenarios call, answering as its reference "everything server" does
 * (typescript-sdk test/conformance/src/everythingServer.ts). Test-only: a test installs them with
 * `McpServerFactory.extend(conformanceFixture())` on a server it started itself, so the suite exercises our real
 * transport (createMcpHandler, stateless, both eras), our tools and this fixture side by side. Nothing here is
 * in the published package (dist/src) and no config or environment variable can load it.
 */
export function conformanceFixture(): McpServerExtension {
  // SEP-2322: a request state a client echoes back is attacker-controlled: HMAC-sealed with a per-process key
  const codec = createRequestStateCodec<Record<string, unknown>>({
    key: crypto.getRandomValues(new Uint8Array(32)),
  });
  return {
    handlers: (inner) => ({
      ...inner,
      listTools: () => ({ tools: [...inner.listTools().tools, ...FIXTURE_TOOLS] }),
      callTool: async (params, ctx) => {
        const run = TOOL_RUNS[params.name];
        if (!run) return inner.callTool(params, ctx);
        return (await run(params.arguments ?? {}, ctx, (state) => codec.mint(state))) as CallToolResult;
      },
      // the fixture's own state first; anything else is ours (approvals), which refuses what it did not seal
      verifyRequestState: async (state, ctx) => {
        try {
          return await codec.verify(state, ctx);
        } catch {
          return inner.verifyRequestState(state, ctx);
        }
      },
    }),
    install: (server) => installResourcesAndPrompts(server),
  };
}

type Mint = (state: Record<string, unknown>) => Promise<string>;
type ToolRun = (
  args: Record<string, unknown>,
  ctx: ServerContext,
  mint: Mint,
) => Promise<CallToolResult | InputRequiredResult>;

const IMAGE =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const AUDIO = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';
const EMPTY = { type: 'object' as const, properties: {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });

const askName = (message = 'What is your name?') =>
  inputRequired.elicit({
    message,
    requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  });
const askConfirm = () =>
  inputRequired.elicit({
    message: 'Please confirm',
    requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
  });
const askLlm = (prompt: string, maxTokens: number) =>
  inputRequired.createMessage({
    messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
    maxTokens,
  });

/**
 * A server-to-client request of the 2025 era (sampling, elicitation). Our Streamable HTTP is stateless: the
 * client's answer arrives as a new POST that no server is waiting for, so this gives up after ASK_TIMEOUT_MS
 * instead of holding the suite until its scenario timeout.
 */
const ASK_TIMEOUT_MS = 1500;
async function ask(
  ctx: ServerContext,
  method: 'sampling/createMessage' | 'elicitation/create',
  params: object,
) {
  try {
    const result = (await ctx.mcpReq.send({ method, params } as never, {
      timeout: ASK_TIMEOUT_MS,
    })) as Record<string, unknown>;
    return text(`${method} answered: ${JSON.stringify(result)}`);
  } catch (error) {
    return text(
      `${method} not supported or failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

const TOOL_RUNS: Record<string, ToolRun> = {
  test_simple_text: async () => text('This is a simple text response for testing.'),
  test_image_content: async () => ({ content: [{ type: 'image', data: IMAGE, mimeType: 'image/png' }] }),
  test_audio_content: async () => ({ content: [{ type: 'audio', data: AUDIO, mimeType: 'audio/wav' }] }),
  test_embedded_resource: async () => ({
    content: [
      {
        type: 'resource',
        resource: {
          uri: 'test://embedded-resource',
          mimeType: 'text/plain',
          text: 'This is an embedded resource content.',
        },
      },
    ],
  }),
  test_multiple_content_types: async () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: IMAGE, mimeType: 'image/png' },
      {
        type: 'resource',
        resource: {
          uri: 'test://mixed-content-resource',
          mimeType: 'application/json',
          text: JSON.stringify({ test: 'data', value: 123 }),
        },
      },
    ],
  }),
  test_tool_with_logging: async (_args, ctx) => {
    for (const data of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
      await ctx.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', data } });
      await sleep(20);
    }
    return text('Tool with logging executed successfully');
  },
  test_tool_with_progress: async (_args, ctx) => {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    if (progressToken !== undefined) {
      for (const progress of [0, 50, 100]) {
        await ctx.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` },
        });
        await sleep(20);
      }
    }
    return text(String(progressToken ?? 'no-progress-token'));
  },
  test_error_handling: async () => ({
    content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
    isError: true,
  }),
  test_sampling: async (args, ctx) =>
    ask(ctx, 'sampling/createMessage', {
      messages: [
        { role: 'user', content: { type: 'text', text: typeof args.prompt === 'string' ? args.prompt : '' } },
      ],
      maxTokens: 100,
    }),
  test_elicitation: async (args, ctx) =>
    ask(ctx, 'elicitation/create', {
      message: typeof args.message === 'string' ? args.message : '',
      requestedSchema: {
        type: 'object',
        properties: { response: { type: 'string', description: "User's response" } },
        required: ['response'],
      },
    }),
  test_elicitation_sep1034_defaults: async (_args, ctx) =>
    ask(ctx, 'elicitation/create', {
      message: 'Please review and update the form fields with defaults',
      requestedSchema: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'User name', default: 'John Doe' },
          age: { type: 'integer', description: 'User age', default: 30 },
          score: { type: 'number', description: 'User score', default: 95.5 },
          status: {
            type: 'string',
            description: 'User status',
            enum: ['active', 'inactive', 'pending'],
            default: 'active',
          },
          verified: { type: 'boolean', description: 'Verification status', default: true },
        },
        required: [],
      },
    }),
  test_elicitation_sep1330_enums: async (_args, ctx) =>
    ask(ctx, 'elicitation/create', {
      message: 'Please select options from the enum fields',
      requestedSchema: {
        type: 'object',
        properties: {
          untitledSingle: {
            type: 'string',
            description: 'Select one option',
            enum: ['option1', 'option2', 'option3'],
          },
          titledSingle: {
            type: 'string',
            description: 'Select one option with titles',
            oneOf: [
              { const: 'value1', title: 'First Option' },
              { const: 'value2', title: 'Second Option' },
              { const: 'value3', title: 'Third Option' },
            ],
          },
          legacyEnum: {
            type: 'string',
            description: 'Select one option (legacy)',
            enum: ['opt1', 'opt2', 'opt3'],
            enumNames: ['Option One', 'Option Two', 'Option Three'],
          },
          untitledMulti: {
            type: 'array',
            description: 'Select multiple options',
            minItems: 1,
            maxItems: 3,
            items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
          },
          titledMulti: {
            type: 'array',
            description: 'Select multiple options with titles',
            minItems: 1,
            maxItems: 3,
            items: {
              anyOf: [
                { const: 'value1', title: 'First Choice' },
                { const: 'value2', title: 'Second Choice' },
                { const: 'value3', title: 'Third Choice' },
              ],
            },
          },
        },
        required: [],
      },
    }),
  json_schema_2020_12_tool: async (args) =>
    text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  // SEP-2575 (server-stateless) diagnostics
  test_missing_capability: async (_args, ctx) =>
    ctx.mcpReq.inputResponses?.llm_answer === undefined
      ? inputRequired({ inputRequests: { llm_answer: askLlm('Reply with the single word: pong', 16) } })
      : text('sampling round-trip complete'),
  test_streaming_elicitation: async () => text('stream observed: result frames only, no top-level requests'),
  test_logging_tool: async (_args, ctx) => {
    await ctx.mcpReq.log(
      'info',
      'test_logging_tool ran (delivered only when the request set _meta.logLevel)',
    );
    return text('logged through the request-scoped, logLevel-gated channel');
  },
  // SEP-2322 multi round-trip requests (2026-07-28)
  test_input_required_result_elicitation: async (_args, ctx) => {
    const name = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, 'user_name')?.name;
    if (typeof name !== 'string') return inputRequired({ inputRequests: { user_name: askName() } });
    return text(`Hello, ${name}!`);
  },
  test_input_required_result_sampling: async (_args, ctx) => {
    const answer = ctx.mcpReq.inputResponses?.capital_question as { content?: { text?: string } } | undefined;
    if (answer === undefined)
      return inputRequired({
        inputRequests: { capital_question: askLlm('What is the capital of France?', 100) },
      });
    return text(`Sampling response: ${answer.content?.text ?? JSON.stringify(answer)}`);
  },
  test_input_required_result_list_roots: async (_args, ctx) => {
    const roots = (ctx.mcpReq.inputResponses?.client_roots as { roots?: { uri?: string }[] } | undefined)
      ?.roots;
    if (!Array.isArray(roots))
      return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
    return text(`Client exposed ${roots.length} root(s): ${roots.map((r) => r.uri).join(', ')}`);
  },
  test_input_required_result_request_state: async (_args, ctx, mint) => {
    if (acceptedContent(ctx.mcpReq.inputResponses, 'confirm') === undefined)
      return inputRequired({
        inputRequests: { confirm: askConfirm() },
        requestState: await mint({ tool: 'request_state', nonce: randomUUID() }),
      });
    if (ctx.mcpReq.requestState() === undefined)
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid requestState: missing');
    return text('state-ok: requestState verified and confirmation received');
  },
  test_input_required_result_multiple_inputs: async (_args, ctx, mint) => {
    const responses = ctx.mcpReq.inputResponses;
    const name = acceptedContent<{ name: string }>(responses, 'user_name')?.name;
    const greeting = (responses?.greeting as { content?: { text?: string } } | undefined)?.content?.text;
    const roots = (responses?.client_roots as { roots?: unknown[] } | undefined)?.roots;
    if (typeof name !== 'string' || typeof greeting !== 'string' || !Array.isArray(roots))
      return inputRequired({
        inputRequests: {
          user_name: askName(),
          greeting: askLlm('Generate a greeting', 50),
          client_roots: inputRequired.listRoots(),
        },
        requestState: await mint({ tool: 'multiple_inputs', nonce: randomUUID() }),
      });
    return text(`${greeting} ${name} — ${roots.length} root(s) visible`);
  },
  test_input_required_result_multi_round: async (_args, ctx, mint) => {
    const state = ctx.mcpReq.requestState<Record<string, unknown>>();
    const round = state?.tool === 'multi_round' && typeof state.round === 'number' ? state.round : 0;
    if (round === 0)
      return inputRequired({
        inputRequests: { step1: askName('Step 1: What is your name?') },
        requestState: await mint({ tool: 'multi_round', round: 1, nonce: randomUUID() }),
      });
    if (round === 1) {
      const name = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, 'step1')?.name ?? 'unknown';
      return inputRequired({
        inputRequests: {
          step2: inputRequired.elicit({
            message: 'Step 2: What is your favorite color?',
            requestedSchema: {
              type: 'object',
              properties: { color: { type: 'string' } },
              required: ['color'],
            },
          }),
        },
        requestState: await mint({ tool: 'multi_round', round: 2, name, nonce: randomUUID() }),
      });
    }
    const color = acceptedContent<{ color: string }>(ctx.mcpReq.inputResponses, 'step2')?.color ?? 'unknown';
    return text(
      `Multi-round complete: ${typeof state?.name === 'string' ? state.name : 'unknown'} likes ${color}`,
    );
  },
  test_input_required_result_tampered_state: async (_args, ctx, mint) => {
    if (
      ctx.mcpReq.requestState() !== undefined &&
      acceptedContent(ctx.mcpReq.inputResponses, 'confirm') !== undefined
    )
      return text('integrity-ok: requestState verified');
    return inputRequired({
      inputRequests: { confirm: askConfirm() },
      requestState: await mint({ tool: 'tampered_state', nonce: randomUUID() }),
    });
  },
  test_input_required_result_capabilities: async (_args, ctx) => {
    if (ctx.mcpReq.inputResponses !== undefined) return text('Capability-aware input requests fulfilled');
    const envelope = ctx.mcpReq.envelope as Record<string, ClientCapabilities | undefined> | undefined;
    const declared = envelope?.[CLIENT_CAPABILITIES_META_KEY];
    const inputRequests: InputRequests = {};
    if (declared?.elicitation !== undefined) inputRequests.user_name = askName();
    if (declared?.sampling !== undefined) inputRequests.greeting = askLlm('Generate a short greeting', 50);
    if (declared?.roots !== undefined) inputRequests.client_roots = inputRequired.listRoots();
    if (Object.keys(inputRequests).length === 0)
      return text('No declared client capability supports an in-band input request');
    return inputRequired({ inputRequests });
  },
};

const JSON_SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    address: {
      $anchor: 'addressDef',
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' } },
    },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
};

const INPUT_SCHEMAS: Record<string, Tool['inputSchema']> = {
  test_sampling: {
    type: 'object',
    properties: { prompt: { type: 'string', description: 'The prompt to send to the LLM' } },
    required: ['prompt'],
  },
  test_elicitation: {
    type: 'object',
    properties: { message: { type: 'string', description: 'The message to show the user' } },
    required: ['message'],
  },
  json_schema_2020_12_tool: JSON_SCHEMA_2020_12 as Tool['inputSchema'],
};

const FIXTURE_TOOLS: Tool[] = Object.keys(TOOL_RUNS).map((name) => ({
  name,
  description: `Conformance fixture ${name}`,
  inputSchema: INPUT_SCHEMAS[name] ?? EMPTY,
}));

const RESOURCES = [
  { uri: 'test://static-text', name: 'static-text', title: 'Static Text Resource', mimeType: 'text/plain' },
  {
    uri: 'test://static-binary',
    name: 'static-binary',
    title: 'Static Binary Resource',
    mimeType: 'image/png',
  },
  {
    uri: 'test://watched-resource',
    name: 'watched-resource',
    title: 'Watched Resource',
    mimeType: 'text/plain',
  },
];
const TEMPLATE = /^test:\/\/template\/([^/]+)\/data$/;

function readResource(uri: string): ReadResourceResult {
  if (uri === 'test://static-text')
    return {
      contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
    };
  if (uri === 'test://static-binary') return { contents: [{ uri, mimeType: 'image/png', blob: IMAGE }] };
  if (uri === 'test://watched-resource')
    return { contents: [{ uri, mimeType: 'text/plain', text: 'Watched resource content' }] };
  const id = TEMPLATE.exec(uri)?.[1];
  if (id !== undefined)
    return {
      contents: [
        {
          uri,
          mimeType: 'application/json',
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
        },
      ],
    };
  throw new ResourceNotFoundError(uri);
}

const PROMPTS = [
  {
    name: 'test_simple_prompt',
    title: 'Simple Test Prompt',
    description: 'A simple prompt without arguments',
  },
  {
    name: 'test_prompt_with_arguments',
    title: 'Prompt With Arguments',
    description: 'A prompt with required arguments',
    arguments: [
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    title: 'Prompt With Embedded Resource',
    description: 'A prompt that includes an embedded resource',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
  },
  {
    name: 'test_prompt_with_image',
    title: 'Prompt With Image',
    description: 'A prompt that includes image content',
  },
  {
    name: 'test_input_required_result_prompt',
    title: 'MRTR Prompt',
    description: 'MRTR (SEP-2322): prompt that requires elicitation input before rendering',
  },
];

function getPrompt(
  name: string,
  args: Record<string, string>,
  ctx: ServerContext,
): GetPromptResult | InputRequiredResult {
  const say = (t: string) => ({ role: 'user' as const, content: { type: 'text' as const, text: t } });
  switch (name) {
    case 'test_simple_prompt':
      return { messages: [say('This is a simple prompt for testing.')] };
    case 'test_prompt_with_arguments':
      return { messages: [say(`Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'`)] };
    case 'test_prompt_with_embedded_resource':
      return {
        messages: [
          {
            role: 'user',
            content: {
              type: 'resource',
              resource: {
                uri: args.resourceUri,
                mimeType: 'text/plain',
                text: 'Embedded resource content for testing.',
              },
            },
          },
          say('Please process the embedded resource above.'),
        ],
      };
    case 'test_prompt_with_image':
      return {
        messages: [
          { role: 'user', content: { type: 'image', data: IMAGE, mimeType: 'image/png' } },
          say('Please analyze the image above.'),
        ],
      };
    case 'test_input_required_result_prompt': {
      const context = acceptedContent<{ context: string }>(
        ctx.mcpReq.inputResponses,
        'user_context',
      )?.context;
      if (typeof context === 'string') return { messages: [say(`Use the following context: ${context}`)] };
      return inputRequired({
        inputRequests: {
          user_context: inputRequired.elicit({
            message: 'What context should the prompt use?',
            requestedSchema: {
              type: 'object',
              properties: { context: { type: 'string' } },
              required: ['context'],
            },
          }),
        },
      });
    }
    default:
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`);
  }
}

function installResourcesAndPrompts(server: Server): void {
  server.registerCapabilities({
    resources: { subscribe: true, listChanged: true },
    prompts: { listChanged: true },
    completions: {},
  });
  server.setRequestHandler('resources/list', () => ({ resources: RESOURCES }));
  server.setRequestHandler('resources/templates/list', () => ({
    resourceTemplates: [
      {
        uriTemplate: 'test://template/{id}/data',
        name: 'template',
        title: 'Resource Template',
        mimeType: 'application/json',
      },
    ],
  }));
  server.setRequestHandler('resources/read', (request) => readResource(request.params.uri));
  server.setRequestHandler('resources/subscribe', () => ({}));
  server.setRequestHandler('resources/unsubscribe', () => ({}));
  server.setRequestHandler('prompts/list', () => ({ prompts: PROMPTS }));
  server.setRequestHandler(
    'prompts/get',
    (request, ctx) => getPrompt(request.params.name, request.params.arguments ?? {}, ctx) as GetPromptResult,
  );
  server.setRequestHandler('completion/complete', () => ({
    completion: { values: [], total: 0, hasMore: false },
  }));
}
