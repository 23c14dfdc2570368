import { DomainError } from '../../common/errors/domain-error.js';
import type { ProxmoxClient } from '../../proxmox/proxmox-client.js';

/**
 * The `pool` of create_vm, clone_vm, create_container and clone_container must name a resource pool that exists
 * (GET /pools); PVE would refuse a missing one only as "Permission check failed". /pools lists the pools the
 * token may audit (Pool.Audit), which is also what it needs to add a guest to one.
 */
export async function assertPoolExists(client: ProxmoxClient, pool: string): Promise<void> {
  const rows = (await client.get<Array<{ poolid?: string }> | null>('/pools')) ?? [];
  if (rows.some((r) => r.poolid === pool)) return;
  const names = rows.map((r) => String(r.poolid)).sort();
  throw new DomainError('NOT_FOUND', `pool: there is no resource pool '${pool}'`, {
    hint: names.length
      ? `Resource pools: ${names.join(', ')}. An operator creates pools in Proxmox (Datacenter → Permissions → Pools).`
      : 'The token sees no resource pools (it needs Pool.Audit on them); an operator creates pools in Proxmox (Datacenter → Permissions → Pools).',
  });
}
