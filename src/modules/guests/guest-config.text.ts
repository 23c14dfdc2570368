import type { GuestConfigDto } from './dto/guest.dto.js';

/** Text of get_vm_config and get_container_config: the PVE keys, sorted. */
export const guestConfigText = (c: GuestConfigDto): string =>
  [
    `Configuration of ${c.type === 'qemu' ? 'VM' : 'container'} ${c.vmid} on ${c.node}`,
    ...Object.keys(c.config)
      .sort()
      .map((k) => `  ${k}: ${String(c.config[k])}`),
  ].join('\n');
