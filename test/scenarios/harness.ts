import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { TargetConfig } from '../../src/config/app-config.js';
import { startServer, type RunningServer } from '../../src/cli/serve.command.js';
import { PveSimulator, simulatorTargetConfig } from '../../src/simulator/index.js';
import { SCHEMA_PATH, testConfig } from '../helpers/test-app.js';
import { assertE2eAllowed, resolveLiveTarget } from './live-target.js';
import { type ToolResult, resultText } from '../helpers/tools.js';

/**
 * Where a scenario runs: the schema-checked simulator (default, `npm test`, `npm run test:scenarios`) or a real
 * cluster (`npm run test:live` sets PROXMOX_MCP_E2E_LIVE=1; see live-target.ts for what it refuses). The stories
 * see only this interface, so both runs play the same stories through the same server: an MCP client over
 * Streamable HTTP and plain REST calls, two API keys (the agent that asks, the operator who approves the
 * destructive steps), and the server's default policy that destroy tools need an operator's approval.
 */

/** Every guest the suite creates carries this tag (and a name starting with it), and nothing else is touched. */
export const E2E_TAG = 'mcp-e2e';
/** Generous: a real cluster creating a disk or starting a VM can take minutes. */
export const WAIT_SECONDS = 300;

const AGENT_KEY = `e2e-agent-${randomBytes(16).toString('hex')}`;
const OPERATOR_KEY = `e2e-operator-${randomBytes(16).toString('hex')}`;

export type Job = {
  job_id: string;
  task_id: string | null;
  status: string;
  tool_name: string;
  attempts: number;
  retry_count: number;
  previous_upids: string[];
  exitstatus: string | null;
  last_error: string | null;
  metadata: Record<string, unknown>;
};
export const textOf = resultText;

export const isLive = () => process.env.PROXMOX_MCP_E2E_LIVE === '1';

/**
 * The steps of one story: each is a test, but they build on each other, so after a failed step the rest are
 * skipped (saying which step failed) instead of failing for a reason that is not theirs. A step gets its test
 * context, so a story the target cannot play (e.g. one node only) can skip with the reason.
 */
export function storySteps(): (name: string, fn: (ctx: TestContext) => Promise<void>) => void {
  let failed: string | undefined;
  return (name, fn) => {
    // inside describe(), node:test queues the test; the promise it returns needs no awaiting
    void test(name, async (ctx) => {
      if (failed) return ctx.skip(`an earlier step failed: ${failed}`);
      try {
        await fn(ctx);
      } catch (error) {
        failed = name;
        throw error;
      }
    });
  };
}

export interface ScenarioTarget {
  kind: 'simulator' | 'live';
  /** The target name the tools take. */
  target: string;
  /** The node the stories create their guests on (PROXMOX_MCP_E2E_NODE, else the first online node). */
  node: string;
  /** create_vm's storage and bridge (live: PROXMOX_MCP_E2E_STORAGE / _BRIDGE, else the server's choice). */
  storage?: string;
  bridge?: string;
  /** A storage on `node` that takes backups (live: PROXMOX_MCP_E2E_BACKUP_STORAGE, else the first such). */
  backupStorage?: string;
  /** A file storage on `node` that holds ISO images (live: PROXMOX_MCP_E2E_ISO_STORAGE, else the first such). */
  isoStorage?: string;
  ops: Operator;
  /**
   * The simulator's VMs answer ACPI like an installed OS; a real VM with an empty disk ignores it, so a shutdown
   * runs until its timeout. This makes a simulated VM behave like the real empty one; live it does nothing.
   */
  guestWithoutOs(vmid: number, shutdowns: number): void;
  /** A guest this story created: deleted at close() if the story did not get to delete it. */
  created(vmid: number, type?: 'qemu' | 'lxc'): void;
  /** Deletes what is left of this story's guests, stops the server (and simulator). Throws on leftovers. */
  close(): Promise<void>;
}

/** Drives the server as an agent (MCP and REST) with an operator beside it for approvals. */
export class Operator {
  constructor(
    readonly url: string,
    readonly mcp: Client,
    readonly target: string,
    /** Tools whose input has `target` (the job tools address a job, not a cluster). */
    private readonly targeted: Set<string>,
  ) {}

