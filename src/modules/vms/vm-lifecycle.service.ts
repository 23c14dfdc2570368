import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';
import type { JobDto } from '../../jobs/dto/job.dto.js';
import { JobsService } from '../../jobs/jobs.service.js';
import type { PveParams, ProxmoxClient } from '../../proxmox/proxmox-client.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { encodeSshKeys, tagList } from '../guests/dto/guest-formats.js';
import type {
  CloneVmBodyDto,
  CreateVmBodyDto,
  DeleteVmQueryDto,
  UpdateVmConfigBodyDto,
  UpdateVmConfigResultDto,
} from './dto/vm-lifecycle.dto.js';
import { pickGuestStorage, type GuestStoragePick, type NodeStorage } from '../guests/storage-picker.js';
import { rethrowVmNotFound, upstreamSays, VmStateReader } from '../guests/guest-state.js';
import { assertPoolExists } from '../guests/pool-check.js';
import { asIdTakenMeanwhile, VmidAllocator } from '../guests/vmid-allocator.js';
import { assertBootDevicesExist, bootDevices, installerIso, VmDevicesService } from './vm-devices.js';

const DEFAULTS = { cpus: 1, memory: 2048, diskSize: 32, ostype: 'l26', bridge: 'vmbr0' } as const;

/** The cloud-init keys, in the order PVE documents them; any of them makes create_vm add a cloud-init drive. */
const CLOUD_INIT_KEYS = [
  'ciuser',
  'cipassword',
  'sshkeys',
  'ipconfig0',
  'nameserver',
  'searchdomain',
] as const;

