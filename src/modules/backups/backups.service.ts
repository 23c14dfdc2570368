import { Injectable } from '@nestjs/common';
import { planCheck } from '../../common/plan/plan-mode.js';
import { pickStorage, type NodeStorage, type StorageContent } from '../guests/storage-picker.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';
import type { JobDto } from '../../jobs/dto/job.dto.js';
import { JobsService } from '../../jobs/jobs.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath, volumeSegment } from '../../proxmox/pve-path.js';
import type { PveParams } from '../../proxmox/proxmox-client.js';
import type { PveClusterResource } from '../../proxmox/pve-types.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import {
  createdAt,
  fileNameOf,
  listingMeta,
  StorageContentService,
  type PveContentItem,
} from '../guests/storage-content.service.js';
import type {
  BackupItemDto,
  BackupListDto,
  BackupListQueryDto,
  CreateBackupBodyDto,
  DeleteBackupQueryDto,
  RestoreBackupBodyDto,
} from './dto/backups.dto.js';

type GuestType = 'qemu' | 'lxc';
const LABEL: Record<GuestType, string> = { qemu: 'VM', lxc: 'CT' };
const DEFAULT_LIMIT = 1000;

/** The guest type a backup holds: PVE's `subtype`, else the archive name (vzdump-lxc-…, PBS backup/ct/…). */
export function backupGuestType(item: Pick<PveContentItem, 'volid' | 'subtype'>): GuestType | undefined {
  if (item.subtype === 'qemu' || item.subtype === 'lxc') return item.subtype;
  if (/[:/]vzdump-lxc-|:backup\/ct\//.test(item.volid)) return 'lxc';
  if (/[:/]vzdump-qemu-|:backup\/vm\//.test(item.volid)) return 'qemu';
  return undefined;
}

/** list_backups, create_backup, restore_backup and delete_backup. */
@Injectable()
export class BackupsService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly jobs: JobsService,
    private readonly content: StorageContentService,
    private readonly resources: InventoryService,
  ) {}

  /** Backups newest first, one content call per storage (a shared storage once). */
  async list(q: BackupListQueryDto): Promise<BackupListDto> {
    const vmid = q.vmid;
    const listing = await this.content.list('backup', { node: q.node, storage: q.storage, vmid }, q.target);
    const backups = listing.items
      .filter((item) => vmid === undefined || num(item.vmid) === vmid)
      .map((item): BackupItemDto => {
        const guestType = backupGuestType(item);
        return {
          volid: item.volid,
          name: fileNameOf(item.volid),
          storage: item.storage,
          node: item.node,
          shared: item.shared,
          format: String(item.format ?? ''),
          size_bytes: num(item.size),
          ...(createdAt(item.ctime) ? { created_at: createdAt(item.ctime) } : {}),
          vmid: num(item.vmid),
          ...(guestType ? { guest_type: guestType } : {}),
          ...(item.notes ? { notes: String(item.notes) } : {}),
          protected: isProtected(item),
        };
      })
      .sort(
        (a, b) =>
          (b.created_at ?? '').localeCompare(a.created_at ?? '') ||
          b.volid.localeCompare(a.volid) ||
          a.node.localeCompare(b.node),
      );
    const limit = q.limit ?? DEFAULT_LIMIT;
    const { failed, ...meta } = listingMeta(listing, backups.length, limit);
    return { ...meta, failed, backups: backups.slice(0, limit) };
  }

  /**
   * vzdump of one guest. Checked before anything is sent: the guest exists and is on this node (PVE answers "OK"
   * without doing anything for a guest on another node), no task holds its lock, and the storage takes backups on
   * this node. Older backups are never pruned by this call (`remove: 0`).
   */
  async create(node: string, vmid: number, dto: CreateBackupBodyDto, target?: string): Promise<JobDto> {
    const guest = await this.guest(vmid, target);
    if (!guest) {
      throw new DomainError('NOT_FOUND', `No VM or container ${vmid} in the cluster`, {
        hint: 'get_vms and get_containers list the guests with their nodes.',
      });
    }
    const type = guest.type as GuestType;
    if (guest.node !== node) {
      throw new DomainError(
        'VALIDATION',
        `${LABEL[type]} ${vmid} is on node ${String(guest.node)}, not ${node}`,
        {
          hint: `Call create_backup with node ${String(guest.node)}: Proxmox backs up a guest on the node it runs on.`,
          details: { field: 'node' },
        },
      );
    }
    if (guest.lock) {
      throw new DomainError(
        'CONFLICT',
        `${LABEL[type]} ${vmid} is locked (${String(guest.lock)}) by a running operation`,
        {
          hint: 'Wait until that task (backup, snapshot, migration, …) finished; list_tasks shows it.',
        },
      );
    }
    await this.storageFor(node, dto.storage, 'backup', target);
    const mode = dto.mode ?? 'snapshot';
    const compress = dto.compress ?? 'zstd';
    const params: PveParams = {
      vmid: String(vmid),
      storage: dto.storage,
      mode,
      compress,
      // never delete older backups as a side effect of making a new one
      remove: false,
      'notes-template': dto.notes,
      protected: dto.protected ? true : undefined,
    };
    return this.jobs.track(
      {
        toolName: 'create_backup',
        summary: `Back up ${LABEL[type]} ${vmid}${guest.name ? ` (${String(guest.name)})` : ''} on ${node} to ${dto.storage}`,
        target,
        node,
        request: { method: 'POST', path: pvePath`/nodes/${node}/vzdump`, params },
        metadata: {
          vmid,
          guest_type: type,
          ...(guest.name ? { name: String(guest.name) } : {}),
          storage: dto.storage,
          mode,
          compress,
          protected: dto.protected ?? false,
        },
        recipeKind: 'backup.create',
        expectedTask: { type: 'vzdump', id: String(vmid) },
      },
      { wait: dto.wait, timeoutSeconds: dto.wait_timeout_seconds },
    );
  }

  /**
   * Restores a backup: a VM with POST /nodes/{node}/qemu `archive`, a container with POST /nodes/{node}/lxc
   * `ostemplate=<archive>` + `restore=1` (the reference sent `archive` to the container endpoint, which PVE rejects).
   * The archive must exist on that node. An existing vmid is refused unless `force`; then it must be a guest of the
   * same type on this node, stopped, unlocked and not protected (its disks are replaced).
   */
  async restore(node: string, dto: RestoreBackupBodyDto, target?: string): Promise<JobDto> {
    const vmid = dto.vmid;
    const storageOfArchive = dto.archive.slice(0, dto.archive.indexOf(':'));
    const backups = await this.content.on(node, storageOfArchive, 'backup', target);
    const archive = backups.find((item) => item.volid === dto.archive);
    if (!archive) {
      throw new DomainError('NOT_FOUND', `Backup ${dto.archive} not found on node ${node}`, {
        hint: 'list_backups shows the backups with the nodes that can read them (a backup on local storage is only on its node).',
      });
    }
    planCheck('backup_exists', true, `backup ${dto.archive} is readable on node ${node}`);
    const type = backupGuestType(archive);
    if (!type) {
      throw new DomainError(
        'VALIDATION',
        `Cannot tell whether ${dto.archive} is a VM or a container backup`,
        {
          details: { field: 'archive' },
        },
      );
    }
    const force = dto.force ?? false;
    const existing = await this.guest(vmid, target);
    if (existing) await this.assertOverwritable(existing, node, type, force, target);
    planCheck(
      'vmid',
      true,
      existing ? `vmid ${vmid} exists and may be overwritten (force)` : `vmid ${vmid} is free`,
    );

    const unique = dto.unique ?? true;
    let storage = dto.storage;
    if (type === 'qemu') {
      if (storage) await this.storageFor(node, storage, 'images', target);
    } else {
      // PVE would put the container on `local`, which usually holds no containers: pick like create does
      storage = (await this.storageFor(node, storage, 'rootdir', target)).storage;
    }
    const params: PveParams =
      type === 'qemu'
        ? {
            vmid,
            archive: dto.archive,
            storage,
            unique,
            force: force || undefined,
            start: dto.start || undefined,
          }
        : {
            vmid,
            ostemplate: dto.archive,
            restore: true,
            storage,
            unique,
            force: force || undefined,
            start: dto.start || undefined,
          };
    return this.jobs.track(
      {
        toolName: 'restore_backup',
        summary: `Restore ${LABEL[type]} ${vmid} on ${node} from ${dto.archive}${existing ? ' (overwriting the existing one)' : ''}`,
        target,
        node,
        request: {
          method: 'POST',
          path: type === 'qemu' ? pvePath`/nodes/${node}/qemu` : pvePath`/nodes/${node}/lxc`,
          params,
        },
        metadata: {
          vmid,
          guest_type: type,
          archive: dto.archive,
          ...(storage ? { storage } : {}),
          unique,
          force,
          overwrote_existing: Boolean(existing),
        },
        recipeKind: 'backup.restore',
        expectedTask: { type: type === 'qemu' ? 'qmrestore' : 'vzrestore', id: String(vmid) },
      },
      { wait: dto.wait, timeoutSeconds: dto.wait_timeout_seconds },
    );
  }

  /**
   * Deletes exactly one backup volume. It must be listed as `backup` content of that storage on that node; a
   * protected backup is refused with an error (PVE would accept the request and fail the task).
   */
  async delete(node: string, storage: string, dto: DeleteBackupQueryDto): Promise<JobDto> {
    if (!dto.volid.startsWith(`${storage}:`)) {
      throw new DomainError('VALIDATION', `volid ${dto.volid} is not on storage '${storage}'`, {
        hint: `Pass storage '${dto.volid.slice(0, dto.volid.indexOf(':'))}' with it.`,
        details: { field: 'volid' },
      });
    }
    const backups = await this.content.on(node, storage, 'backup', dto.target);
    const backup = backups.find((item) => item.volid === dto.volid && item.content === 'backup');
    if (!backup) {
      throw new DomainError('NOT_FOUND', `No backup ${dto.volid} on storage ${storage} (node ${node})`, {
        hint: 'list_backups shows the exact volume IDs; only backups are deleted by this tool.',
      });
    }
    planCheck('backup_exists', true, `backup ${dto.volid} on storage ${storage} (node ${node})`);
    if (isProtected(backup)) {
      throw new DomainError('CONFLICT', `Backup ${dto.volid} is protected and cannot be deleted`, {
        hint: 'An operator must remove the protection first (Proxmox: Backups → Change Protection); it was not deleted.',
      });
    }
    const owner = backup.vmid === undefined ? undefined : num(backup.vmid);
    return this.jobs.track(
      {
        toolName: 'delete_backup',
        summary: `Delete backup ${dto.volid} on ${node}`,
        target: dto.target,
        node,
        request: {
          method: 'DELETE',
          path: pvePath`/nodes/${node}/storage/${storage}/content/${volumeSegment(dto.volid)}`,
        },
        metadata: {
          volid: dto.volid,
          storage,
          ...(owner ? { vmid: owner } : {}),
          size_bytes: num(backup.size),
        },
        recipeKind: 'backup.delete',
        expectedTask: { type: 'imgdel', id: owner ? `${owner}@${storage}` : storage },
      },
      { wait: dto.wait, timeoutSeconds: dto.wait_timeout_seconds },
    );
  }

  // ---------------------------------------------------------------------------------------------------------

  private async guest(vmid: number, target?: string): Promise<PveClusterResource | undefined> {
    // for create and restore checks (lock, state, overwrite): never a cached answer
    const snap = await this.resources.clusterResources('vm', target, { fresh: true });
    return snap.items.find((r) => num(r.vmid) === vmid);
  }

  /** force may replace a guest only of the same type, on this node, stopped, unlocked and unprotected. */
  private async assertOverwritable(
    existing: PveClusterResource,
    node: string,
    type: GuestType,
    force: boolean,
    target?: string,
  ): Promise<void> {
    const vmid = num(existing.vmid);
    const label = `${LABEL[existing.type as GuestType] ?? 'Guest'} ${vmid} on node ${String(existing.node)}`;
    if (!force) {
      throw new DomainError('CONFLICT', `${label} already exists; nothing was restored`, {
        hint: 'Restore to a free ID (get_next_vmid), or pass force: true to overwrite it. Overwriting destroys its current disks.',
      });
    }
    if (existing.type !== type) {
      throw new DomainError(
        'CONFLICT',
        `${label} is not a ${type === 'qemu' ? 'VM' : 'container'}; a ${LABEL[type]} backup cannot overwrite it`,
        {
          hint: 'Restore to a free ID instead.',
        },
      );
    }
    if (existing.node !== node) {
      throw new DomainError(
        'CONFLICT',
        `${label} is on another node; force overwrites only a guest on the node restored to`,
        {
          hint: `Restore on node ${String(existing.node)}, or to a free ID.`,
        },
      );
    }
    if (existing.status === 'running') {
      throw new DomainError('CONFLICT', `${label} is running; a running guest is not overwritten`, {
        hint: 'Stop it first, then restore again.',
      });
    }
    if (existing.lock) {
      throw new DomainError(
        'CONFLICT',
        `${label} is locked (${String(existing.lock)}) by a running operation`,
      );
    }
    const config = await this.gateway
      .client(target)
      .get<Record<string, unknown>>(pvePath`/nodes/${node}/${type}/${vmid}/config`);
    if (num(config?.protection) === 1) {
      throw new DomainError(
        'CONFLICT',
        `${label} is protected (protection=1); Proxmox refuses to overwrite it`,
        {
          hint: 'An operator removes the protection flag first, or restore to a free ID.',
        },
      );
    }
  }

  /**
   * The storage for `content` on the node: the caller's (it must hold that content and be usable there), or
   * without a choice the usable one with the most free space.
   */
  private async storageFor(
    node: string,
    wanted: string | undefined,
    content: StorageContent,
    target?: string,
  ): Promise<NodeStorage> {
    const rows =
      (await this.gateway.client(target).get<NodeStorage[]>(pvePath`/nodes/${node}/storage`)) ?? [];
    return pickStorage(rows, node, content, { wanted });
  }
}

function isProtected(item: PveContentItem): boolean {
  const p = item.protected;
  return p === true || num(p) === 1;
}