  readonly agent = { authorization: `Bearer ${AGENT_KEY}` };
  readonly operator = { authorization: `Bearer ${OPERATOR_KEY}` };

  /** An MCP tool call on the story's target; returns structuredContent, or throws the tool's error text. */
  async tool<T = any>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    const r = await this.raw(name, args);
    if (r.isError) throw new Error(`${name} failed: ${textOf(r)}`);
    return r.structuredContent as T;
  }

  raw(name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
    const target = this.targeted.has(name) ? { target: this.target } : {};
    return this.mcp.callTool({ name, arguments: { ...target, ...args } }) as Promise<ToolResult>;
  }

  /**
   * A destructive tool over MCP: refused with APPROVAL_REQUIRED, the operator reads the request and approves it
   * over REST, and the agent repeats the same call with the single-use token.
   */
  async approvedTool<T = any>(name: string, args: Record<string, unknown>): Promise<T> {
    const first = await this.raw(name, args);
    assert.equal(first.isError, true, `${name} ran without an operator's approval`);
    const text = textOf(first);
    assert.match(text, /^APPROVAL_REQUIRED/, text);
    const requestId = /Approval request ([0-9a-f-]{36})/.exec(text)?.[1];
    assert.ok(requestId, `no request id in: ${text}`);
    const token = await this.approve(requestId, name, args);
    return this.tool<T>(name, { ...args, approval_token: token });
  }

  /** The operator looks at the request (the right tool and arguments) and approves it; returns the token. */
  async approve(requestId: string, tool: string, args: Record<string, unknown>): Promise<string> {
    const shown = await this.rest('GET', `/approvals/${requestId}`, undefined, this.operator);
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    assert.equal(shown.body.tool, tool);
    for (const key of ['node', 'vmid', 'snapname'].filter((k) => args[k] !== undefined)) {
      assert.equal(String(shown.body.arguments?.[key]), String(args[key]), `the request shows ${key}`);
    }
    const granted = await this.rest('POST', `/approvals/${requestId}`, undefined, this.operator);
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    return granted.body.approval_token as string;
  }

  /** A REST call as the agent (or with `auth`); the target goes into the query string. */
  async rest(
    method: string,
    path: string,
    body?: unknown,
    auth: Record<string, string> = this.agent,
  ): Promise<{ status: number; body: any }> {
    const url = new URL(path, this.url);
    // a job or an approval is addressed by its id alone; everything else names the story's target
    if (!/^\/(jobs|approvals)\//.test(path) && !url.searchParams.has('target')) {
      url.searchParams.set('target', this.target);
    }
    const res = await fetch(url, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** A destructive REST call: 403 APPROVAL_REQUIRED, the operator approves, repeated with X-Approval-Token. */
  async approvedRest(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const refused = await this.rest(method, path, body);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'APPROVAL_REQUIRED');
    const { request_id: requestId, tool } = refused.body.details;
    const token = await this.approve(requestId, tool, {});
    const url = new URL(path, this.url);
    url.searchParams.set('target', this.target);
    const res = await fetch(url, {
      method,
      headers: { ...this.agent, 'x-approval-token': token, 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    return { status: res.status, body: await res.json() };
  }

  /** Follows a job until it ends (wait_job), failing the story if it does not end in `expected`. */
  async finish(job: Job, expected = 'completed'): Promise<Job> {
    let current = job;
    while (['pending', 'queued', 'running'].includes(current.status)) {
      current = await this.tool<Job>('wait_job', { job_id: job.job_id, timeout_seconds: WAIT_SECONDS });
      if ((current as { wait_timed_out?: boolean }).wait_timed_out) {
        assert.fail(`job ${job.job_id} (${job.tool_name}) still ${current.status} after ${WAIT_SECONDS} s`);
      }
    }
    assert.equal(
      current.status,
      expected,
      `${job.tool_name} ended ${current.status}: ${current.last_error ?? current.exitstatus ?? ''}`,
    );
    return current;
  }

  /** A VM of this story: tagged, named after the story, small, on the scenario node; returns its VM ID. */
  async createTestVm(t: ScenarioTarget, story: string, extra: Record<string, unknown> = {}): Promise<number> {
    const name = `${E2E_TAG}-${story}-${randomBytes(2).toString('hex')}`;
    const job = await this.tool<Job>('create_vm', {
      node: t.node,
      name,
      tags: [E2E_TAG],
      description: `Created by the proxmox-mcp-plus scenario suite (${story}); deleted when the story ends.`,
      cpus: 1,
      memory: 512,
      disk_size: 5,
      ...(t.storage ? { storage: t.storage } : {}),
      ...(t.bridge ? { network_bridge: t.bridge } : {}),
      ...extra,
    });
    const vmid = Number(job.metadata.vmid);
    assert.ok(Number.isInteger(vmid) && vmid >= 100, `create_vm returned no VM ID: ${JSON.stringify(job)}`);
    t.created(vmid); // before waiting: a create that fails half-way is cleaned up too
    await this.finish(job);
    return vmid;
  }

  /** The container as get_containers lists it on `node`, or anywhere (undefined once it is gone). */
  async container(
    node: string | undefined,
    vmid: number,
  ): Promise<{ vmid: number; status: string; node: string } | undefined> {
    type Row = { vmid: number; status: string; node: string };
    for (let offset = 0; ; offset += 500) {
      const page = await this.tool<{ containers: Row[]; truncated: boolean }>('get_containers', {
        ...(node ? { node } : {}),
        limit: 500,
        offset,
      });
      const found = page.containers.find((c) => c.vmid === vmid);
      if (found || !page.truncated) return found;
    }
  }

  /** The VM as get_vms lists it on `node`, or anywhere (undefined once it is gone). */
  async vm(
    node: string | undefined,
    vmid: number,
  ): Promise<{ vmid: number; status: string; node: string; name?: string } | undefined> {
    type Row = { vmid: number; status: string; node: string; name?: string };
    for (let offset = 0; ; offset += 500) {
      const page = await this.tool<{ vms: Row[]; truncated: boolean }>('get_vms', {
        ...(node ? { node } : {}),
        limit: 500,
        offset,
      });
      const found = page.vms.find((v) => v.vmid === vmid);
      if (found || !page.truncated) return found;
    }
  }
}

/** Starts the server for one scenario file against the simulator or the live target. */
export async function openScenarioTarget(): Promise<ScenarioTarget> {
  const live = isLive();
  let sim: PveSimulator | undefined;
  let targetConfig: TargetConfig;
  if (live) {
    targetConfig = resolveLiveTarget().target;
  } else {
    sim = await PveSimulator.start({ schemaPath: SCHEMA_PATH, nodes: 3, guests: 8, taskSeconds: 0 });
    targetConfig = simulatorTargetConfig(sim, { name: 'e2e-sim' });
  }
  try {
    assertE2eAllowed(targetConfig);
  } catch (error) {
    await sim?.stop();
    throw error;
  }
  const base = testConfig([targetConfig]);
  let server: RunningServer;
  try {
    server = await startServer({
      ...base,
      http: {
        ...base.http,
        apiKeys: [
          { name: 'e2e-agent', secret: AGENT_KEY, scope: 'admin' },
          { name: 'e2e-operator', secret: OPERATOR_KEY, scope: 'admin' },
        ],
      },
      // the default policy a deployment gets: destroy tools need a single-use approval from another key
      commandPolicy: { ...base.commandPolicy, highRiskMode: 'enforce' },
    });
  } catch (error) {
    await sim?.stop();
    throw error;
  }

  const mcp = new Client({ name: 'proxmox-mcp-plus-scenarios', version: '1.0.0' });
  try {
    return await connect(mcp, server, targetConfig, live, sim);
  } catch (error) {
    // nothing may keep the test process alive when the story cannot even start
    await mcp.close().catch(() => undefined);
    await server.close();
    await sim?.stop();
    throw error;
  }
}

async function connect(
  mcp: Client,
  server: RunningServer,
  targetConfig: TargetConfig,
  live: boolean,
  sim: PveSimulator | undefined,
): Promise<ScenarioTarget> {
  await mcp.connect(
    new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${AGENT_KEY}` } },
    }),
  );
  // listing the tools first makes the SDK client check every structuredContent against its outputSchema
  const { tools } = await mcp.listTools();
  const targeted = new Set(
    tools.filter((x) => Object.keys(x.inputSchema.properties ?? {}).includes('target')).map((x) => x.name),
  );
  const ops = new Operator(server.url, mcp, targetConfig.name, targeted);

  const nodes = await ops.tool<{ nodes: Array<{ node: string; status: string }> }>('get_nodes');
  const wantedNode = process.env.PROXMOX_MCP_E2E_NODE;
  const node = live
    ? (wantedNode ?? nodes.nodes.find((n) => n.status === 'online')?.node)
    : nodes.nodes.find((n) => n.status === 'online')?.node;
  assert.ok(node, 'no online node to create the test guests on');
  if (wantedNode && live) {
    assert.ok(
      nodes.nodes.some((n) => n.node === wantedNode),
      `PROXMOX_MCP_E2E_NODE=${wantedNode} is not a node of target '${targetConfig.name}'`,
    );
  }

  const storages = await ops.tool<{
    storages: Array<{ storage: string; content: string[]; nodes: string[] }>;
  }>('get_storage');
  const backupStorage =
    (live ? process.env.PROXMOX_MCP_E2E_BACKUP_STORAGE : undefined) ??
    storages.storages.find((s) => s.content.includes('backup') && s.nodes.includes(node))?.storage;
  const isoStorage =
    (live ? process.env.PROXMOX_MCP_E2E_ISO_STORAGE : undefined) ??
    storages.storages.find((s) => s.content.includes('iso') && s.nodes.includes(node))?.storage;

  const guests = new Map<number, 'qemu' | 'lxc'>();
  return {
    kind: live ? 'live' : 'simulator',
    target: targetConfig.name,
    node,
    // the simulator's default pick (NFS, raw disks) cannot snapshot; LVM-thin can, like most real clusters
    storage: live ? process.env.PROXMOX_MCP_E2E_STORAGE : 'local-lvm',
    bridge: live ? process.env.PROXMOX_MCP_E2E_BRIDGE : undefined,
    backupStorage,
    isoStorage,
    ops,
    guestWithoutOs(vmid, shutdowns) {
      if (!sim) return;
      // what PVE does for a guest that never answers ACPI: the shutdown task waits out its timeout
      sim.tasks.script({
        match: { type: 'qmshutdown', id: String(vmid) },
        durationMs: 10 * 60_000,
        exitstatus: 'VM quit/powerdown failed - got timeout',
        times: shutdowns,
      });
    },
    created(vmid, type = 'qemu') {
      guests.set(vmid, type);
    },
    async close() {
      const leftovers: string[] = [];
      for (const [vmid, type] of guests) {
        const what = `${type === 'lxc' ? 'container' : 'VM'} ${vmid}`;
        try {
          // cluster-wide: a story may have moved its guest to another node
          if (type === 'lxc') {
            const found = await ops.container(undefined, vmid);
            if (!found) continue;
            const r = await ops.approvedTool('delete_container', {
              selector: `${found.node}:${vmid}`,
              force: true,
              wait: true,
            });
            assert.ok(r.results?.[0]?.ok, JSON.stringify(r.results));
          } else {
            const found = await ops.vm(undefined, vmid);
            if (!found) continue;
            await ops.finish(
              await ops.approvedTool<Job>('delete_vm', { node: found.node, vmid, force: true }),
            );
          }
          leftovers.push(`${what} was left by the story and deleted at close`);
        } catch (error) {
          leftovers.push(`${what} could NOT be deleted: ${(error as Error).message}`);
        }
      }
      await mcp.close();
      await server.close();
      const violations = sim?.schemaViolations() ?? [];
      await sim?.stop();
      if (violations.length) {
        throw new Error(`requests that real PVE would refuse: ${JSON.stringify(violations.slice(0, 5))}`);
      }
      if (leftovers.length)
        throw new Error(`the story did not clean up after itself: ${leftovers.join('; ')}`);
    },
  };
}
