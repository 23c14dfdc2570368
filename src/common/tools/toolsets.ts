/**
 * The toolsets: every tool belongs to exactly one named set, so a deployment (mcp.toolsets, MCP_TOOLSETS) or an
 * API key (security.api_keys[].toolsets) can expose a few sets instead of every tool. This is the ONE list of set
 * names; the config, the access rules, docs/tools.md and search_tools read it. A controller says which set its
 * tools belong to with @McpToolset('vms') on the class; a method of a mixed controller may override it.
 * test/contract/toolsets.contract.test.ts fails when a tool has none.
 */
export const TOOLSETS = {
  inventory: 'Nodes, cluster status and the configured targets',
  vms: 'QEMU virtual machines: list, configure, power, disks, guest agent, migration',
  containers: 'LXC containers: list, configure, power, volumes, commands, migration',
  snapshots: 'Guest snapshots',
  backups: 'Backups and restores',
  storage: 'Storage, ISO images and container templates',
  network: 'Bridges and SDN',
  firewall: 'Firewall rules and logs',
  ha: 'High availability',
  metrics: 'Monitoring: node and cluster logs, metrics',
  jobs: 'Jobs and PVE tasks',
  cluster: 'Resource pools, replication, Ceph, node updates',
  admin: 'Audit log and node commands',
  catalog: 'search_tools, describe_tool and call_tool (the compact mode)',
} as const satisfies Record<string, string>;

export type Toolset = keyof typeof TOOLSETS;

export const TOOLSET_NAMES = Object.keys(TOOLSETS) as Toolset[];

export const isToolset = (name: string): name is Toolset => Object.hasOwn(TOOLSETS, name);

export const TOOLSET_METADATA = 'proxmox-mcp:toolset';

/**
 * The toolset of every tool of a controller (on the class), or of one tool (on a method, overriding the class).
 * What Nest's SetMetadata does, written out: the configuration loader imports this file, and the stdio fast start
 * answers its client before Nest is loaded (reflect-metadata is, before any decorated class is evaluated).
 */
export const McpToolset =
  (name: Toolset): ClassDecorator & MethodDecorator =>
  (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    Reflect.defineMetadata(TOOLSET_METADATA, name, descriptor ? (descriptor.value as object) : target);
  };

/** How tools/list presents the tools over MCP: every tool (`full`), or only the three catalog tools (`compact`). */
export type ToolMode = 'full' | 'compact';

/**
 * The compact mode's tools: in compact mode tools/list shows only these; they find, describe and run the tools the
 * caller may use (the catalog toolset). They are never run through call_tool.
 */
export const COMPACT_TOOLS: ReadonlySet<string> = new Set(['search_tools', 'describe_tool', 'call_tool']);
