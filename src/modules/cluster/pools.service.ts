import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import type { ProxmoxClient, PveParams } from '../../proxmox/proxmox-client.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import type {
  CreatePoolBodyDto,
  PoolChangeDto,
  PoolDeletedDto,
  PoolListDto,
  UpdatePoolBodyDto,
} from './dto/pools.dto.js';
import { poolStorages, toPool, toPools, type PvePool } from './pools.mapper.js';

const list = (items: ReadonlyArray<string | number>): string => items.join(', ');
/** `a/b/c` → `a/b`; a top-level pool has no parent. */
const parentOf = (poolid: string): string | undefined => /^(.*)\/[^/]+$/.exec(poolid)?.[1];

/**
 * Resource pools (PVE 9's /pools with the poolid in the query or body). Their changes are synchronous in PVE (no
 * task, so no job). Every precondition PVE would refuse is read first, so a call that would fail never reaches
 * PVE, nor an operator's approval: the pool exists (or not), the guests and storages exist, members are where the
 * call expects them.
 */
@Injectable()
export class PoolsService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly resources: InventoryService,
  ) {}

  /**
   * Every pool with its guests and storages. Guests come from the (cached) inventory, whose rows name their pool;
   * storages only from GET /pools?poolid=…&type=storage, one small read per pool, in parallel: PVE lists a
   * pool's storages nowhere else.
   */
  async listPools(target?: string): Promise<PoolListDto> {
    const client = this.gateway.client(target);
    const poolsAndStorages = client.get<PvePool[]>('/pools').then(async (pools) => {
      const rows = await Promise.all(
        pools.map((p) => client.get<PvePool[]>('/pools', { poolid: p.poolid, type: 'storage' })),
      );
      return { pools, storages: new Map(pools.map((p, i) => [p.poolid, poolStorages(rows[i][0])])) };
    });
    const [{ pools, storages }, guests] = await Promise.all([
      poolsAndStorages,
      this.resources.clusterResources('vm', target),
    ]);
    return {
      target: guests.target,
      pools: toPools(pools, guests.items, storages),
      partial: guests.unavailableNodes.length > 0,
      unavailable_nodes: guests.unavailableNodes,
    };
  }

  async create(poolid: string, dto: CreatePoolBodyDto, target?: string): Promise<PoolChangeDto> {
    const { config, client } = this.gateway.resolve(target);
    const ids = await this.poolIds(client);
    if (ids.includes(poolid)) {
      throw new DomainError('CONFLICT', `Resource pool '${poolid}' already exists`, {
        hint: 'update_pool changes its comment and members.',
      });
    }
    const parent = parentOf(poolid);
    if (parent !== undefined && !ids.includes(parent)) {
      throw new DomainError('NOT_FOUND', `Parent pool '${parent}' of '${poolid}' does not exist`, {
        hint: `Create '${parent}' first. ${poolNames(ids)}`,
      });
    }
    await client.post('/pools', { poolid, ...(dto.comment ? { comment: dto.comment } : {}) });
    return {
      target: config.name,
      pool: toPool(await this.pool(client, poolid)),
      changes: [`created pool '${poolid}'${dto.comment ? ' with its comment' : ''}`],
    };
  }

  /**
   * PVE's PUT /pools either adds or (with `delete`) removes, so a call that does both sends two PUTs: removals
   * first, then additions. The checks before them make a refusal of the second one unlikely.
   */
  async update(poolid: string, dto: UpdatePoolBodyDto, target?: string): Promise<PoolChangeDto> {
    const addGuests = dto.add_guests ?? [];
    const removeGuests = dto.remove_guests ?? [];
    const addStorages = dto.add_storages ?? [];
    const removeStorages = dto.remove_storages ?? [];
    assertSomethingToChange(dto, [addGuests, removeGuests, addStorages, removeStorages]);
    assertDisjoint('guests', addGuests, removeGuests);
    assertDisjoint('storages', addStorages, removeStorages);

    const { config, client } = this.gateway.resolve(target);
    await this.assertPoolExists(client, poolid);
    const [pool, inventory, storageConfig] = await Promise.all([
      this.pool(client, poolid),
      addGuests.length || removeGuests.length
        ? this.resources.clusterResources('vm', target, { fresh: true })
        : undefined,
      addStorages.length ? client.get<Array<{ storage: string }>>('/storage') : undefined,
    ]);
    const guests = new Map((inventory?.items ?? []).map((g) => [Number(g.vmid), g]));
    const moves = checkGuests(poolid, dto.allow_move === true, addGuests, removeGuests, guests);
    checkStorages(poolid, poolStorages(pool), addStorages, removeStorages, storageConfig ?? []);

    const changes: string[] = [];
    let comment: PveParams = {};
    if (dto.comment !== undefined) {
      comment = { comment: dto.comment };
      changes.push(dto.comment === '' ? 'cleared the comment' : 'set the comment');
    }
    if (removeGuests.length || removeStorages.length) {
      await client.put('/pools', {
        poolid,
        delete: 1,
        ...memberParams(removeGuests, removeStorages),
        ...comment,
      });
      comment = {};
      if (removeGuests.length) changes.push(`removed guests ${list(removeGuests)}`);
      if (removeStorages.length) changes.push(`removed storages ${list(removeStorages)}`);
    }
    if (addGuests.length || addStorages.length || Object.keys(comment).length) {
      await client.put('/pools', {
        poolid,
        ...memberParams(addGuests, addStorages),
        ...(moves.length ? { 'allow-move': 1 } : {}),
        ...comment,
      });
      if (addGuests.length) changes.push(`added guests ${list(addGuests)}`);
      for (const m of moves) changes.push(`moved guest ${m.vmid} from pool '${m.from}'`);
      if (addStorages.length) changes.push(`added storages ${list(addStorages)}`);
    }
    return { target: config.name, pool: toPool(await this.pool(client, poolid)), changes };
  }

  /** Only an empty pool: PVE refuses one with guests, storages or sub-pools, so this names them first. */
  async delete(poolid: string, target?: string): Promise<PoolDeletedDto> {
    const { config, client } = this.gateway.resolve(target);
    const ids = await this.assertPoolExists(client, poolid);
    const pool = await this.pool(client, poolid);
    const subPools = ids.filter((id) => id.startsWith(`${poolid}/`));
    const guests = toPool(pool).guests;
    const storages = poolStorages(pool);
    if (subPools.length || guests.length || storages.length) {
      const holds = [
        guests.length ? `guests ${list(guests.map((g) => (g.name ? `${g.vmid} (${g.name})` : g.vmid)))}` : '',
        storages.length ? `storages ${list(storages)}` : '',
        subPools.length ? `pools ${list(subPools)}` : '',
      ].filter(Boolean);
      throw new DomainError(
        'CONFLICT',
        `Resource pool '${poolid}' is not empty: it holds ${holds.join('; ')}`,
        {
          hint: `Take them out first: update_pool with remove_guests and remove_storages${subPools.length ? ', and delete_pool of each sub-pool' : ''}. Guests and storages are not deleted with a pool.`,
          details: { guests: guests.map((g) => g.vmid), storages, pools: subPools },
        },
      );
    }
    await client.delete('/pools', { poolid });
    return { target: config.name, poolid, deleted: true };
  }

  private async poolIds(client: ProxmoxClient): Promise<string[]> {
    const rows = (await client.get<PvePool[] | null>('/pools')) ?? [];
    return rows.map((r) => r.poolid).sort();
  }

  /** The pool ids, after checking that `poolid` is one of them. */
  private async assertPoolExists(client: ProxmoxClient, poolid: string): Promise<string[]> {
    const ids = await this.poolIds(client);
    if (!ids.includes(poolid)) {
      throw new DomainError('NOT_FOUND', `There is no resource pool '${poolid}'`, {
        hint: `${poolNames(ids)} create_pool makes one.`,
      });
    }
    return ids;
  }

  /** One pool with its members (guests and storages). */
  private async pool(client: ProxmoxClient, poolid: string): Promise<PvePool> {
    const [row] = await client.get<PvePool[]>('/pools', { poolid });
    return row;
  }
}

