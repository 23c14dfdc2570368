import { partialNote, usageLine } from '../../common/format/human.js';
import type { VmListDto } from './dto/vms.dto.js';

export const vmsText = (r: VmListDto): string =>
  [
    '[vm] Virtual Machines',
    ...r.vms.flatMap((vm) => [
      '',
      `[vm] ${vm.name} (ID: ${vm.vmid})`,
      `  - Status: ${vm.status.toUpperCase()}`,
      `  - Node: ${vm.node}`,
      `  - CPU Cores: ${vm.cpus}`,
      `  - Memory: ${usageLine(vm.memory.used_bytes, vm.memory.total_bytes)}`,
    ]),
    ...(r.truncated ? ['', `Showing ${r.vms.length} of ${r.total}; use offset/limit for more.`] : []),
  ].join('\n') + partialNote(r.unavailable_nodes);
