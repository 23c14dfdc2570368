import { partialNote, usageLine } from '../../common/format/human.js';
import type { ContainerIpDto, ContainerListDto } from './dto/containers.dto.js';

/** pretty: the reference's layout; json: its row objects. */
export const containersText = (r: ContainerListDto): string => {
  if (r.format_style === 'json') {
    return JSON.stringify(
      r.containers.map((c) => ({
        vmid: c.vmid,
        name: c.name,
        node: c.node,
        status: c.status,
        cpu_pct: c.cpu_percent,
        cores: c.cpus,
        mem_bytes: c.memory.used_bytes,
        maxmem_bytes: c.memory.total_bytes,
        mem_pct: c.memory.used_percent,
      })),
      null,
      2,
    );
  }
  return (
    [
      'Containers',
      ...r.containers.flatMap((c) => [
        '',
        `${c.name} (ID: ${c.vmid})`,
        `  - Status: ${c.status.toUpperCase()}`,
        `  - Node: ${c.node}`,
        `  - CPU: ${c.cpu_percent.toFixed(1)}%`,
        `  - CPU Cores: ${c.cpus || 'N/A'}`,
        `  - Memory: ${c.unlimited_memory ? '(unlimited)' : usageLine(c.memory.used_bytes, c.memory.total_bytes)}`,
      ]),
      ...(r.truncated
        ? ['', `Showing ${r.containers.length} of ${r.total}; use offset/limit for more.`]
        : []),
    ].join('\n') + partialNote(r.unavailable_nodes)
  );
};

export const containerIpText = (r: ContainerIpDto): string =>
  [
    `[ct] ${r.name} (ID: ${r.vmid}) on ${r.node}`,
    `  - Primary IP: ${r.primary_ip ?? 'none'}`,
    ...r.interfaces.map(
      (i) => `  - ${i.name}: ${[i.inet, i.inet6].filter(Boolean).join(', ') || 'no address'}`,
    ),
  ].join('\n');
