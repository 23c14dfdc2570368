import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { HealthService } from '../../health/health.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type { PveClusterStatusItem, PveNodeStatus } from '../../proxmox/pve-types.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import { toClusterStatus, toNodeStatus, toNodeSummary, toOfflineNodeStatus } from './cluster.mapper.js';
import type { ClusterStatusDto, NodeListDto, NodeStatusDto, TargetListDto } from './dto/cluster.dto.js';

@Injectable()
export class ClusterService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly resources: InventoryService,
    private readonly health: HealthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async getNodes(target?: string): Promise<NodeListDto> {
    const snap = await this.resources.clusterResources('node', target);
    return {
      target: snap.target,
      nodes: snap.items.map(toNodeSummary).sort((a, b) => a.node.localeCompare(b.node)),
      partial: snap.unavailableNodes.length > 0,
      unavailable_nodes: snap.unavailableNodes,
    };
  }

  /** The node's own status; if it does not answer, the cluster's last view of it, flagged partial. */
  async getNodeStatus(node: string, target?: string): Promise<NodeStatusDto> {
    const targetName = this.gateway.targetConfig(target).name;
    try {
      const status = await this.gateway.client(target).get<PveNodeStatus>(pvePath`/nodes/${node}/status`);
      return toNodeStatus(targetName, node, status);
    } catch (error) {
      const snap = await this.resources.clusterResources('node', target);
      const known = snap.items.find((n) => n.node === node);
      if (!known) {
        throw new DomainError('NOT_FOUND', `Node '${node}' is not part of target '${targetName}'`, {
          hint: `Known nodes: ${snap.items.map((n) => n.node).join(', ') || 'none'}`,
        });
      }
      if (error instanceof DomainError && /^UPSTREAM_(UNAVAILABLE|ERROR)$|^TIMEOUT$/.test(error.code)) {
        return toOfflineNodeStatus(
          targetName,
          known,
          `Node did not answer (${error.message}); cluster view shown`,
        );
      }
      throw error;
    }
  }

  async getClusterStatus(target?: string): Promise<ClusterStatusDto> {
    const items = await this.gateway.client(target).get<PveClusterStatusItem[]>('/cluster/status');
    return toClusterStatus(this.gateway.targetConfig(target).name, items);
  }

  async listTargets(): Promise<TargetListDto> {
    const probes = await this.health.probeAll();
    return {
      targets: this.config.targets.map((t, i) => ({
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        host: t.host,
        port: t.port,
        user: `${t.user}!${t.tokenName}`,
        read_only: t.readOnly,
        tls_verified: t.verifySsl,
        reachable: probes[i].reachable,
        ...(probes[i].pve_version ? { pve_version: probes[i].pve_version } : {}),
        ...(probes[i].error ? { error: `${probes[i].error.code}: ${probes[i].error.message}` } : {}),
      })),
      ...(this.config.targets.length === 1 ? { default_target: this.config.targets[0].name } : {}),
    };
  }
}
