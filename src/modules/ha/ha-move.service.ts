import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import type { JobDto } from '../../jobs/dto/job.dto.js';
import type { JobEntity } from '../../jobs/job.entity.js';
import { JobWatchers, type WatchVerdict } from '../../jobs/job-watchers.js';
import { JobsService } from '../../jobs/jobs.service.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type { HaMoveBodyDto } from './dto/ha-move.dto.js';
import { sidVmid, type PveHaResource, type PveHaRule, type PveHaStatusEntry } from './ha.mapper.js';

/** The watcher kind of HA migrate/relocate jobs (job-watchers.ts). */
export const HA_MOVE_WATCH = 'ha_move';
/** The CRM acts on a queued command within a round or two (10 s each); this long without any sign, it did not. */
const NO_ACTION_MS = 5 * 60_000;

export type HaMoveKind = 'migrate' | 'relocate';

/** The answer of POST /cluster/ha/resources/{sid}/migrate|relocate (PVE 9). */
interface PveHaMoveReply {
  sid?: string;
  'requested-node'?: string;
  'blocking-resources'?: Array<{ sid: string; cause?: string }>;
  'comigrated-resources'?: string[];
}

/** What a move job's metadata holds (the watcher reads it back). */
interface HaMoveMetadata {
  sid: string;
  vmid: number;
  from_node: string;
  to_node: string;
  mode: HaMoveKind;
}

/** A task-list entry: `status` appears once the task has stopped. */
interface TaskListEntry {
  upid: string;
  status?: string;
}

const list = (text: string | undefined): string[] => (text ?? '').split(/[,;\s]+/).filter(Boolean);
const truthy = (v: unknown): boolean => v === true || v === 1 || v === '1';
/** The CRM state of a service as /cluster/ha/status/current gives it. */
const stateOf = (e: PveHaStatusEntry): string => e.crm_state ?? e.state ?? e.status ?? 'unknown';
/** States the CRM rests in; any other (migrate, relocate, request_stop, fence, recovery, …) is a transition. */
const SETTLED = new Set(['started', 'stopped']);

/**
 * Moving an HA-managed guest through the HA manager (pve-ha-manager): `migrate` (online for a running VM) and
 * `relocate` (stop, move, start). PVE's API only queues the command for the CRM and answers at once, without a
 * task: the job is a watched one (job-watchers.ts) that follows the service in the HA status until it is settled on
 * the target node, and fails when the source node's LRM migration task fails, the service errs or leaves HA, or the
 * CRM never acts. Every precondition the HA manager would refuse or ignore is checked before anything is sent.
 */
