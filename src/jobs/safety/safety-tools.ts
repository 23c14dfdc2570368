/**
 * The tools that accept `safety_snapshot`: risky operations on one guest whose effect a snapshot taken just before
 * can undo. For each: which guest the call is about (from its flat arguments) and whether this call needs it at all.
 */
export interface SafetySnapshotTool {
  /** qemu or lxc; `auto` looks the guest's type up in the cluster's resources (restore_backup). */
  type: (args: Record<string, unknown>) => 'qemu' | 'lxc' | 'auto';
  /** False when this call cannot harm an existing guest (a restore to a free vmid). */
  applies?: (args: Record<string, unknown>) => boolean;
}

export const SAFETY_SNAPSHOT_TOOLS: Readonly<Record<string, SafetySnapshotTool>> = {
  rollback_snapshot: { type: (a) => (a.vm_type === 'lxc' ? 'lxc' : 'qemu') },
  // only over an existing guest (force=true overwrites it); a restore to a free vmid has nothing to keep
  restore_backup: { type: () => 'auto', applies: (a) => a.force === true || a.force === 'true' },
  execute_vm_command: { type: () => 'qemu' },
  move_vm_disk: { type: () => 'qemu' },
  move_container_volume: { type: () => 'lxc' },
};

export const SAFETY_SNAPSHOT_ARG = 'safety_snapshot';

/** PVE snapshot names: a letter, then letters, digits, `_` and `-`, at most 40 characters. */
export function safetySnapshotName(tool: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '').slice(0, 14); // 20261207053000
  return `${`safety-${tool}`.slice(0, 25).replace(/_/g, '-')}-${stamp}`;
}

/** The line a result with a safety snapshot adds to its text. */
export const safetySnapshotText = (name: string): string =>
  `Safety snapshot: ${name} (taken before this operation; rollback_snapshot to it undoes it)`;
