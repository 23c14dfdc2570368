import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { SSH_TOOLS } from '../../src/security/tool-visibility.js';
import { ToolRegistry } from '../../src/mcp/registry/tool-registry.js';
import { API_KEY, startHarness, type Harness } from '../helpers/test-app.js';
import { INSPECTOR_PACKAGE, runNpxTool, withoutNpmWarnings, type NpxRun } from '../helpers/npx-tool.js';

/** Pinned so CI is reproducible (v2 needs Node >= 22.19, hence node@22 through npx). */
const INSPECTOR = INSPECTOR_PACKAGE;
const LOG = '.tmp/mcp-inspector.log';
/** The Inspector keeps state under ~/.mcp-inspector (stored OAuth, client config): a scratch home per run. */
const INSPECTOR_HOME = resolve('.tmp/mcp-inspector-home');

/**
 * The MCP Inspector CLI, a client we did not write, talks to the server over Streamable HTTP with a bearer key,
 * as a user scripting it would: `mcp-inspector --cli <url>/mcp --transport http --header "Authorization: Bearer …"`.
 * `--format json -q` puts one JSON object on stdout (errors on stderr); `--stored-auth-only` makes a 401 fail
 * with exit 3 instead of starting an interactive OAuth login. Everything it prints goes to LOG.
 */
/**
 * Both protocol eras the server serves: `--protocol-era legacy` (the 2025-11-25 `initialize` handshake, the
 * Inspector's default for an ad-hoc URL) and `--protocol-era modern` (2026-07-28: `server/discover`, no handshake,
 * the `_meta` envelope on every request; each result carries the server's identity in `_meta`).
 */
const ERAS = ['legacy', 'modern'] as const;
const SERVER_INFO_META = 'io.modelcontextprotocol/serverInfo';

