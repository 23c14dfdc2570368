import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import type { JobDto } from '../../jobs/dto/job.dto.js';
import { JobsService } from '../../jobs/jobs.service.js';
import type { PveParams, ProxmoxClient } from '../../proxmox/proxmox-client.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { assertBridgeExists } from '../guests/bridge-check.js';
import { tagList } from '../guests/dto/guest-formats.js';
import { asCtNotFound, asUnknownNode, upstreamSays } from '../guests/guest-state.js';
import { pickGuestStorage, type GuestStoragePick, type NodeStorage } from '../guests/storage-picker.js';
import { CT_DEFAULTS, type CreateContainerBodyDto } from './dto/container-create.dto.js';
import { parsePublicKeys } from '../../common/validation/ssh-public-keys.js';
import { assertPoolExists } from '../guests/pool-check.js';
import { asIdTakenMeanwhile, VmidAllocator } from '../guests/vmid-allocator.js';
import { assertGateway, assertIpv6 } from './ct-net.js';

/** How many template names a "template not found" error lists. */
const TEMPLATES_LISTED = 10;

/**
 * create_container: every check the reference skipped happens before anything is sent, each with an error that
 * says what to use instead: the vmid is free among VMs *and* containers (or the next free one), the template
 * exists on its storage as seen from the node, the root disk's storage can hold containers there and has room,
 * and the bridge exists on the node. `password` and `ssh_public_keys` are sent to Proxmox but listed as secrets:
 * the job keeps no retry recipe for the create and nothing logs them.
 */
