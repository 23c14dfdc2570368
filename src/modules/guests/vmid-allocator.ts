import { Injectable } from '@nestjs/common';
import { DomainError, isDomainError } from '../../common/errors/domain-error.js';
import { upstreamSays } from './guest-state.js';
import { num } from '../../common/format/human.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';

/** How a taken id is refused: the words before the id and the hint (create_container names it "ID"). */
export interface TakenVmidWording {
  subject: string;
  hint: string;
}

const DEFAULT_HINT = 'Leave it out to get the next free ID, or pick another (get_next_vmid).';

/**
 * The one vmid allocator of create_vm, clone_vm, create_container and clone_container (and get_next_vmid).
 * A wanted id must be free anywhere in the cluster, among VMs and containers alike: the inventory (read fresh)
 * names the guest that holds it, and PVE's /cluster/nextid check stays the authority for an id the inventory does
 * not show (a guest the token may not audit). /cluster/nextid reserves nothing: the create itself can still find
 * the id taken, and each caller reports that race.
 */
@Injectable()
export class VmidAllocator {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly inventory: InventoryService,
  ) {}

  /** The next free id (PVE /cluster/nextid). */
  async next(target?: string): Promise<number> {
    return num(await this.gateway.client(target).get<string | number>('/cluster/nextid'));
  }

  /** The caller's id if it is free, else a CONFLICT naming who has it; without one, the next free id. */
  async allocate(
    wanted: number | undefined,
    field: string,
    target?: string,
    wording: Partial<TakenVmidWording> = {},
  ): Promise<number> {
    if (wanted === undefined) return this.next(target);
    const subject = wording.subject ?? field;
    const hint = wording.hint ?? DEFAULT_HINT;
    const { items } = await this.inventory.clusterResources('vm', target, { fresh: true });
    const holder = items.find((r) => num(r.vmid) === wanted);
    if (holder) {
      const kind = holder.type === 'lxc' ? 'container' : 'VM';
      throw new DomainError(
        'CONFLICT',
        `${subject} ${wanted} is already used by ${kind} ${holder.name ? `'${String(holder.name)}' ` : ''}on node ${String(holder.node)}`,
        { hint },
      );
    }
    try {
      await this.gateway.client(target).get<string | number>('/cluster/nextid', { vmid: wanted });
      return wanted;
    } catch (error) {
      // PVE answers 400 {"errors":{"vmid":"VM 100 already exists"}} for a taken id
      if (
        isDomainError(error) &&
        error.code === 'UPSTREAM_REJECTED' &&
        /already exists/.test(error.message)
      ) {
        throw new DomainError(
          'CONFLICT',
          `${subject} ${wanted} is already used by a VM or container in the cluster`,
          { hint },
        );
      }
      throw error;
    }
  }
}

/**
 * /cluster/nextid reserves nothing, so a create or clone elsewhere can take the id between allocate() and the
 * POST: PVE then refuses with "VM 100 already exists on node 'pve1'" (or "CT 100 …"). That race as a CONFLICT
 * saying nothing was made and to call again; any other error is returned unchanged.
 */
export function asIdTakenMeanwhile(
  error: unknown,
  id: number,
  call: { subject: string; nothing: string; tool: string; field: string },
): unknown {
  if (!upstreamSays(error, /\b(VM|CT) \d+ already exists/)) return error;
  return new DomainError('CONFLICT', `${call.subject} ${id} was taken meanwhile; ${call.nothing}`, {
    hint: `Call ${call.tool} again (without ${call.field} it picks the next free ID).`,
  });
}
