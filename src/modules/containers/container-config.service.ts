import { Injectable } from '@nestjs/common';
import type { GuestNotesResultDto, SetDescriptionBodyDto } from '../guests/dto/guest-notes.dto.js';
import { DomainError, isDomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';
import { GuestNotesService } from '../guests/guest-notes.service.js';
import { JobsService } from '../../jobs/jobs.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { assertBridgeExists } from '../guests/bridge-check.js';
import { assertPoolExists } from '../guests/pool-check.js';
import { asIdTakenMeanwhile, VmidAllocator } from '../guests/vmid-allocator.js';
import { asCtNotFound, upstreamSays } from '../guests/guest-state.js';
import { assertGateway, assertIpv6, formatCtNet, isStaticIp, parseCtNet } from './ct-net.js';
import type {
  CloneContainerBodyDto,
  CloneContainerResultDto,
  ContainerNetworkResultDto,
  UpdateContainerNetworkBodyDto,
} from './dto/container-config.dto.js';

const NETWORK_FIELDS = ['network_bridge', 'ip', 'gw', 'ip6', 'gw6'] as const;

/** set_container_description, update_container_network and clone_container (the reference's 0.6 additions). */
@Injectable()
export class ContainerConfigService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly jobs: JobsService,
    private readonly notes: GuestNotesService,
    private readonly vmids: VmidAllocator,
  ) {}

  setDescription(
    node: string,
    vmid: number,
    dto: SetDescriptionBodyDto,
    target?: string,
  ): Promise<GuestNotesResultDto> {
    return this.notes.set('lxc', node, vmid, dto, target);
  }

  /**
   * Changes bridge and addresses of an existing netN and keeps everything else on it (MAC, VLAN tag, firewall,
   * rate, MTU). Every check happens before the one PUT: the device exists, the bridge exists on the node, a
   * gateway has a static address of its family. Going to dhcp/auto/manual drops that family's gateway.
   */
  async updateNetwork(
    node: string,
    vmid: number,
    dto: UpdateContainerNetworkBodyDto,
    target?: string,
  ): Promise<ContainerNetworkResultDto> {
    const iface = dto.interface ?? 'net0';
    if (!NETWORK_FIELDS.some((f) => dto[f] !== undefined)) {
      throw new DomainError(
        'VALIDATION',
        `Nothing to change: pass at least one of ${NETWORK_FIELDS.join(', ')} (for ${iface})`,
      );
    }
    assertIpv6('ip6', dto.ip6);
    assertIpv6('gw6', dto.gw6);
    const client = this.gateway.client(target);
    const path = pvePath`/nodes/${node}/lxc/${vmid}/config`;
    let config: Record<string, string | number>;
    try {
      config = (await client.get<Record<string, string | number>>(path)) ?? {};
    } catch (error) {
      throw asCtNotFound(error, node, vmid);
    }
    const current = config[iface];
    if (current === undefined) {
      const existing = Object.keys(config)
        .filter((k) => /^net\d+$/.test(k))
        .sort((a, b) => num(a.slice(3)) - num(b.slice(3)));
      throw new DomainError(
        'NOT_FOUND',
        `interface: container ${vmid} on node ${node} has no ${iface}${
          existing.length
            ? `; its network devices are ${existing.join(', ')}`
            : ' and no network device at all'
        }`,
        {
          hint: 'update_container_network changes an existing device; adding one is not offered (get_container_config shows them).',
        },
      );
    }
    const pairs = parseCtNet(String(current));
    const ip = dto.ip ?? pairs.get('ip');
    const ip6 = dto.ip6 ?? pairs.get('ip6');
    // a gateway given now, or the one already there when the address stays static
    const gw = dto.gw ?? (isStaticIp(ip) ? pairs.get('gw') : undefined);
    const gw6 = dto.gw6 ?? (isStaticIp(ip6) ? pairs.get('gw6') : undefined);
    assertGateway('gw', dto.gw, ip, 'ip');
    assertGateway('gw6', dto.gw6, ip6, 'ip6');
    if (dto.network_bridge !== undefined) await assertBridgeExists(client, node, dto.network_bridge);

    const set = (key: string, value: string | undefined) => {
      if (value === undefined || value === '') pairs.delete(key);
      else pairs.set(key, value);
    };
    if (dto.network_bridge !== undefined) pairs.set('bridge', dto.network_bridge);
    if (dto.ip !== undefined || dto.gw !== undefined) {
      set('ip', ip);
      set('gw', gw);
    }
    if (dto.ip6 !== undefined || dto.gw6 !== undefined) {
      set('ip6', ip6);
      set('gw6', gw6);
    }
    const network = formatCtNet(pairs);
    const digest = dto.digest ?? String(config.digest ?? '');
    try {
      await client.put<null>(path, { [iface]: network, ...(digest ? { digest } : {}) });
    } catch (error) {
      if (upstreamSays(error, /checksum mis+match|detected modified configuration/)) {
        throw new DomainError(
          'CONFLICT',
          `The configuration of container ${vmid} on node ${node} changed since it was read (a concurrent edit); ${iface} was not changed`,
          { hint: 'Read it again with get_container_config and retry (with its digest).' },
        );
      }
      if (upstreamSays(error, /is locked/)) {
        throw new DomainError('CONFLICT', `Container ${vmid} on node ${node} is locked by a running task`, {
          hint: 'Wait until that task finished (list_tasks), then try again.',
        });
      }
      throw asCtNotFound(error, node, vmid);
    }
    const status = await client
      .get<{ status?: string }>(pvePath`/nodes/${node}/lxc/${vmid}/status/current`)
      .catch(() => undefined);
    return {
      target: this.gateway.targetConfig(target).name,
      node,
      vmid,
      interface: iface,
      previous: String(current),
      network,
      running: status?.status === 'running',
      digest_checked: digest,
    };
  }

  /**
   * Clones a container (POST …/lxc/{vmid}/clone, a `vzclone` task tracked as a job). Checked first: the source
   * exists (and is a template for a linked clone, or stopped / cloned from a snapshot for a full one), the new ID
   * is free, the pool exists.
   */
  async clone(
    node: string,
    sourceVmid: number,
    dto: CloneContainerBodyDto,
    target?: string,
  ): Promise<CloneContainerResultDto> {
    const client = this.gateway.client(target);
    let config: Record<string, string | number>;
    let status: { status?: string };
    try {
      [config, status] = await Promise.all([
        client.get<Record<string, string | number>>(pvePath`/nodes/${node}/lxc/${sourceVmid}/config`),
        client.get<{ status?: string }>(pvePath`/nodes/${node}/lxc/${sourceVmid}/status/current`),
      ]);
    } catch (error) {
      throw asCtNotFound(error, node, sourceVmid);
    }
    const template = num(config?.template) === 1;
    const full = dto.full ?? !template;
    if (!full && !template) {
      throw new DomainError(
        'VALIDATION',
        `full: false (a linked clone) needs a container template; container ${sourceVmid} is not one`,
        { hint: 'Leave full out (or true) for a full copy, or clone from a template.' },
      );
    }
    if (dto.storage && !full) {
      throw new DomainError('VALIDATION', 'storage is only allowed for full clones (full: true)', {
        hint: 'Leave out storage for a linked clone: it stays on the storage of the template it links to.',
      });
    }
    if (full && status?.status === 'running' && !dto.snapname) {
      throw new DomainError(
        'CONFLICT',
        `Container ${sourceVmid} on node ${node} is running; Proxmox copies a running container only from a snapshot`,
        { hint: 'Pass snapname (create_snapshot makes one), or stop the container first.' },
      );
    }
    if (dto.pool !== undefined) await assertPoolExists(client, dto.pool);
    const newid = await this.vmids.allocate(dto.target_vmid, 'target_vmid', target);
    const targetNode = dto.target_node && dto.target_node !== node ? dto.target_node : undefined;
    try {
      const job = await this.jobs.track(
        {
          toolName: 'clone_container',
          summary: `Clone CT ${sourceVmid} to ${newid}${targetNode ? ` on ${targetNode}` : ''} (${full ? 'full' : 'linked'})`,
          target,
          node,
          request: {
            method: 'POST',
            path: pvePath`/nodes/${node}/lxc/${sourceVmid}/clone`,
            params: {
              newid,
              full,
              hostname: dto.hostname,
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
            ...(dto.hostname ? { hostname: dto.hostname } : {}),
            ...(dto.pool ? { pool: dto.pool } : {}),
            ...(dto.snapname ? { snapname: dto.snapname } : {}),
          },
          recipeKind: 'ct.clone',
          // PVE names the clone task after the source container
          expectedTask: { type: 'vzclone', id: String(sourceVmid) },
        },
        { wait: dto.wait, timeoutSeconds: dto.wait_timeout_seconds },
      );
      return { ...job, vmid: newid };
    } catch (error) {
      const taken = asIdTakenMeanwhile(error, newid, {
        subject: 'ID',
        nothing: 'nothing was cloned',
        tool: 'clone_container',
        field: 'target_vmid',
      });
      if (taken !== error) throw taken;
      if (upstreamSays(error, /no such cluster node/)) {
        throw new DomainError(
          'NOT_FOUND',
          `target_node: '${String(targetNode)}' is not a node of the cluster`,
          {
            hint: 'get_nodes lists the nodes.',
          },
        );
      }
      if (upstreamSays(error, /local storage/)) {
        throw new DomainError(
          'VALIDATION',
          `target_node: container ${sourceVmid} cannot be cloned to ${String(targetNode)}, its volumes would stay on storage local to ${node}`,
          {
            hint: 'Clone to the same node (then migrate), or make a full clone onto a shared storage (storage: a shared one).',
            details: { proxmox: isDomainError(error) ? error.message : undefined },
          },
        );
      }
      throw asCtNotFound(error, node, sourceVmid);
    }
  }
}
