import { Injectable } from '@nestjs/common';
import type { GuestConfigDto } from '../guests/dto/guest.dto.js';
import type { GuestListQueryDto } from '../guests/dto/guest-list-query.dto.js';
import { GuestConfigService } from '../guests/guest-config.service.js';
import { pageGuests, toGuestSummary } from '../guests/guest.mapper.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import type { NextVmidDto, VmListDto } from './dto/vms.dto.js';
import { VmidAllocator } from '../guests/vmid-allocator.js';

@Injectable()
export class VmsService {
  constructor(
    private readonly resources: InventoryService,
    private readonly configs: GuestConfigService,
    private readonly vmids: VmidAllocator,
  ) {}

  /** From one /cluster/resources call; guests on offline nodes stay listed with status 'unknown'. */
  async getVms(q: GuestListQueryDto): Promise<VmListDto> {
    const snap = await this.resources.clusterResources('vm', q.target);
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

  getVmConfig(node: string, vmid: number, target?: string): Promise<GuestConfigDto> {
    return this.configs.get('qemu', node, vmid, target);
  }

  async getNextVmid(target?: string): Promise<NextVmidDto> {
    return { vmid: await this.vmids.next(target) };
  }
}
