import { Injectable } from '@nestjs/common';
import { ProxmoxGateway } from '../proxmox/proxmox.gateway.js';
import { pvePath } from '../proxmox/pve-path.js';
import { parseUpid } from '../proxmox/upid.js';
import type { TaskListDto, TaskLogDto, TaskSummaryDto } from './dto/job-events.dto.js';
import type { ListTasksQueryDto, TaskLogQueryDto } from './dto/job-query.dto.js';

interface PveTaskEntry {
  upid: string;
  node: string;
  type: string;
  id?: string;
  user: string;
  tokenid?: string;
  starttime: number;
  endtime?: number;
  status?: string;
}

const iso = (epoch?: number) => (epoch === undefined ? null : new Date(epoch * 1000).toISOString());

/** Raw PVE tasks (list_tasks, get_task_log): what the node shows, whether or not a job tracks it. */
@Injectable()
export class TasksService {
  constructor(private readonly gateway: ProxmoxGateway) {}

  async list(node: string, q: ListTasksQueryDto): Promise<TaskListDto> {
    const target = this.gateway.targetConfig(q.target);
    const limit = q.limit ?? 50;
    const { data, total } = await this.gateway
      .client(target.name)
      .getWithTotal<PveTaskEntry[]>(pvePath`/nodes/${node}/tasks`, {
        source: q.source,
        vmid: q.vmid,
        typefilter: q.typefilter,
        errors: q.errors,
        since: q.since,
        start: q.start,
        limit,
      });
    const count = total ?? data.length;
    return {
      target: target.name,
      node,
      tasks: data.map(toTaskSummary),
      total: count,
      truncated: (q.start ?? 0) + data.length < count,
    };
  }

  async log(node: string, upid: string, q: TaskLogQueryDto): Promise<TaskLogDto> {
    const start = q.start ?? 0;
    const { data, total } = await this.gateway
      .client(q.target)
      .getWithTotal<Array<{ n: number; t: string }>>(pvePath`/nodes/${node}/tasks/${upid}/log`, {
        start,
        limit: q.limit ?? 500,
      });
    const count = total ?? start + data.length;
    return {
      upid,
      node,
      lines: data.map((l) => l.t),
      start,
      total: count,
      truncated: start + data.length < count,
    };
  }
}

function toTaskSummary(t: PveTaskEntry): TaskSummaryDto {
  const running = t.status === undefined;
  return {
    upid: t.upid,
    node: t.node,
    type: t.type,
    id: t.id ?? parseUpid(t.upid)?.id ?? '',
    user: t.tokenid ? `${t.user}!${t.tokenid}` : t.user,
    starttime: iso(t.starttime)!,
    endtime: iso(t.endtime),
    status: running ? 'running' : 'stopped',
    exitstatus: t.status ?? null,
  };
}
