import { partialNote, usageLine } from '../../common/format/human.js';
import type { ExecResultDto, VmIpAddressesDto } from './dto/vm-agent.dto.js';
import type { UpdateVmConfigResultDto } from './dto/vm-lifecycle.dto.js';
import type { VmListDto } from './dto/vms.dto.js';

/**
 * Built as one string in one pass: get_vms pages up to 1,000 VMs by default (5,000 at most), and an array of six
 * lines per VM joined at the end cost three times as much (npm run bench, get_vms on 5,000 guests).
 */
export function vmsText(r: VmListDto): string {
  let text = 'Virtual machines';
  for (const vm of r.vms) {
    text +=
      `\n\n${vm.name} (ID: ${vm.vmid})` +
      `\n  - Status: ${vm.status.toUpperCase()}` +
      `\n  - Node: ${vm.node}` +
      `\n  - CPU Cores: ${vm.cpus || 'N/A'}` +
      `\n  - Memory: ${usageLine(vm.memory.used_bytes, vm.memory.total_bytes)}`;
  }
  if (r.truncated) text += `\n\nShowing ${r.vms.length} of ${r.total}; use offset/limit for more.`;
  return text + partialNote(r.unavailable_nodes);
}

export const ipAddressesText = (r: VmIpAddressesDto): string =>
  [
    `IP addresses of VM ${r.vmid} on ${r.node}${r.primary_ipv4 ? `: ${r.primary_ipv4}` : ''}`,
    ...r.interfaces.map(
      (i) =>
        `  - ${i.name}${i.mac_address ? ` (${i.mac_address})` : ''}: ${[...i.ipv4, ...i.ipv6].join(', ') || 'no address'}`,
    ),
    ...(r.interfaces.length ? [] : ['  (the guest reports no addresses yet)']),
  ].join('\n');

/** The reference's command result block (its tag dropped), plus the exit code; never the command text itself. */
export function execResultText(r: ExecResultDto): string {
  const state = r.timed_out
    ? 'TIMED OUT (still running in the guest)'
    : r.exit_code === 0
      ? 'SUCCESS'
      : `FAILED (${r.exit_code !== undefined ? `exit code ${r.exit_code}` : `signal ${r.signal ?? 'N/A'}`})`;
  const lines = ['Command result', `  - Status: ${state}`, `  - VM: ${r.vmid} on ${r.node} (pid ${r.pid})`];
  if (r.exit_code !== undefined) lines.push(`  - Exit code: ${r.exit_code}`);
  const cut = (truncated: boolean) => (truncated ? ' (truncated)' : '');
  if (r.stdout) lines.push('', `Output${cut(r.stdout_truncated)}:`, r.stdout.trimEnd());
  if (r.stderr) lines.push('', `Error${cut(r.stderr_truncated)}:`, r.stderr.trimEnd());
  return lines.join('\n');
}

export const updateConfigText = (r: UpdateVmConfigResultDto): string =>
  [
    `VM ${r.vmid} on ${r.node}: updated ${r.updated.join(', ')}`,
    ...(r.pending?.length ? [`Pending until the next VM start: ${r.pending.join(', ')}`] : []),
  ].join('\n');
