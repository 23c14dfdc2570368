/**
 * The Proxmox privileges each tool needs, for `proxmox-mcp-plus doctor`. Taken from the `permissions` field of
 * every endpoint a tool calls in the PVE API schema (apidoc.json), checked on the collection path: `/vms` stands
 * for `/vms/{vmid}`, `/storage` for `/storage/{storage}`, `/nodes` for `/nodes/{node}`. A privilege granted only on
 * some guests, storages or nodes below it is reported as partial.
 *
 * Every registered tool must have an entry (test/contract/tool-privileges.contract.test.ts), so a new tool
 * cannot be forgotten here. `[]` = the tool calls no Proxmox endpoint that checks a privilege (local job store,
 * or endpoints open to every user, like the tasks a token started itself).
 */

/** Privileges on one ACL path; `any`: one of them is enough (PVE's `"any", 1` checks). */
export interface PrivilegeCheck {
  path: string;
  privs: readonly string[];
  any?: boolean;
}

/** All entries must hold; a `oneOf` entry holds when one of its alternatives does. */
export type PrivilegeRequirement = PrivilegeCheck | { oneOf: readonly PrivilegeCheck[] };

const on = (path: string, ...privs: string[]): PrivilegeCheck => ({ path, privs });
const anyOn = (path: string, ...privs: string[]): PrivilegeCheck => ({ path, privs, any: true });

// the building blocks, named after what they let a tool do
/** /cluster/resources lists only the guests the token may audit; every guest tool finds its guest there. */
const SEE_GUESTS = on('/vms', 'VM.Audit');
/** /cluster/resources (type node) and /nodes/{node}/status. */
const SEE_NODES = on('/nodes', 'Sys.Audit');
/** Storage listings and /nodes/{node}/storage/{storage}/content: Datastore.Audit or AllocateSpace. */
const SEE_STORAGE = anyOn('/storage', 'Datastore.Audit', 'Datastore.AllocateSpace');
const USE_STORAGE = on('/storage', 'Datastore.AllocateSpace');
/** A NIC on a plain Linux bridge (vmbr0) needs SDN.Use on it since PVE 8. */
const USE_BRIDGE = on('/sdn/zones/localnetwork', 'SDN.Use');
const POWER = [SEE_GUESTS, on('/vms', 'VM.PowerMgmt')];
/** download-url: Datastore.AllocateTemplate, plus Sys.Audit+Sys.Modify on / or Sys.AccessNetwork on the node. */
const DOWNLOAD = [
  on('/storage', 'Datastore.AllocateTemplate'),
  { oneOf: [on('/', 'Sys.Audit', 'Sys.Modify'), on('/nodes', 'Sys.AccessNetwork')] },
];

