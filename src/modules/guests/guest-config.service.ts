import { Injectable } from '@nestjs/common';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type { GuestConfigDto } from './dto/guest.dto.js';

/** GET /nodes/{node}/{qemu|lxc}/{vmid}/config → GuestConfigDto (shared by the VM and container tools). */
@Injectable()
export class GuestConfigService {
  constructor(private readonly gateway: ProxmoxGateway) {}

  async get(type: 'qemu' | 'lxc', node: string, vmid: number, target?: string): Promise<GuestConfigDto> {
    const config = await this.gateway
      .client(target)
      .get<Record<string, string | number>>(
        type === 'qemu'
          ? pvePath`/nodes/${node}/qemu/${vmid}/config`
          : pvePath`/nodes/${node}/lxc/${vmid}/config`,
      );
    const { digest, ...rest } = config ?? {};
    return {
      target: this.gateway.targetConfig(target).name,
      node,
      vmid,
      type,
      ...(digest !== undefined ? { digest: String(digest) } : {}),
      ...(rest.description !== undefined ? { description: String(rest.description) } : {}),
      config: rest,
    };
  }
}