const poolNames = (ids: readonly string[]): string =>
  ids.length ? `Resource pools: ${list(ids)}.` : 'There are no resource pools.';

function memberParams(vmids: readonly number[], storages: readonly string[]): PveParams {
  return {
    ...(vmids.length ? { vms: vmids.join(',') } : {}),
    ...(storages.length ? { storage: storages.join(',') } : {}),
  };
}

function assertSomethingToChange(dto: UpdatePoolBodyDto, lists: ReadonlyArray<readonly unknown[]>): void {
  if (dto.comment === undefined && lists.every((l) => l.length === 0)) {
    throw new DomainError('VALIDATION', 'Nothing to change', {
      hint: 'Pass comment, add_guests, remove_guests, add_storages or remove_storages.',
    });
  }
}

function assertDisjoint<T>(what: string, add: readonly T[], remove: readonly T[]): void {
  const both = add.filter((x) => remove.includes(x));
  if (both.length) {
    throw new DomainError('VALIDATION', `add_${what} and remove_${what} both name ${list(both.map(String))}`);
  }
}

/**
 * Guests to add must exist and not be in this pool; one in another pool is refused unless allow_move, as PVE
 * does (moving a guest changes who may manage it). Guests to remove must be in this pool.
 */
function checkGuests(
  poolid: string,
  allowMove: boolean,
  add: readonly number[],
  remove: readonly number[],
  guests: ReadonlyMap<number, PveClusterResource>,
): Array<{ vmid: number; from: string }> {
  const missing = add.filter((v) => !guests.has(v));
  if (missing.length) {
    throw new DomainError('NOT_FOUND', `No VM or container with vmid ${list(missing)}`, {
      hint: 'get_vms and get_containers list the guests.',
    });
  }
  const already = add.filter((v) => guests.get(v)?.pool === poolid);
  if (already.length) {
    throw new DomainError('CONFLICT', `Guest(s) ${list(already)} already in pool '${poolid}'`);
  }
  const moves = add.flatMap((vmid) => {
    const from = guests.get(vmid)?.pool;
    return from ? [{ vmid, from: String(from) }] : [];
  });
  if (moves.length && !allowMove) {
    throw new DomainError(
      'CONFLICT',
      `Already in another pool: ${list(moves.map((m) => `${m.vmid} (pool '${m.from}')`))}`,
      { hint: 'A guest belongs to one pool at most. Pass allow_move: true to move it into this one.' },
    );
  }
  const notMembers = remove.filter((v) => guests.get(v)?.pool !== poolid);
  if (notMembers.length) {
    throw new DomainError('CONFLICT', `Guest(s) ${list(notMembers)} not in pool '${poolid}'`, {
      hint: 'list_pools shows the members of each pool.',
    });
  }
  return moves;
}

/** Storages to add must exist (storage.cfg) and not be members yet; storages to remove must be members. */
function checkStorages(
  poolid: string,
  members: readonly string[],
  add: readonly string[],
  remove: readonly string[],
  config: ReadonlyArray<{ storage: string }>,
): void {
  const known = new Set(config.map((s) => s.storage));
  const missing = add.filter((s) => !known.has(s));
  if (missing.length) {
    throw new DomainError('NOT_FOUND', `No storage ${list(missing)}`, {
      hint: `Storages: ${list([...known].sort()) || 'none'}.`,
    });
  }
  const already = add.filter((s) => members.includes(s));
  if (already.length) {
    throw new DomainError('CONFLICT', `Storage(s) ${list(already)} already in pool '${poolid}'`);
  }
  const notMembers = remove.filter((s) => !members.includes(s));
  if (notMembers.length) {
    throw new DomainError('CONFLICT', `Storage(s) ${list(notMembers)} not in pool '${poolid}'`, {
      hint: 'list_pools shows the members of each pool.',
    });
  }
}
