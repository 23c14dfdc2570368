/**
 * The Proxmox privileges a tool needs, declared beside it (`@McpTool({ privileges })`) and checked by
 * `proxmox-mcp-plus doctor` against the token. Taken from the `permissions` field of every endpoint a tool calls
 * in the PVE API schema (apidoc.json), checked on the collection path: `/vms` stands for `/vms/{vmid}`, `/storage`
 * for `/storage/{storage}`, `/nodes` for `/nodes/{node}`. A privilege granted only on some guests, storages or
 * nodes below it is reported as partial. test/contract/tool-privileges.contract.test.ts checks that every name is
 * a real PVE privilege.
 */

/** Privileges on one ACL path; `any`: one of them is enough (PVE's `"any", 1` checks). */
export interface PrivilegeCheck {
  path: string;
  privs: readonly string[];
  any?: boolean;
}

/** All entries must hold; a `oneOf` entry holds when one of its alternatives does. */
export type PrivilegeRequirement = PrivilegeCheck | { oneOf: readonly PrivilegeCheck[] };

/** All of `privs` on `path`. */
export const on = (path: string, ...privs: string[]): PrivilegeCheck => ({ path, privs });
/** One of `privs` on `path`. */
export const anyOn = (path: string, ...privs: string[]): PrivilegeCheck => ({ path, privs, any: true });

// the building blocks, named after what they let a tool do
/** /cluster/resources lists only the guests the token may audit; every guest tool finds its guest there. */
export const SEE_GUESTS = on('/vms', 'VM.Audit');
/** /cluster/resources (type node) and /nodes/{node}/status. */
export const SEE_NODES = on('/nodes', 'Sys.Audit');
/** Storage listings and /nodes/{node}/storage/{storage}/content: Datastore.Audit or AllocateSpace. */
export const SEE_STORAGE = anyOn('/storage', 'Datastore.Audit', 'Datastore.AllocateSpace');
export const USE_STORAGE = on('/storage', 'Datastore.AllocateSpace');
/** A NIC on a plain Linux bridge (vmbr0) needs SDN.Use on it since PVE 8. */
export const USE_BRIDGE = on('/sdn/zones/localnetwork', 'SDN.Use');
export const POWER: readonly PrivilegeRequirement[] = [SEE_GUESTS, on('/vms', 'VM.PowerMgmt')];
/** download-url: Datastore.AllocateTemplate, plus Sys.Audit+Sys.Modify on / or Sys.AccessNetwork on the node. */
export const DOWNLOAD: readonly PrivilegeRequirement[] = [
  on('/storage', 'Datastore.AllocateTemplate'),
  { oneOf: [on('/', 'Sys.Audit', 'Sys.Modify'), on('/nodes', 'Sys.AccessNetwork')] },
];
