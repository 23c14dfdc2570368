import type { GuestConfigDto } from '../dto/guest.dto.js';

/** Text of get_vm_config and get_container_config: the PVE keys, sorted. */
export const guestConfigText = (c: GuestConfigDto): string =>
  [
    `[config] ${c.type === 'qemu' ? 'VM' : 'Container'} ${c.vmid} on ${c.node}`,
    ...Object.keys(c.config)
      .sort()
      .map((k) => `  ${k}: ${String(c.config[k])}`),
  ].join('\n');
