import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import type { ProxmoxClient, PveParams } from '../../proxmox/proxmox-client.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import type {
  AddHaResourceBodyDto,
  HaResourceChangeDto,
  HaResourceListDto,
  HaResourceRemovedDto,
  HaStatusDto,
  UpdateHaResourceBodyDto,
} from './dto/ha.dto.js';
import {
  sidVmid,
  toHaResource,
  toHaStatus,
  type PveHaManagerStatus,
  type PveHaResource,
  type PveHaRule,
  type PveHaStatusEntry,
} from './ha.mapper.js';

const RESOURCES = '/cluster/ha/resources';
const resourcePath = (sid: string): string => `${RESOURCES}/${encodeURIComponent(sid)}`;

/**
 * High availability through pve-ha-manager's API. Resource changes are synchronous in PVE (they write
 * resources.cfg; no task, so no job): the HA manager then starts, stops or recovers the guest on its own. Every
 * precondition PVE would refuse is read first, so a refused call never reaches PVE nor an operator's approval.
 */
@Injectable()
export class HaService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly inventory: InventoryService,
  ) {}

  /** Quorum, the CRM master and each node's manager and LRM state, and the state of every HA resource. */
  async status(target?: string): Promise<HaStatusDto> {
    const { config, client } = this.gateway.resolve(target);
    const [entries, manager] = await Promise.all([
      client.get<PveHaStatusEntry[]>('/cluster/ha/status/current'),
      client.get<PveHaManagerStatus>('/cluster/ha/status/manager_status'),
    ]);
    return toHaStatus(config.name, entries ?? [], manager ?? {});
  }

  /**
   * resources.cfg with each guest's name, node, status and HA state from the (cached) inventory, and the HA rules
   * (PVE 9's replacement of HA groups) naming each resource.
   */
  async listResources(target?: string): Promise<HaResourceListDto> {
    const client = this.gateway.client(target);
    const [rows, rules, guests] = await Promise.all([
      this.resourceRows(client),
      client.get<PveHaRule[] | null>('/cluster/ha/rules'),
      this.inventory.clusterResources('vm', target),
    ]);
    const byVmid = new Map(guests.items.map((g) => [Number(g.vmid), g]));
    return {
      target: guests.target,
      resources: rows.map((row) => toHaResource(row, byVmid.get(sidVmid(row.sid)), rules ?? [])),
      ...(rows[0]?.digest ? { digest: rows[0].digest } : {}),
      partial: guests.unavailableNodes.length > 0,
      unavailable_nodes: guests.unavailableNodes,
    };
  }

  /** Refused before any change for an unknown guest, a template, or a guest HA already manages. */
  async add(dto: AddHaResourceBodyDto, target?: string): Promise<HaResourceChangeDto> {
    const { config, client } = this.gateway.resolve(target);
    const [guests, rows] = await Promise.all([
      this.inventory.clusterResources('vm', target, { fresh: true }),
      this.resourceRows(client),
    ]);
    const guest = guests.items.find((g) => Number(g.vmid) === dto.vmid);
    if (!guest) {
      throw new DomainError('NOT_FOUND', `No VM or container with vmid ${dto.vmid}`, {
        hint: 'get_vms and get_containers list the guests.',
      });
    }
    if (Number(guest.template) === 1 || guest.template === true) {
      throw new DomainError('CONFLICT', `Guest ${dto.vmid} is a template: HA cannot run it`);
    }
    const managed = rows.find((r) => sidVmid(r.sid) === dto.vmid);
    if (managed) {
      throw new DomainError('CONFLICT', `Guest ${dto.vmid} is already HA-managed as ${managed.sid}`, {
        hint: 'update_ha_resource changes its state and options.',
      });
    }
    const sid = `${guest.type === 'lxc' ? 'ct' : 'vm'}:${dto.vmid}`;
    await client.post(RESOURCES, {
      sid,
      ...(dto.state !== undefined ? { state: dto.state } : {}),
      ...(dto.max_restart !== undefined ? { max_restart: dto.max_restart } : {}),
      ...(dto.max_relocate !== undefined ? { max_relocate: dto.max_relocate } : {}),
      ...(dto.failback !== undefined ? { failback: dto.failback ? 1 : 0 } : {}),
      ...(dto.comment ? { comment: dto.comment } : {}),
    });
    const resource = await this.resourceNow(client, sid, target);
    return {
      target: config.name,
      resource,
      changes: [`${sid} is now HA-managed, requested state ${resource.state}`],
    };
  }

  /**
   * One PUT guarded by resources.cfg's digest: the caller's (from list_ha_resources), else the one read here, so
   * a concurrent change between the read and the write is refused by PVE rather than overwritten.
   */
  async update(vmid: number, dto: UpdateHaResourceBodyDto, target?: string): Promise<HaResourceChangeDto> {
    const set: Array<[string, string | number | undefined]> = [
      ['state', dto.state],
      ['max_restart', dto.max_restart],
      ['max_relocate', dto.max_relocate],
      ['failback', dto.failback === undefined ? undefined : dto.failback ? 1 : 0],
    ];
    if (set.every(([, v]) => v === undefined) && dto.comment === undefined) {
      throw new DomainError('VALIDATION', 'Nothing to change', {
        hint: 'Pass state, max_restart, max_relocate, failback or comment.',
      });
    }
    const { config, client } = this.gateway.resolve(target);
    const row = await this.managedRow(client, vmid);
    const current = await client.get<PveHaResource>(resourcePath(row.sid));
    if (dto.digest !== undefined && dto.digest !== current.digest) {
      throw new DomainError('CONFLICT', 'The HA configuration changed since the digest was read', {
        hint: 'Read list_ha_resources again and retry with its digest.',
      });
    }
    const params: PveParams = { ...(current.digest ? { digest: dto.digest ?? current.digest } : {}) };
    const changes: string[] = [];
    for (const [key, value] of set) {
      if (value === undefined) continue;
      params[key] = value;
      changes.push(`set ${key} to ${key === 'failback' ? String(dto.failback) : value}`);
    }
    if (dto.comment === '') {
      params.delete = 'comment';
      changes.push('cleared the comment');
    } else if (dto.comment !== undefined) {
      params.comment = dto.comment;
      changes.push('set the comment');
    }
    await client.put(resourcePath(row.sid), params);
    return { target: config.name, resource: await this.resourceNow(client, row.sid, target), changes };
  }

  /** The guest stays as it is; HA no longer starts, stops or recovers it. */
  async remove(vmid: number, target?: string): Promise<HaResourceRemovedDto> {
    const { config, client } = this.gateway.resolve(target);
    const row = await this.managedRow(client, vmid);
    await client.delete(resourcePath(row.sid));
    return { target: config.name, sid: row.sid, vmid, removed: true };
  }

  private async resourceRows(client: ProxmoxClient): Promise<PveHaResource[]> {
    const rows = (await client.get<PveHaResource[] | null>(RESOURCES)) ?? [];
    return [...rows].sort((a, b) => sidVmid(a.sid) - sidVmid(b.sid));
  }

  /** The HA resource of a guest, or NOT_FOUND naming the managed guests. */
  private async managedRow(client: ProxmoxClient, vmid: number): Promise<PveHaResource> {
    const rows = await this.resourceRows(client);
    const row = rows.find((r) => sidVmid(r.sid) === vmid);
    if (!row) {
      throw new DomainError('NOT_FOUND', `Guest ${vmid} is not HA-managed`, {
        hint: rows.length
          ? `HA resources: ${rows.map((r) => r.sid).join(', ')}. add_ha_resource puts a guest under HA.`
          : 'There are no HA resources. add_ha_resource puts a guest under HA.',
      });
    }
    return row;
  }

  /** The resource as it is now, with its guest from a fresh inventory read (its HA state just changed). */
  private async resourceNow(client: ProxmoxClient, sid: string, target?: string) {
    const [row, guests] = await Promise.all([
      client.get<PveHaResource>(resourcePath(sid)),
      this.inventory.clusterResources('vm', target, { fresh: true }),
    ]);
    const guest: PveClusterResource | undefined = guests.items.find((g) => Number(g.vmid) === sidVmid(sid));
    return toHaResource(row, guest);
  }
}
