import { DomainError, isDomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';
import type { ProxmoxClient } from '../../proxmox/proxmox-client.js';

/** How a taken id is refused: the words before the id and the hint (create_container names it "ID"). */
export interface TakenVmidWording {
  subject: string;
  hint: string;
}

/**
 * The caller's id if it is free anywhere in the cluster (not only on one node; PVE's /cluster/nextid check is the
 * authority), else the next free one. create_vm, clone_vm, create_container and clone_container. /cluster/nextid
 * does not reserve the id: the create itself can still find it taken.
 */
export async function freeVmid(
  client: ProxmoxClient,
  wanted: string | number | undefined,
  field: string,
  wording: Partial<TakenVmidWording> = {},
): Promise<number> {
  if (wanted === undefined) return num(await client.get<string | number>('/cluster/nextid'));
  const vmid = num(wanted);
  try {
    await client.get<string | number>('/cluster/nextid', { vmid });
    return vmid;
  } catch (error) {
    // PVE answers 400 {"errors":{"vmid":"VM 100 already exists"}} for a taken id
    if (isDomainError(error) && error.code === 'UPSTREAM_REJECTED' && /already exists/.test(error.message)) {
      throw new DomainError(
        'CONFLICT',
        `${wording.subject ?? field} ${vmid} is already used by a VM or container in the cluster`,
        { hint: wording.hint ?? 'Leave it out to get the next free ID, or pick another (get_next_vmid).' },
      );
    }
    throw error;
  }
}
