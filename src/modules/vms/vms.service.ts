import { Injectable } from '@nestjs/common';
import type { GuestConfigDto } from '../../common/dto/guest.dto.js';
import type { GuestListQueryDto } from '../../common/dto/list-query.dto.js';
import { GuestConfigService } from '../../common/guest-config.service.js';
import { num } from '../../common/format/human.js';
import { pageGuests, toGuestSummary } from '../../common/mappers/guest.mapper.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { ClusterResourcesService } from '../cluster/cluster-resources.service.js';
import type { NextVmidDto, VmListDto } from './dto/vms.dto.js';

@Injectable()
export class VmsService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly resources: ClusterResourcesService,
    private readonly configs: GuestConfigService,
  ) {}

  /** From one /cluster/resources call; guests on offline nodes stay listed with status 'unknown'. */
  async getVms(q: GuestListQueryDto): Promise<VmListDto> {
    const snap = await this.resources.snapshot('vm', q.target);
    const { page, total, truncated } = pageGuests(
      snap.items.filter((r) => r.type === 'qemu').map(toGuestSummary),
      q,
    );
    return {
      target: snap.target,
      vms: page,
      total,
      truncated,
      partial: snap.unavailableNodes.length > 0,
      unavailable_nodes: snap.unavailableNodes,
    };
  }

  getVmConfig(node: string, vmid: string | number, target?: string): Promise<GuestConfigDto> {
    return this.configs.get('qemu', node, vmid, target);
  }

  async getNextVmid(target?: string): Promise<NextVmidDto> {
    // PVE returns the id as a JSON string ("100").
    return { vmid: num(await this.gateway.client(target).get<string | number>('/cluster/nextid')) };
  }
}
