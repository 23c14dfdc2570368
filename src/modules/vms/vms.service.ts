import { Injectable } from '@nestjs/common';
import type { GuestConfigDto, GuestSummaryDto } from '../guests/dto/guest.dto.js';
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
    // the same answer for every caller who asks the same while the inventory cache holds the same PVE answer
    // (computed once; see InventoryService.derived): the key names every argument that shapes the answer
    const key = JSON.stringify(['get_vms', q.node, q.status, q.limit, q.offset]);
    return this.resources.derived('vm', q.target, key, (snap): VmListDto => {
      const vms: GuestSummaryDto[] = [];
      for (const r of snap.items) if (r.type === 'qemu') vms.push(toGuestSummary(r));
      const { page, total, truncated } = pageGuests(vms, q);
      return {
        target: snap.target,
        vms: page,
        total,
        truncated,
        partial: snap.unavailableNodes.length > 0,
        unavailable_nodes: snap.unavailableNodes,
      };
    });
  }

  getVmConfig(node: string, vmid: number, target?: string): Promise<GuestConfigDto> {
    return this.configs.get('qemu', node, vmid, target);
  }

  async getNextVmid(target?: string): Promise<NextVmidDto> {
    return { vmid: await this.vmids.next(target) };
  }
}