/** create_vm, clone_vm, update_vm_config and delete_vm. */
@Injectable()
export class VmLifecycleService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly jobs: JobsService,
    private readonly state: VmStateReader,
    private readonly devices: VmDevicesService,
    private readonly vmids: VmidAllocator,
  ) {}

  /**
   * Creates a VM that can boot: a virtio NIC, a system disk on a storage this node can use, the guest agent on,
   * and optionally an installer ISO (booted after the empty disk) and a cloud-init drive with user, keys and IP.
   */
  async create(node: string, dto: CreateVmBodyDto, target?: string): Promise<JobDto> {
    const client = this.gateway.client(target);
    const vmid = await this.vmids.allocate(dto.vmid, 'vmid', target);
    const pick = await this.imageStorage(client, node, dto.storage);
    const storage = pick.row;
    const cloudInit = CLOUD_INIT_KEYS.some((key) => dto[key] !== undefined);
    const { iso, drive: cdrom } = installerIso(dto, cloudInit);
    // an ISO that is not there would let the create succeed and the first start fail
    if (iso) await this.devices.assertIsoExists(client, node, iso, 'iso');
    if (dto.pool !== undefined) await assertPoolExists(client, dto.pool);

    const devices = ['scsi0', 'net0', ...(iso ? [cdrom] : []), ...(cloudInit ? ['ide0'] : [])];
    const boot = dto.boot_order
      ? assertBootDevicesExist(bootDevices(dto.boot_order), devices, 'the new VM')
      : undefined;
    const diskSize = dto.disk_size ?? DEFAULTS.diskSize;
    const params: PveParams = {
      vmid,
      name: dto.name,
      cores: dto.cpus ?? DEFAULTS.cpus,
      memory: String(dto.memory ?? DEFAULTS.memory),
      ostype: dto.ostype ?? DEFAULTS.ostype,
      // PVE's current defaults for new VMs: one SCSI controller per disk, with an IO thread
      scsihw: 'virtio-scsi-single',
      // qcow2 on file storages (PVE's API default there is raw, which cannot take snapshots)
      scsi0: `${storage.storage}:${diskSize},${pick.format ? `format=${pick.format},` : ''}iothread=1`,
      net0: `virtio,bridge=${dto.network_bridge ?? DEFAULTS.bridge}`,
      agent: '1',
      // the empty disk first, so an installed system boots from it; until then the ISO boots
      boot: boot ?? (iso ? `order=scsi0;${cdrom};net0` : 'order=scsi0;net0'),
      ...(iso ? { [cdrom]: `${iso},media=cdrom` } : {}),
      ide0: cloudInit ? `${storage.storage}:cloudinit` : undefined,
      ...this.cloudInitParams(dto),
      start: dto.start,
      pool: dto.pool,
    };
    try {
      return await this.jobs.track(
        {
          toolName: 'create_vm',
          summary: `Create VM ${vmid} (${dto.name}) on ${node}`,
          target,
          node,
          request: { method: 'POST', path: pvePath`/nodes/${node}/qemu`, params },
          secretParams: ['cipassword'],
          metadata: {
            vmid,
            name: dto.name,
            node,
            storage: storage.storage,
            storage_type: storage.type,
            disk_format: pick.formatLabel,
            snapshots: pick.snapshots ?? null,
            storage_reason: pick.reason,
            disk_gib: diskSize,
            ...(iso ? { iso } : {}),
            cloud_init: cloudInit,
            ...(dto.pool ? { pool: dto.pool } : {}),
          },
          recipeKind: 'vm.create',
          expectedTask: { type: 'qmcreate', id: String(vmid) },
        },
        { wait: dto.wait, timeoutSeconds: dto.wait_timeout_seconds },
      );
    } catch (error) {
      throw asIdTakenMeanwhile(error, vmid, {
        subject: 'VM ID',
        nothing: 'nothing was created',
        tool: 'create_vm',
        field: 'vmid',
      });
    }
  }

  async clone(node: string, sourceVmid: number, dto: CloneVmBodyDto, target?: string): Promise<JobDto> {
    const full = dto.full ?? true;
    if (dto.storage && !full) {
      // PVE: "parameter 'storage' not allowed for linked clones" (a linked clone lives beside its template)
      throw new DomainError('VALIDATION', 'storage is only allowed for full clones (full: true)', {
        hint: 'Leave out storage for a linked clone: it stays on the storage of the template it links to.',
      });
    }
    const client = this.gateway.client(target);
    if (dto.pool !== undefined) await assertPoolExists(client, dto.pool);
    const newid = await this.vmids.allocate(dto.target_vmid, 'target_vmid', target);
    const targetNode = dto.target_node && dto.target_node !== node ? dto.target_node : undefined;
    try {
      return await this.jobs.track(
        {
          toolName: 'clone_vm',
          summary: `Clone VM ${sourceVmid} to ${newid}${targetNode ? ` on ${targetNode}` : ''} (${full ? 'full' : 'linked'})`,
          target,
          node,
          request: {
            method: 'POST',
            path: pvePath`/nodes/${node}/qemu/${sourceVmid}/clone`,
            params: {
              newid,
              full,
              name: dto.name,
              target: targetNode,
              storage: dto.storage,
              pool: dto.pool,
              snapname: dto.snapname,
              description: dto.description,
            },
          },
          metadata: {
            source_vmid: sourceVmid,
            target_vmid: newid,
            target_node: targetNode ?? node,
            full,
            ...(dto.name ? { name: dto.name } : {}),
            ...(dto.snapname ? { snapname: dto.snapname } : {}),
          },
          recipeKind: 'vm.clone',
          // PVE names the clone task after the source VM
          expectedTask: { type: 'qmclone', id: String(sourceVmid) },
        },
        { wait: dto.wait, timeoutSeconds: dto.wait_timeout_seconds },
      );
    } catch (error) {
      rethrowVmNotFound(
        asIdTakenMeanwhile(error, newid, {
          subject: 'ID',
          nothing: 'nothing was cloned',
          tool: 'clone_vm',
          field: 'target_vmid',
        }),
        node,
        sourceVmid,
      );
    }
  }

  /**
   * PUT /config is synchronous in PVE (it returns null, never a task), so this is not a job: the answer says what
   * was set. The config digest goes with the change: from the caller, or read just before, so an edit made by
   * someone else in between is refused by PVE ("detected modified configuration") instead of overwritten.
   */
  async updateConfig(
    node: string,
    vmid: number,
    dto: UpdateVmConfigBodyDto,
    target?: string,
  ): Promise<UpdateVmConfigResultDto> {
    const changes: PveParams = {
      memory: dto.memory === undefined ? undefined : String(dto.memory),
      cores: dto.cores,
      sockets: dto.sockets,
      name: dto.name,
      ...this.cloudInitParams(dto),
      ...(VmDevicesService.wanted(dto) ? await this.devices.params(node, vmid, dto, target) : {}),
    };
    const updated = Object.keys(changes).filter((key) => changes[key] !== undefined);
    if (!updated.length) {
      throw new DomainError(
        'VALIDATION',
        'Nothing to change: pass at least one of memory, cores, sockets, name, tags, description, ciuser, cipassword, sshkeys, ipconfig0, nameserver, searchdomain, iso_volume, boot_order, network_bridge',
      );
    }
    const digest = dto.digest ?? (await this.state.config(node, vmid, target)).digest;
    const client = this.gateway.client(target);
    try {
      await client.put<null>(pvePath`/nodes/${node}/qemu/${vmid}/config`, { ...changes, digest });
    } catch (error) {
      if (upstreamSays(error, /checksum mis+match|detected modified configuration/)) {
        throw new DomainError(
          'CONFLICT',
          `The configuration of VM ${vmid} on node ${node} changed since digest ${digest.slice(0, 12)}… was read (a concurrent edit); nothing was changed`,
          {
            hint: 'Read the config again with get_vm_config, check the other change, and retry with the new digest.',
            details: { digest },
          },
        );
      }
      rethrowVmNotFound(error, node, vmid);
    }
    const pending = await this.pendingKeys(client, node, vmid, updated);
    return {
      target: this.gateway.targetConfig(target).name,
      node,
      vmid,
      updated,
      ...(pending ? { pending } : {}),
      digest_checked: digest,
    };
  }

  /**
   * Deletes a VM. Refused before anything is sent when PVE's `protection` flag is set, when a task holds the config
   * lock, and when the VM runs without `force`. With `force` the VM is hard-stopped first and the delete is sent
   * only once that stop task finished OK (the reference sent both at once and lost the race, its bug #6).
   */
  async delete(node: string, vmid: number, dto: DeleteVmQueryDto): Promise<JobDto> {
    const target = dto.target;
    const { config } = await this.state.config(node, vmid, target);
    const name = config.name === undefined ? undefined : String(config.name);
    const label = this.state.label(node, vmid, name);
    if (num(config.protection) === 1) {
      throw new DomainError(
        'CONFLICT',
        `${label} is protected (protection=1); Proxmox refuses to delete it`,
        {
          hint: 'If it really should go, an operator removes the protection flag in Proxmox (Options → Protection), then delete_vm again.',
        },
      );
    }
    if (config.lock !== undefined) {
      throw new DomainError(
        'CONFLICT',
        `${label} is locked (${String(config.lock)}) by a running operation`,
        {
          hint: 'Wait until that task (backup, snapshot, migration, …) finished; list_tasks shows it.',
        },
      );
    }
    const status = await this.state.status(node, vmid, target);
    let stopJobId: string | undefined;
    if (status.status === 'running') {
      if (!dto.force) {
        throw new DomainError('CONFLICT', `${label} is running; a running VM is not deleted`, {
          hint: 'Stop it first (shutdown_vm or stop_vm), or call delete_vm with force: true to hard-stop it and delete it once stopped.',
        });
      }
      const stop = await this.jobs.track(
        {
          toolName: 'stop_vm',
          summary: `Stop VM ${vmid} on ${node} before deleting it`,
          target,
          node,
          request: { method: 'POST', path: pvePath`/nodes/${node}/qemu/${vmid}/status/stop` },
          metadata: { vmid, reason: 'delete_vm force' },
          recipeKind: 'vm.stop',
          expectedTask: { type: 'qmstop', id: String(vmid) },
        },
        { wait: true, timeoutSeconds: dto.wait_timeout_seconds },
      );
      if (stop.status !== 'completed') {
        throw new DomainError(
          'CONFLICT',
          `The stop before deleting ${label} did not complete (job ${stop.job_id}: ${stop.status}${
            stop.last_error ? `, ${stop.last_error}` : ''
          }); the VM was not deleted`,
          {
            hint: stop.wait_timed_out
              ? 'The stop is still running; follow it with wait_job, then call delete_vm again.'
              : 'Look at the stop job (get_job) and the VM, then call delete_vm again.',
            details: { stop_job_id: stop.job_id, stop_status: stop.status },
          },
        );
      }
      stopJobId = stop.job_id;
    }
    try {
      return await this.jobs.track(
        {
          toolName: 'delete_vm',
          summary: `Delete VM ${vmid}${name ? ` (${name})` : ''} on ${node}`,
          target,
          node,
          request: {
            method: 'DELETE',
            path: pvePath`/nodes/${node}/qemu/${vmid}`,
            // explicit either way, so PVE's defaults can never decide what gets purged or destroyed
            params: {
              purge: dto.purge ?? false,
              'destroy-unreferenced-disks': dto.destroy_unreferenced_disks ?? false,
            },
          },
          metadata: {
            vmid,
            ...(name ? { name } : {}),
            purge: dto.purge ?? false,
            destroy_unreferenced_disks: dto.destroy_unreferenced_disks ?? false,
            ...(stopJobId ? { stop_job_id: stopJobId } : {}),
          },
          recipeKind: 'vm.delete',
          expectedTask: { type: 'qmdestroy', id: String(vmid) },
        },
        { wait: dto.wait, timeoutSeconds: dto.wait_timeout_seconds },
      );
    } catch (error) {
      if (upstreamSays(error, /protection mode enabled/)) {
        throw new DomainError(
          'CONFLICT',
          `${label} is protected (protection=1); Proxmox refused to delete it`,
        );
      }
      if (upstreamSays(error, /is running - destroy failed/)) {
        throw new DomainError(
          'CONFLICT',
          `${label} was started again before the delete; it was not deleted`,
          {
            hint: 'Call delete_vm again (with force: true to stop it first).',
          },
        );
      }
      rethrowVmNotFound(error, node, vmid);
    }
  }

  // ---------------------------------------------------------------------------------------------------------

  /** Cloud-init and descriptive settings as PVE expects them (`sshkeys` URL-encoded, tags `;`-joined). */
  private cloudInitParams(dto: CreateVmBodyDto | UpdateVmConfigBodyDto): PveParams {
    return {
      ciuser: dto.ciuser,
      cipassword: dto.cipassword,
      sshkeys: encodeSshKeys(dto.sshkeys),
      ipconfig0: dto.ipconfig0,
      nameserver: dto.nameserver,
      searchdomain: dto.searchdomain,
      tags: tagList(dto.tags),
      description: dto.description,
    };
  }

  private async imageStorage(
    client: ProxmoxClient,
    node: string,
    wanted?: string,
  ): Promise<GuestStoragePick> {
    const rows = await client.get<NodeStorage[]>(pvePath`/nodes/${node}/storage`, { content: 'images' });
    return pickGuestStorage(rows ?? [], node, 'qemu', { wanted });
  }

  /**
   * Which of the keys just set wait in [PENDING] for the next start. The change is already made, so a failure to
   * read this must not turn the answer into an error: then `pending` is left out (unknown), never a false [].
   */
  private async pendingKeys(
    client: ProxmoxClient,
    node: string,
    vmid: number,
    keys: string[],
  ): Promise<string[] | undefined> {
    try {
      const items = await client.get<Array<{ key: string; pending?: unknown; delete?: unknown }>>(
        pvePath`/nodes/${node}/qemu/${vmid}/pending`,
      );
      const waiting = new Set(
        (items ?? []).filter((i) => i.pending !== undefined || num(i.delete) > 0).map((i) => i.key),
      );
      return keys.filter((k) => waiting.has(k));
    } catch {
      return undefined;
    }
  }
}