export const TOOL_PRIVILEGES: Readonly<Record<string, readonly PrivilegeRequirement[]>> = {
  // cluster, nodes, storage, network
  get_nodes: [SEE_NODES],
  get_node_status: [SEE_NODES],
  get_cluster_status: [on('/', 'Sys.Audit')],
  // /pools lists the pools the token may audit (Pool.Audit on /pool/<pool>); their guests come from the inventory
  list_pools: [SEE_GUESTS, on('/pool', 'Pool.Audit')],
  list_targets: [],
  get_storage: [SEE_STORAGE],
  list_bridges: [SEE_NODES],
  // logs: the journal and firewall log need Sys.Syslog on the node; syslog since/until also read the node's
  // time zone (/nodes/{node}/time, Sys.Audit). /cluster/log is open to all, but shows only the token's own
  // entries without Sys.Syslog on /.
  get_node_syslog: [on('/nodes', 'Sys.Syslog'), SEE_NODES],
  get_node_firewall_log: [on('/nodes', 'Sys.Syslog')],
  // a guest's firewall log: VM.Console on the guest (and its config read first: VM.Audit)
  get_guest_firewall_log: [SEE_GUESTS, on('/vms', 'VM.Console')],
  get_cluster_log: [on('/', 'Sys.Syslog')],

  // VMs
  get_vms: [SEE_GUESTS],
  get_vm_config: [SEE_GUESTS],
  get_next_vmid: [],
  set_vm_description: [SEE_GUESTS, on('/vms', 'VM.Config.Options')],
  create_vm: [on('/vms', 'VM.Allocate'), USE_STORAGE, SEE_STORAGE, USE_BRIDGE],
  clone_vm: [SEE_GUESTS, on('/vms', 'VM.Clone', 'VM.Allocate'), USE_STORAGE],
  update_vm_config: [
    SEE_GUESTS,
    anyOn(
      '/vms',
      'VM.Config.Disk',
      'VM.Config.CDROM',
      'VM.Config.CPU',
      'VM.Config.Memory',
      'VM.Config.Network',
      'VM.Config.HWType',
      'VM.Config.Options',
      'VM.Config.Cloudinit',
    ),
  ],
  // force: true stops a running VM first
  delete_vm: [SEE_GUESTS, on('/vms', 'VM.Allocate', 'VM.PowerMgmt')],
  start_vm: POWER,
  stop_vm: POWER,
  shutdown_vm: POWER,
  reboot_vm: POWER,
  reset_vm: POWER,
  suspend_vm: POWER,
  resume_vm: POWER,
  get_vm_ip_addresses: [SEE_GUESTS, anyOn('/vms', 'VM.GuestAgent.Audit', 'VM.GuestAgent.Unrestricted')],
  execute_vm_command: [SEE_GUESTS, on('/vms', 'VM.GuestAgent.Unrestricted')],

  // containers (the exec tools also need SSH to the nodes, checked separately)
  get_containers: [SEE_GUESTS],
  get_container_config: [SEE_GUESTS],
  get_container_ip: [SEE_GUESTS],
  create_container: [on('/vms', 'VM.Allocate'), USE_STORAGE, SEE_STORAGE, USE_BRIDGE],
  start_container: POWER,
  stop_container: POWER,
  restart_container: POWER,
  delete_container: [SEE_GUESTS, on('/vms', 'VM.Allocate', 'VM.PowerMgmt')],
  update_container_resources: [
    SEE_GUESTS,
    anyOn('/vms', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Disk'),
  ],
  set_container_description: [SEE_GUESTS, on('/vms', 'VM.Config.Options')],
  update_container_network: [SEE_GUESTS, on('/vms', 'VM.Config.Network'), SEE_NODES, USE_BRIDGE],
  // the pool is checked in /pools (Pool.Audit); a clone into one needs VM.Allocate there (here: on /vms)
  clone_container: [SEE_GUESTS, on('/vms', 'VM.Clone', 'VM.Allocate'), USE_STORAGE],
  execute_container_command: [SEE_GUESTS],
  update_container_ssh_keys: [SEE_GUESTS],
  // nodes: the node list decides which SSH hosts may be reached; the command itself runs over SSH
  execute_node_command: [SEE_NODES],

  // snapshots
  list_snapshots: [SEE_GUESTS],
  create_snapshot: [SEE_GUESTS, on('/vms', 'VM.Snapshot')],
  delete_snapshot: [SEE_GUESTS, on('/vms', 'VM.Snapshot')],
  rollback_snapshot: [SEE_GUESTS, anyOn('/vms', 'VM.Snapshot', 'VM.Snapshot.Rollback')],

  // backups
  list_backups: [SEE_STORAGE],
  create_backup: [SEE_GUESTS, on('/vms', 'VM.Backup'), USE_STORAGE],
  // restoring over an existing guest needs VM.Backup, into a new vmid VM.Allocate
  restore_backup: [SEE_STORAGE, anyOn('/vms', 'VM.Backup', 'VM.Allocate'), USE_STORAGE],
  // Datastore.Allocate, or AllocateSpace for backups of guests the token may back up
  delete_backup: [SEE_STORAGE, anyOn('/storage', 'Datastore.Allocate', 'Datastore.AllocateSpace')],

  // ISOs and templates
  list_isos: [SEE_STORAGE],
  list_templates: [SEE_STORAGE],
  download_iso: DOWNLOAD,
  download_template: DOWNLOAD,
  delete_iso: [SEE_STORAGE, on('/storage', 'Datastore.Allocate')],

  // jobs and tasks: the token may always read and stop the tasks it started itself
  list_jobs: [],
  get_job: [],
  get_job_events: [],
  poll_job: [],
  wait_job: [],
  cancel_job: [],
  // repeats the original call: needs what the original tool needs
  retry_job: [],
  // reads the task list of the job's node (its own tasks are always visible to the token)
  reconcile_job: [],
  // other users' tasks need Sys.Audit on the node
  list_tasks: [SEE_NODES],
  get_task_log: [SEE_NODES],

  list_audit_events: [],
};
