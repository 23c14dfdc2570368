import type { ContainerNetworkResultDto } from './dto/container-config.dto.js';

export const containerNetworkText = (r: ContainerNetworkResultDto): string =>
  [
    `${r.interface} of container ${r.vmid} on ${r.node} updated${r.running ? ' (applied to the running container)' : ''}`,
    `  before: ${r.previous}`,
    `  now:    ${r.network}`,
  ].join('\n');
