/**
 * The operator workflows of docs/examples as MCP prompts: each names its arguments and renders one user message
 * that tells the agent which tools to call, in which order, and what to check before going on. Plain text, no
 * SDK types (the transport serves them: src/mcp/transport/mcp-catalog.ts).
 */
export interface PromptArgumentSpec {
  name: string;
  description: string;
  required: boolean;
}

export interface PromptSpec {
  name: string;
  title: string;
  description: string;
  arguments: PromptArgumentSpec[];
  render(args: Record<string, string>): string;
}

const vmid: PromptArgumentSpec = {
  name: 'vmid',
  description: 'The VM or container ID (see get_vms / get_containers)',
  required: true,
};
const node: PromptArgumentSpec = {
  name: 'node',
  description: 'The node the guest is on (optional: get_vms / get_containers tell)',
  required: false,
};

/** `node` when given, else how to find it. */
const nodeHint = (a: Record<string, string>) =>
  a.node ? `on node ${a.node}` : '(find its node and type with get_vms or get_containers first)';

export const PROMPTS: readonly PromptSpec[] = [
  {
    name: 'safe_vm_change',
    title: 'Change a VM safely (snapshot first)',
    description: 'Take a snapshot, make one configuration change, verify it, and roll back if it went wrong.',
    arguments: [
      vmid,
      {
        name: 'change',
        description: 'The change to make, in words (e.g. "memory to 8192 MiB")',
        required: true,
      },
      node,
    ],
    render: (a) =>
      [
        `Make this change to guest ${a.vmid} ${nodeHint(a)}: ${a.change}.`,
        '',
        'Follow these steps and stop at the first one that fails:',
        `1. get_vm_config (or get_container_config for a container) for ${a.vmid}: note the current values and the digest.`,
        '2. list_snapshots: if the guest has a lock or a snapshot named like the one you will take, stop and report.',
        `3. create_snapshot with snapname before-change-<date>, a description saying what you are about to change, and wait: true. Check the job ended with status completed.`,
        '4. Make the change with update_vm_config (or update_container_resources), passing the digest from step 1 so a concurrent edit is refused (CONFLICT), and wait: true.',
        '5. Verify: read the config again and compare it with what you meant to change; for a running guest check get_vms shows it running.',
        '6. If the change is wrong or the guest misbehaves, call rollback_snapshot to the snapshot of step 3 (it needs an approval: relay the request id to the operator). Otherwise tell the operator the snapshot name so it can be deleted later with delete_snapshot.',
        '',
        'Report the before and after values, the job ids and the snapshot name.',
      ].join('\n'),
  },
  {
    name: 'backup_and_verify_restore',
    title: 'Back up a guest and verify the backup restores',
    description:
      'Back up a guest, then restore the archive under a spare ID to prove it is usable, and clean the test copy up.',
    arguments: [
      vmid,
      { name: 'storage', description: 'Backup storage to write to (content type backup)', required: true },
      node,
      {
        name: 'restore_vmid',
        description: 'A free ID for the test restore (default: get_next_vmid)',
        required: false,
      },
    ],
    render: (a) =>
      [
        `Back up guest ${a.vmid} ${nodeHint(a)} to storage ${a.storage} and prove the backup restores.`,
        '',
        `1. get_storage: check ${a.storage} exists, holds content type backup and has room for the guest's disks.`,
        `2. create_backup for ${a.vmid} with storage ${a.storage}, mode snapshot, wait: true. The job must end completed; if it failed, read its task log (get_task_log with the job's node and upid) and report.`,
        `3. list_backups with vmid ${a.vmid} and storage ${a.storage}: the newest entry is the archive you just wrote; note its volid and size.`,
        `4. Restore it as a test copy: restore_backup with archive = that volid, vmid = ${a.restore_vmid ?? 'a free ID from get_next_vmid'}, unique: true (new MAC addresses), start: false, wait: true. Never use force and never restore over ${a.vmid} itself.`,
        '5. Verify the copy: get_vm_config / get_container_config of the restored ID shows the same disks, memory and cores as the original.',
        '6. Delete the test copy (delete_vm / delete_container; it needs an approval) once verified, and keep the backup.',
        '',
        'Report the archive volid, its size, the restore check and every job id.',
      ].join('\n'),
  },
  {
    name: 'cleanup_old_snapshots',
    title: 'Clean up old snapshots of a guest',
    description: "List a guest's snapshots, pick the ones older than a cutoff, and delete them oldest first.",
    arguments: [
      vmid,
      node,
      {
        name: 'older_than_days',
        description: 'Delete snapshots older than this many days (default 30)',
        required: false,
      },
      { name: 'keep', description: 'Always keep this many newest snapshots (default 1)', required: false },
      { name: 'keep_snapshot', description: 'A snapshot to keep whatever its age', required: false },
    ],
    render: (a) =>
      [
        `Clean up the snapshots of guest ${a.vmid} ${nodeHint(a)}: those older than ${a.older_than_days ?? '30'} days, keeping at least the ${a.keep ?? '1'} newest.`,
        '',
        `1. list_snapshots for ${a.vmid} (vm_type lxc for a container). They come oldest first with created_at, parent and children.`,
        `2. Choose the candidates: created_at older than the cutoff, not among the newest you must keep, never "current"${a.keep_snapshot ? ` and never ${a.keep_snapshot}` : ''}. Show the list to the operator before deleting anything.`,
        '3. Delete them one at a time, oldest first, with delete_snapshot and wait: true (it needs an approval: relay the request id). Check each job ended completed before the next; stop on the first failure and read its task log.',
        '4. list_snapshots again and report what was removed and what is left.',
      ].join('\n'),
  },
  {
    name: 'investigate_slow_guest',
    title: 'Investigate a slow guest',
    description:
      'Read-only diagnosis of a slow VM or container: its load, its node, storage and recent tasks.',
    arguments: [vmid, node],
    render: (a) =>
      [
        `Guest ${a.vmid} ${nodeHint(a)} is reported slow. Diagnose it without changing anything.`,
        '',
        `1. get_vms (or get_containers with include_stats) filtered to its node: CPU percent, memory use and uptime of ${a.vmid}; is it at its CPU or memory limit?`,
        '2. get_node_status for its node: load average, CPU, memory, swap and root disk. A busy or swapping node slows every guest on it.',
        '3. get_vm_config / get_container_config: cores, memory, balloon, disk bus and cache settings; compare with what the guest uses.',
        "4. get_storage for the node: is the storage holding the guest's disks nearly full or unavailable?",
        '5. list_tasks on the node: backups, migrations or replication running now can saturate disks. get_node_syslog for I/O or OOM errors.',
        '6. get_vm_ip_addresses (guest agent) tells whether the guest itself answers.',
        '',
        'Report the likely cause with the figures that show it, and suggest a change (more cores or memory, moving the disk or the guest) without making it.',
      ].join('\n'),
  },
  {
    name: 'create_and_boot_vm',
    title: 'Create a VM and boot it from an ISO',
    description: 'Create a VM with an installer ISO attached, start it and check it runs.',
    arguments: [
      { name: 'node', description: 'Node to create the VM on (see get_nodes)', required: true },
      { name: 'name', description: 'VM name (a DNS name), e.g. web01', required: true },
      {
        name: 'iso',
        description: 'Installer ISO volume ID, e.g. local:iso/debian-12.iso (see list_isos)',
        required: true,
      },
      {
        name: 'storage',
        description: 'Storage for the disk (default: chosen by create_vm)',
        required: false,
      },
    ],
    render: (a) =>
      [
        `Create a VM named ${a.name} on node ${a.node} that boots the installer ${a.iso}.`,
        '',
        `1. get_node_status for ${a.node}: the node is online and has free memory for the VM.`,
        `2. list_isos with node ${a.node}: ${a.iso} is there (a node sees only its own and shared storages).${a.storage ? ` get_storage: ${a.storage} holds disk images (content images) and has room.` : ''}`,
        `3. create_vm with node ${a.node}, name ${a.name}, iso ${a.iso}${a.storage ? `, storage ${a.storage}` : ''}, wait: true. The job must end completed; note the vmid it chose (get_next_vmid if you pick one yourself).`,
        '4. get_vm_config for the new VM: ide2 holds the ISO and the boot order starts from it.',
        '5. start_vm with wait: true, then get_vms filtered to the node: the VM is running.',
        '',
        'Report the vmid, the node and the job ids; the operator finishes the installation on the console.',
      ].join('\n'),
  },
  {
    name: 'container_from_template',
    title: 'Create a container from a template',
    description: 'Create an LXC container from an OS template, start it and read its address.',
    arguments: [
      { name: 'node', description: 'Node to create the container on (see get_nodes)', required: true },
      {
        name: 'ostemplate',
        description:
          'OS template volume ID, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst (see list_templates)',
        required: true,
      },
      { name: 'storage', description: 'Storage for the root disk (content rootdir)', required: false },
    ],
    render: (a) =>
      [
        `Create a container on node ${a.node} from the template ${a.ostemplate}.`,
        '',
        `1. list_templates with node ${a.node}: ${a.ostemplate} is there; if not, download_template first.`,
        `2. get_storage with node ${a.node}: ${a.storage ?? 'the root-disk storage'} holds container directories (content rootdir) and has room.`,
        `3. create_container with node ${a.node}, ostemplate ${a.ostemplate}${a.storage ? `, storage ${a.storage}` : ''}, SSH keys rather than a password, wait: true. The job must end completed.`,
        '4. start_container with wait: true, then get_container_ip: the container has an address.',
        '',
        'Report the vmid, the address and the job ids.',
      ].join('\n'),
  },
];
