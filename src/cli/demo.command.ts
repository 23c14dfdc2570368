import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.loader.js';
import { PveSimulator, simulatorTargetEnv } from '../simulator/index.js';
import { parsePort } from './cli.js';
import { startServer, waitForSignal } from './serve.command.js';

/**
 * `demo`: a simulated Proxmox cluster plus the real server in front of it, with an API key, so a new user can
 * point an MCP client or curl at it within a minute. Nothing here touches a real Proxmox.
 */
export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, 'api-key': { type: 'string' }, host: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const port = values.port === undefined ? 8000 : parsePort(values.port, '--port');
  const apiKey = values['api-key'] ?? `demo-${randomBytes(18).toString('base64url')}`;
  const schemaPath = demoSchemaPath(process.env.PVE_API_SCHEMA);
  if (schemaPath instanceof Error) {
    process.stderr.write(`${schemaPath.message}\n`);
    return 2;
  }
  if (schemaPath === null) process.stderr.write(`${NO_SCHEMA_NOTICE}\n`);
  const simulator = await PveSimulator.start({ port: 0, taskSeconds: 3, schemaPath });
  try {
    const config = loadConfig({
      PROXMOX_MCP_CONFIG: '',
      ...simulatorTargetEnv(simulator),
      PROXMOX_JOBS_SQLITE_PATH: join(mkdtempSync(join(tmpdir(), 'pmp-demo-')), 'jobs.sqlite3'),
      MCP_HOST: values.host ?? '127.0.0.1',
      MCP_PORT: String(port),
      MCP_TRANSPORT: 'STREAMABLE_HTTP',
      MCP_API_KEY: apiKey,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    });
    const server = await startServer(config);
    process.stdout.write(banner(server.url, apiKey, simulator.url, schemaPath));
    await waitForSignal();
    await server.close();
  } finally {
    await simulator.stop();
  }
  return 0;
}

const NO_SCHEMA_NOTICE =
  'demo: PVE_API_SCHEMA is not set, so the simulated cluster does not check requests against the Proxmox VE API ' +
  'schema and may accept calls a real PVE refuses. To check them, set PVE_API_SCHEMA to an apidoc.json file ' +
  '(the api-viewer schema dump: a PVE host serves it as /pve-docs/api-viewer/apidoc.js, a JSON array after ' +
  "'const apiSchema = ').";

/** The schema the simulator checks requests against: a path, null (not configured) or a clear error. */
function demoSchemaPath(fromEnv: string | undefined): string | null | Error {
  if (!fromEnv?.trim()) return null;
  if (!existsSync(fromEnv)) {
    return new Error(
      `demo: PVE_API_SCHEMA=${fromEnv} does not exist. Point it at the Proxmox VE API schema (apidoc.json), ` +
        'or unset it to run the demo without request checks.',
    );
  }
  return fromEnv;
}

function banner(url: string, apiKey: string, simulatorUrl: string, schemaPath: string | null): string {
  const line = '='.repeat(78);
  return `
${line}
  proxmox-mcp-plus DEMO — connected to a SIMULATED Proxmox VE cluster (no real hosts)
${line}
  MCP (Streamable HTTP):  ${url}/mcp
  REST API:               ${url}/
  Swagger UI:             ${url}/docs      (browser login: any user name, password = the API key)
  OpenAPI document:       ${url}/openapi.json
  API key:                ${apiKey}
  Simulated PVE API:      ${simulatorUrl}/api2/json
  Request checks:         ${schemaPath ? `every request checked against ${schemaPath}` : 'off (PVE_API_SCHEMA not set)'}

  Try:  curl -H "Authorization: Bearer ${apiKey}" ${url}/vms
  MCP client config: { "url": "${url}/mcp", "headers": { "Authorization": "Bearer ${apiKey}" } }
  Press Ctrl+C to stop.
${line}
`;
}