@Injectable()
export class HaMoveService implements OnModuleInit {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly inventory: InventoryService,
    private readonly jobs: JobsService,
    private readonly watchers: JobWatchers,
  ) {}

  onModuleInit(): void {
    this.watchers.register(HA_MOVE_WATCH, (job, signal) => this.watch(job, signal));
  }

  async move(kind: HaMoveKind, vmid: number, dto: HaMoveBodyDto, target?: string): Promise<JobDto> {
    const toolName = `${kind}_ha_resource`;
    const { config, client } = this.gateway.resolve(target);
    const [rows, entries, rules, inventory] = await Promise.all([
      client.get<PveHaResource[] | null>('/cluster/ha/resources'),
      client.get<PveHaStatusEntry[] | null>('/cluster/ha/status/current'),
      client.get<PveHaRule[] | null>('/cluster/ha/rules'),
      this.inventory.clusterResources('vm', target, { fresh: true }),
    ]);
    const row = (rows ?? []).find((r) => sidVmid(r.sid) === vmid);
    if (!row) {
      throw new DomainError('NOT_FOUND', `Guest ${vmid} is not HA-managed`, {
        hint: 'migrate_vm and migrate_container move guests outside HA; add_ha_resource puts a guest under HA.',
        details: { field: 'vmid' },
      });
    }
    const { sid } = row;
    const requested = row.state ?? 'started';
    if (requested === 'ignored' || requested === 'disabled') {
      throw new DomainError(
        'CONFLICT',
        `${sid} has requested state ${requested}: the HA manager does not move it`,
        {
          hint:
            requested === 'ignored'
              ? 'HA leaves an ignored guest alone: move it with migrate_vm or migrate_container.'
              : 'update_ha_resource with state started (or stopped) first, or migrate it outside HA.',
          details: { state: requested },
        },
      );
    }
    const service = (entries ?? []).find((e) => e.type === 'service' && e.sid === sid);
    const guest = inventory.items.find((g) => Number(g.vmid) === vmid);
    const from = guest?.node ?? service?.node;
    if (!guest || !from) {
      throw new DomainError('NOT_FOUND', `${sid} is HA-managed but its guest ${vmid} does not exist`, {
        hint: 'remove_ha_resource drops the stale HA resource.',
      });
    }
    const state = service ? stateOf(service) : (guest.hastate ?? 'unknown');
    if (state === 'error') {
      throw new DomainError('CONFLICT', `${sid} is in HA state error: the HA manager moves it no more`, {
        hint: 'Set its state to disabled (update_ha_resource), fix the cause, then to started again.',
        details: { ha_state: state },
      });
    }
    if (!SETTLED.has(state)) {
      throw new DomainError(
        'CONFLICT',
        `${sid} is in HA state ${state}: wait until it is started or stopped`,
        {
          hint: 'get_ha_status shows when the HA manager is done with it.',
          details: { ha_state: state },
        },
      );
    }
    const to = dto.target_node;
    const nodes = await this.inventory.clusterResources('node', target);
    const node = nodes.items.find((n) => n.node === to);
    if (!node) {
      throw new DomainError('NOT_FOUND', `Node '${to}' is not part of the cluster`, {
        hint: `Nodes: ${nodes.items.map((n) => n.node).join(', ')} (get_nodes shows their state).`,
        details: { field: 'target_node' },
      });
    }
    if (node.status !== 'online') {
      throw new DomainError('CONFLICT', `Target node ${to} is ${node.status ?? 'not online'}`, {
        hint: 'Choose an online node (get_nodes shows their state).',
        details: { target_node: to, status: node.status },
      });
    }
    if (from === to) {
      throw new DomainError('CONFLICT', `${sid} is already on node ${to}`, {
        hint: 'Choose another node as target_node.',
        details: { field: 'target_node', node: from },
      });
    }
    this.assertRulesAllow(sid, to, rules ?? [], inventory.items, rows ?? []);
    const label = `${sid}${guest.name ? ` (${String(guest.name)})` : ''}`;
    const how = kind === 'migrate' ? 'Migrate' : 'Relocate';
    return this.jobs.track(
      {
        toolName,
        summary: `${how} ${label} from ${from} to ${to} through the HA manager`,
        target: config.name,
        node: from,
        request: {
          method: 'POST',
          path: pvePath`/cluster/ha/resources/${sid}/${kind}`,
          params: { node: to },
        },
        metadata: { sid, vmid, from_node: from, to_node: to, mode: kind } satisfies HaMoveMetadata,
        watch: HA_MOVE_WATCH,
      },
      { wait: dto.wait, timeoutSeconds: dto.wait_timeout_seconds },
    );
  }

  /**
   * What the HA manager would refuse or ignore: a resource kept apart from this one (negative resource affinity)
   * already on the target, or a strict node-affinity rule that does not list the target.
   */
  private assertRulesAllow(
    sid: string,
    to: string,
    rules: readonly PveHaRule[],
    guests: ReadonlyArray<{ vmid?: unknown; node?: string }>,
    rows: readonly PveHaResource[],
  ): void {
    const nodeOf = (other: string) => guests.find((g) => Number(g.vmid) === sidVmid(other))?.node;
    for (const rule of rules) {
      if (truthy(rule.disable) || !list(rule.resources).includes(sid)) continue;
      if (rule.type === 'resource-affinity' && rule.affinity === 'negative') {
        const blocking = list(rule.resources).filter(
          (o) => o !== sid && rows.some((r) => r.sid === o) && nodeOf(o) === to,
        );
        if (blocking.length) {
          throw new DomainError(
            'CONFLICT',
            `HA rule ${rule.rule} keeps ${sid} apart from ${blocking.join(', ')}, which ${blocking.length > 1 ? 'are' : 'is'} on node ${to}`,
            {
              hint: 'Choose another node, or change the rule (update_ha_rule, disabled true).',
              details: { rule: rule.rule, 'blocking-resources': blocking },
            },
          );
        }
      }
      if (rule.type === 'node-affinity' && truthy(rule.strict)) {
        const allowed = list(rule.nodes).map((n) => n.split(':')[0]);
        if (!allowed.includes(to)) {
          throw new DomainError(
            'CONFLICT',
            `HA rule ${rule.rule} allows ${sid} only on ${allowed.join(', ')}, not on ${to}`,
            {
              hint: 'Choose one of those nodes, or change the rule (update_ha_rule).',
              details: { rule: rule.rule, nodes: allowed },
            },
          );
        }
      }
    }
  }

  /** The job's verdict from the HA status and, on the source node, the LRM's migration task. */
  private async watch(job: Readonly<JobEntity>, signal?: AbortSignal): Promise<WatchVerdict> {
    const m = job.metadata as unknown as HaMoveMetadata;
    const reply = (job.result?.data ?? {}) as PveHaMoveReply;
    const blocking = reply['blocking-resources'] ?? [];
    if (blocking.length) {
      return {
        status: 'failed',
        progress: null,
        error: `The HA manager refused to ${m.mode} ${m.sid} to ${m.to_node}: blocked by ${blocking.map((b) => `${b.sid} (${b.cause ?? 'resource-affinity'})`).join(', ')}`,
      };
    }
    const comigrated = reply['comigrated-resources'] ?? [];
    const client = this.gateway.client(job.target);
    const entries =
      (await client.get<PveHaStatusEntry[] | null>('/cluster/ha/status/current', undefined, { signal })) ??
      [];
    const service = entries.find((e) => e.type === 'service' && e.sid === m.sid);
    if (!service) {
      return {
        status: 'failed',
        progress: null,
        error: `${m.sid} is no longer HA-managed; it was not moved`,
      };
    }
    const state = stateOf(service);
    const settledOn = {
      node: service.node ?? null,
      ha_state: state,
      ...(comigrated.length ? { comigrated } : {}),
    };
    if (service.node === m.to_node && SETTLED.has(state)) {
      return { status: 'completed', progress: 100, result: settledOn };
    }
    if (state === 'error') {
      return {
        status: 'failed',
        progress: null,
        error: `${m.sid} went into HA state error`,
        result: settledOn,
      };
    }
    // the LRM runs the move as a task of its own on the source node
    // (the source node may be down: then the HA status alone tells, e.g. fence and recovery elsewhere)
    const tasks = await client
      .get<TaskListEntry[] | null>(
        pvePath`/nodes/${m.from_node}/tasks`,
        {
          source: 'all',
          vmid: m.vmid,
          typefilter: m.sid.startsWith('ct:') ? 'vzmigrate' : 'qmigrate',
          since: Math.floor(job.createdAt / 1000) - 2,
          limit: 5,
        },
        { signal },
      )
      .then((rows) => rows ?? [])
      .catch((): TaskListEntry[] => []);
    const task = tasks[0];
    if (task?.status !== undefined && task.status !== 'OK' && !task.status.startsWith('WARNINGS')) {
      return {
        status: 'failed',
        progress: null,
        error: `The HA manager's ${m.mode} task ${task.upid} failed: ${task.status}`,
        result: { ...settledOn, task: task.upid },
      };
    }
    // settled elsewhere with no migration task running, long after the request: the CRM ignored or undid it
    const idle = !task || task.status !== undefined;
    if (idle && SETTLED.has(state) && Date.now() - job.createdAt > NO_ACTION_MS) {
      return {
        status: 'failed',
        progress: null,
        error: `${m.sid} is still ${state} on ${service.node ?? 'its node'} ${NO_ACTION_MS / 60_000} minutes after the ${m.mode} request; get_ha_status and the node's task list show why`,
        result: settledOn,
      };
    }
    return { status: 'running', progress: task ? (task.status === undefined ? 50 : 90) : 10 };
  }
}
