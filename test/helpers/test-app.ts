import 'reflect-metadata';
import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AppConfig, CommandPolicyConfig, TargetConfig } from '../../src/config/app-config.js';
import { startServer, type RunningServer } from '../../src/cli/serve.command.js';
import { PveSimulator, simulatorTargetConfig, type SimulatorOptions } from '../../src/simulator/index.js';

export const API_KEY = 'test-api-key-0123456789abcdef';
export const SCHEMA_PATH = process.env.PVE_API_SCHEMA ?? resolve('../shared/pve-api/apidoc.json');

/** A second admin key, for tests with approvals: the operator who approves what the agent (API_KEY) asked. */
export const OPERATOR_KEY = 'operator-key-0123456789abcdef';

/** `config` with more API keys after its own. */
export function withApiKeys(config: AppConfig, ...keys: AppConfig['http']['apiKeys']): AppConfig {
  return { ...config, http: { ...config.http, apiKeys: [...config.http.apiKeys, ...keys] } };
}

/** `config` with the operator's admin key after its own keys, and its command policy changed by `policy`. */
export function withOperator(config: AppConfig, policy: Partial<CommandPolicyConfig> = {}): AppConfig {
  return {
    ...withApiKeys(config, { name: 'operator', secret: OPERATOR_KEY, scope: 'admin' }),
    commandPolicy: { ...config.commandPolicy, ...policy },
  };
}

/** A complete AppConfig as the loader would produce it, pointing at the given targets. */
export function testConfig(targets: TargetConfig[], overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    source: { kind: 'env' },
    targets,
    logging: { level: 'silent', logCommands: false },
    mcp: {
      host: '127.0.0.1',
      port: 0,
      transport: 'STREAMABLE',
      stateful: false,
      allowedHosts: [],
      allowedOrigins: [],
      toolAllowlist: [],
      toolDenylist: [],
      toolsets: [],
      toolMode: 'full',
      maxBodyBytes: 1024 * 1024,
      dnsRebindingProtection: true,
    },
    http: {
      apiKeys: [{ name: 'test', secret: API_KEY, scope: 'admin' }],
      allowNoAuth: false,
      corsOrigins: [],
      rateLimitRpm: 0,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      // high enough that suites sending a few bad keys on purpose are not throttled
      authFailureLimit: 1000,
      authFailureWindowMs: 60_000,
    },
    security: { devMode: false },
    jobs: { sqlitePath: ':memory:' },
    commandPolicy: {
      mode: 'deny_all',
      allowPatterns: [],
      denyPatterns: [],
      requireApprovalToken: false,
      highRiskMode: 'audit_only',
      highRiskOperations: [],
      highRiskRequireApprovalToken: false,
      allowShell: false,
      execRequireApproval: false,
      approvalTtlSeconds: 600,
    },
    audit: { retentionDays: 90 },
    ...overrides,
  };
}

export interface Harness {
  sim: PveSimulator;
  server: RunningServer;
  url: string;
  auth: Record<string, string>;
  mcp(): Promise<Client>;
  close(): Promise<void>;
}

/** The simulator (schema-checked) and the real HTTP server on loopback, as a user would run them. */
export async function startHarness(
  simOptions: SimulatorOptions = {},
  configure: (sim: PveSimulator) => AppConfig = (sim) => testConfig([simulatorTargetConfig(sim)]),
): Promise<Harness> {
  const sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, taskSeconds: 0, ...simOptions });
  const server = await startServer(configure(sim));
  const clients: Client[] = [];
  return {
    sim,
    server,
    url: server.url,
    auth: { authorization: `Bearer ${API_KEY}` },
    async mcp() {
      const client = new Client({ name: 'e2e', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${API_KEY}` } },
        }),
      );
      clients.push(client);
      return client;
    },
    /** Stops everything, then fails if any request the server sent was one real PVE would refuse. */
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
      const violations = sim.schemaViolations();
      await sim.stop();
      if (violations.length) {
        throw new Error(`requests that real PVE would refuse: ${JSON.stringify(violations.slice(0, 5))}`);
      }
    },
  };
}