for (const era of ERAS)
  describe(`MCP Inspector CLI over Streamable HTTP with a bearer key (--protocol-era ${era})`, () => {
    let h: Harness;

    async function inspector(
      title: string,
      args: string[],
      /** The Authorization header to send; null sends none. */
      authorization: string | null = `Bearer ${API_KEY}`,
    ): Promise<NpxRun> {
      const run = await runNpxTool(
        [INSPECTOR],
        [
          'mcp-inspector',
          '--cli',
          `${h.url}/mcp`,
          '--transport',
          'http',
          '--protocol-era',
          era,
          // a test key; a real key belongs in a config file (--config), not in argv
          ...(authorization === null ? [] : ['--header', `Authorization: ${authorization}`]),
          '--stored-auth-only',
          '--format',
          'json',
          '-q',
          ...args,
        ],
        {
          env: {
            HOME: INSPECTOR_HOME,
            // the scratch home must not hide the user's npm settings (registry, cache) from npx
            npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm'),
            npm_config_userconfig: process.env.npm_config_userconfig ?? join(homedir(), '.npmrc'),
          },
        },
      );
      appendFileSync(
        LOG,
        `\n=== ${era}: ${title} (exit ${run.code})\n--- stdout\n${run.stdout}\n--- stderr\n${withoutNpmWarnings(run.stderr)}\n`,
      );
      return run;
    }

    /** The one JSON object the Inspector prints on stdout (or its error envelope on stderr). */
    function json(text: string, what: string): Record<string, unknown> {
      const line = withoutNpmWarnings(text).trim();
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        assert.fail(`${what}: not one JSON object; see ${LOG}`);
      }
    }

    before(async () => {
      mkdirSync(INSPECTOR_HOME, { recursive: true });
      if (era === ERAS[0]) writeFileSync(LOG, `${INSPECTOR} --cli against the server over Streamable HTTP\n`);
      h = await startHarness();
    });
    after(async () => {
      await h?.close();
      rmSync(INSPECTOR_HOME, { recursive: true, force: true });
    });

    // the first run on a fresh machine downloads node@22 and the Inspector (about 40 s here, cold npm cache)
    test(
      'tools/list shows every registered tool, with schemas it finds portable',
      { timeout: 300_000 },
      async () => {
        // --strict: exit 6 if a tool schema has an error-severity portability problem (warnings are logged only)
        const run = await inspector('tools/list --strict', ['--method', 'tools/list', '--strict']);
        assert.equal(run.code, 0, `tools/list failed; see ${LOG}`);
        const { result } = json(run.stdout, 'tools/list') as {
          result: { tools: { name: string; description?: string; inputSchema?: { type?: string } }[] };
        };
        const listed = result.tools.map((t) => t.name).sort();
        // this server has no ssh section: the two SSH-only tools are not listed (as in ProxmoxMCP-Plus)
        const registered = h.server.app
          .get(ToolRegistry)
          .all()
          .map((t) => t.name)
          .filter((name) => !SSH_TOOLS.has(name))
          .sort();
        assert.equal(
          listed.length,
          registered.length,
          'as many tools as the registry holds, less the SSH tools',
        );
        assert.deepEqual(listed, registered);
        for (const name of ['get_nodes', 'get_vms', 'create_vm', 'list_jobs'])
          assert.ok(listed.includes(name), name);
        for (const tool of result.tools) {
          assert.ok(tool.description, `${tool.name} has a description`);
          assert.equal(tool.inputSchema?.type, 'object', `${tool.name} has an object input schema`);
        }
      },
    );

    test(
      'tools/call get_nodes returns the simulated nodes as structured content',
      { timeout: 300_000 },
      async () => {
        const run = await inspector('tools/call get_nodes', [
          '--method',
          'tools/call',
          '--tool-name',
          'get_nodes',
        ]);
        assert.equal(run.code, 0, `get_nodes failed; see ${LOG}`);
        const { result } = json(run.stdout, 'get_nodes') as {
          result: {
            _meta?: Record<string, { name?: string }>;
            isError?: boolean;
            content: { type: string; text: string }[];
            structuredContent: { nodes: { node: string; status: string }[]; partial: boolean };
          };
        };
        assert.notEqual(result.isError, true);
        // the era really spoken: only a 2026-07-28 result names the server in its _meta
        assert.equal(
          result._meta?.[SERVER_INFO_META]?.name,
          era === 'modern' ? 'proxmox-mcp-plus' : undefined,
        );
        const expected = h.sim.cluster
          .nodes()
          .map((n) => n.name)
          .sort();
        assert.deepEqual(result.structuredContent.nodes.map((n) => n.node).sort(), expected);
        assert.equal(result.structuredContent.partial, false);
        assert.match(result.content[0].text, new RegExp(expected[0]), 'the text block names the nodes too');
      },
    );

    test(
      'tools/call get_vms with --tool-arg node=… returns only that node’s VMs',
      { timeout: 300_000 },
      async () => {
        const node = h.sim.cluster.nodes()[0].name;
        const run = await inspector(`tools/call get_vms node=${node}`, [
          '--method',
          'tools/call',
          '--tool-name',
          'get_vms',
          '--tool-arg',
          `node=${node}`,
        ]);
        assert.equal(run.code, 0, `get_vms failed; see ${LOG}`);
        const { result } = json(run.stdout, 'get_vms') as {
          result: { structuredContent: { vms: { vmid: number; node: string }[] } };
        };
        const vms = result.structuredContent.vms;
        assert.ok(vms.length > 0, `the simulator has VMs on ${node}`);
        assert.deepEqual([...new Set(vms.map((v) => v.node))], [node]);
      },
    );

    test('a bad argument is a tool error naming the field (exit 5)', { timeout: 300_000 }, async () => {
      const run = await inspector('tools/call get_vms limit=0', [
        '--method',
        'tools/call',
        '--tool-name',
        'get_vms',
        '--tool-args-json',
        '{"limit":0}',
      ]);
      assert.equal(run.code, 5, `exit 5 (tool_is_error); see ${LOG}`);
      const { result } = json(run.stdout, 'get_vms limit=0') as {
        result: { isError?: boolean; content: { text: string }[] };
      };
      assert.equal(result.isError, true);
      assert.match(result.content[0].text, /^VALIDATION: .*limit must not be less than 1/);
      assert.equal((json(run.stderr, 'get_vms limit=0').error as { code: string }).code, 'tool_is_error');
    });

    test(
      'without the key, and with a wrong key, the Inspector is refused (exit 3, auth_required)',
      { timeout: 300_000 },
      async () => {
        for (const [title, authorization, message] of [
          ['no key', null, /Missing API key/],
          ['wrong key', 'Bearer not-the-key-0123456789', /Invalid API key/],
        ] as const) {
          const run = await inspector(`tools/list, ${title}`, ['--method', 'tools/list'], authorization);
          assert.equal(run.code, 3, `${title}: exit 3; see ${LOG}`);
          assert.equal(run.stdout.trim(), '', `${title}: no result`);
          const { error } = json(run.stderr, title) as { error: { code: string; message: string } };
          assert.equal(error.code, 'auth_required');
          // the 2026-07-28 client stops at server/discover and says only that the server wants authorization
          assert.match(error.message, era === 'modern' ? /requires authorization \(HTTP 401\)/ : message);
        }
      },
    );
  });