@Injectable()
export class ContainerCreateService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly jobs: JobsService,
    private readonly vmids: VmidAllocator,
  ) {}

  async create(node: string, dto: CreateContainerBodyDto, target?: string): Promise<JobDto> {
    const client = this.gateway.client(target);
    const sshKeys =
      dto.ssh_public_keys === undefined ? undefined : parsePublicKeys(dto.ssh_public_keys, 'ssh_public_keys');
    if (dto.gw !== undefined && dto.gateway !== undefined && dto.gw !== dto.gateway) {
      throw new DomainError('VALIDATION', 'gw and gateway are the same setting; pass one of them');
    }
    const gateway = dto.gw ?? dto.gateway;
    if (gateway && (dto.ip === undefined || dto.ip === 'dhcp' || dto.ip === 'manual')) {
      throw new DomainError('VALIDATION', 'gateway needs a static ip (e.g. ip: 10.0.0.5/24)');
    }
    assertIpv6('ip6', dto.ip6);
    assertIpv6('gw6', dto.gw6);
    assertGateway('gw6', dto.gw6, dto.ip6, 'ip6');
    if (dto.pool !== undefined) await assertPoolExists(client, dto.pool);
    const vmid = await this.vmids.allocate(dto.vmid, 'vmid', target, {
      subject: 'ID',
      hint: 'Leave vmid out to get the next free ID, or pick another (get_next_vmid).',
    });
    const diskSize = dto.disk_size ?? CT_DEFAULTS.diskSize;
    const [pick] = await Promise.all([
      this.rootdirStorage(client, node, diskSize, dto.storage),
      this.assertTemplateExists(client, node, dto.ostemplate),
      assertBridgeExists(client, node, dto.network_bridge ?? CT_DEFAULTS.bridge),
    ]);

    const hostname = dto.hostname ?? `ct-${vmid}`;
    const unprivileged = dto.unprivileged ?? true;
    const nesting = dto.nesting ?? false;
    const ip = dto.ip ?? CT_DEFAULTS.ip;
    const net0 = [
      'name=eth0',
      `bridge=${dto.network_bridge ?? CT_DEFAULTS.bridge}`,
      `ip=${ip}`,
      ...(gateway ? [`gw=${gateway}`] : []),
      ...(dto.ip6 !== undefined ? [`ip6=${dto.ip6}`] : []),
      ...(dto.gw6 ? [`gw6=${dto.gw6}`] : []),
      ...(dto.vlan_tag !== undefined ? [`tag=${dto.vlan_tag}`] : []),
    ].join(',');
    const params: PveParams = {
      vmid,
      ostemplate: dto.ostemplate,
      hostname,
      cores: dto.cores ?? CT_DEFAULTS.cores,
      memory: dto.memory ?? CT_DEFAULTS.memory,
      swap: dto.swap ?? CT_DEFAULTS.swap,
      rootfs: `${pick.row.storage}:${diskSize}`,
      net0,
      // explicit either way, so PVE's defaults never decide the isolation of a new container
      unprivileged,
      features: nesting ? 'nesting=1' : undefined,
      onboot: dto.onboot ?? false,
      start: dto.start_after_create ?? false,
      description: dto.description,
      tags: tagList(dto.tags),
      password: dto.password,
      'ssh-public-keys': sshKeys?.join('\n'),
      pool: dto.pool,
    };
    try {
      const job = await this.jobs.track(
        {
          toolName: 'create_container',
          summary: `Create CT ${vmid} (${hostname}) on ${node}`,
          target,
          node,
          request: { method: 'POST', path: pvePath`/nodes/${node}/lxc`, params },
          secretParams: ['password', 'ssh-public-keys'],
          metadata: {
            vmid,
            hostname,
            node,
            ostemplate: dto.ostemplate,
            storage: pick.row.storage,
            storage_type: pick.row.type,
            disk_format: pick.formatLabel,
            snapshots: pick.snapshots ?? null,
            storage_reason: pick.reason,
            disk_gib: diskSize,
            unprivileged,
            nesting,
            network: net0,
            ...(dto.pool ? { pool: dto.pool } : {}),
            password_set: dto.password !== undefined,
            ssh_keys: sshKeys?.length ?? 0,
          },
          recipeKind: 'ct.create',
          expectedTask: { type: 'vzcreate', id: String(vmid) },
        },
        { wait: dto.wait, timeoutSeconds: dto.wait_timeout_seconds },
      );
      return job;
    } catch (error) {
      if (upstreamSays(error, /SSH public key validation error/)) {
        throw new DomainError('VALIDATION', 'Proxmox refused ssh_public_keys as invalid');
      }
      throw asCtNotFound(
        asIdTakenMeanwhile(error, vmid, {
          subject: 'ID',
          nothing: 'nothing was created',
          tool: 'create_container',
          field: 'vmid',
        }),
        node,
        vmid,
      );
    }
  }

  private async rootdirStorage(
    client: ProxmoxClient,
    node: string,
    sizeGiB: number,
    wanted?: string,
  ): Promise<GuestStoragePick> {
    let rows: NodeStorage[];
    try {
      rows = (await client.get<NodeStorage[]>(pvePath`/nodes/${node}/storage`, { content: 'rootdir' })) ?? [];
    } catch (error) {
      throw asUnknownNode(error, node);
    }
    return pickGuestStorage(rows, node, 'lxc', {
      wanted,
      minBytes: sizeGiB * 1024 ** 3,
      sizeLabel: `a ${sizeGiB} GiB disk`,
    });
  }

  /** A template that is not there lets the create start and fail in its task; say so before. */
  private async assertTemplateExists(client: ProxmoxClient, node: string, volid: string): Promise<void> {
    const storage = volid.slice(0, volid.indexOf(':'));
    let volumes: Array<{ volid?: string }>;
    try {
      volumes =
        (await client.get(pvePath`/nodes/${node}/storage/${storage}/content`, { content: 'vztmpl' })) ?? [];
    } catch (error) {
      if (upstreamSays(error, /does not exist/)) {
        throw new DomainError('NOT_FOUND', `ostemplate: storage '${storage}' does not exist`, {
          hint: 'list_templates shows the templates and the storages they are on.',
        });
      }
      throw asUnknownNode(error, node);
    }
    if (volumes.some((v) => v.volid === volid)) return;
    const available = volumes.map((v) => String(v.volid)).slice(0, TEMPLATES_LISTED);
    throw new DomainError(
      'NOT_FOUND',
      `ostemplate: ${volid} is not on storage '${storage}' as seen from node ${node}`,
      {
        hint: available.length
          ? `Templates on ${storage}: ${available.join(', ')}${volumes.length > TEMPLATES_LISTED ? ', …' : ''} (list_templates shows all).`
          : `Storage ${storage} holds no container templates; list_templates shows where they are (pveam downloads them).`,
      },
    );
  }
}
