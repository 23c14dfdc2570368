import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { EmptyBodyDto } from '../common/dto/empty.dto.js';
import { NodeParamDto } from '../common/dto/target.dto.js';
import { McpTool } from '../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../common/tools/toolsets.js';
import { SEE_NODES } from '../common/tools/pve-privileges.js';
import { JobEventsDto, TaskListDto, TaskLogDto } from './dto/job-events.dto.js';
import {
  GetJobQueryDto,
  JobIdParamDto,
  ListJobsQueryDto,
  ListTasksQueryDto,
  PageQueryDto,
  ReconcileJobBodyDto,
  TaskLogQueryDto,
  TaskParamDto,
  WaitJobBodyDto,
} from './dto/job-query.dto.js';
import { JobDto, JobListDto } from './dto/job.dto.js';
import { jobEventsText, jobListTexts, taskListText, taskLogText } from './jobs.text.js';
import { jobJsonText, jobText } from './job.mapper.js';
import { JobsService } from './jobs.service.js';
import { TasksService } from './tasks.service.js';

@ApiTags('jobs')
@McpToolset('jobs')
@Controller()
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly tasks: TasksService,
  ) {}

  @Get('jobs')
  @McpTool({
    name: 'list_jobs',
    title: 'List jobs',
    description:
      'Jobs this server tracks (one per mutating tool call), newest first. Filter by status, tool_name or target; page with limit/offset.',
    risk: 'read',
    privileges: [],
    output: JobListDto,
    text: jobListTexts,
    // GET /jobs answers a JSON array as the reference did, so scripts iterating the body keep working
    restList: 'jobs',
  })
  listJobs(@Query() q: ListJobsQueryDto): Promise<JobListDto> {
    return this.jobs.list({ ...q, toolName: q.tool_name, limit: q.limit ?? 100, offset: q.offset ?? 0 });
  }

  @Get('jobs/:job_id')
  @McpTool({
    name: 'get_job',
    title: 'Get job',
    description:
      'One job: status, progress, Proxmox task id, error, attempts. refresh=true asks Proxmox first.',
    risk: 'read',
    privileges: [],
    output: JobDto,
    text: jobJsonText,
  })
  getJob(@Param() p: JobIdParamDto, @Query() q: GetJobQueryDto): Promise<JobDto> {
    return q.refresh ? this.jobs.poll(p.job_id) : this.jobs.get(p.job_id);
  }

  @Post('jobs/:job_id/poll')
  @HttpCode(200)
  @McpTool({
    name: 'poll_job',
    title: 'Poll job',
    description: "Ask Proxmox for the job's task status and whole log now, and return the updated job.",
    risk: 'read',
    privileges: [],
    output: JobDto,
    text: jobJsonText,
  })
  pollJob(@Param() p: JobIdParamDto, @Body() _b: EmptyBodyDto): Promise<JobDto> {
    return this.jobs.poll(p.job_id);
  }

  @Post('jobs/:job_id/wait')
  @HttpCode(200)
  @McpTool({
    name: 'wait_job',
    title: 'Wait for job',
    description:
      'Wait until the job ends or timeout_seconds pass (default 120). Streams progress notifications when the MCP client sends a progressToken.',
    risk: 'read',
    privileges: [],
    output: JobDto,
    text: jobText,
  })
  waitJob(@Param() p: JobIdParamDto, @Body() b: WaitJobBodyDto): Promise<JobDto> {
    return this.jobs.waitFor(p.job_id, b.timeout_seconds);
  }

  @Post('jobs/:job_id/cancel')
  @HttpCode(202)
  @McpTool({
    name: 'cancel_job',
    title: 'Cancel job',
    description:
      "Stop the job's running Proxmox task (DELETE on the task). The job ends 'cancelled' once Proxmox stopped it.",
    risk: 'mutate',
    // the token may always stop the tasks it started itself
    privileges: [],
    output: JobDto,
    text: jobJsonText,
  })
  cancelJob(@Param() p: JobIdParamDto, @Body() _b: EmptyBodyDto): Promise<JobDto> {
    return this.jobs.cancel(p.job_id);
  }

  @Post('jobs/:job_id/retry')
  @HttpCode(202)
  @McpTool({
    name: 'retry_job',
    title: 'Retry job',
    description:
      'Send a failed or cancelled job again (the same Proxmox request) as a new attempt with a new task id; the history is kept.',
    risk: 'mutate',
    // repeats the original call: needs what the original tool needs
    privileges: [],
    output: JobDto,
    text: jobJsonText,
  })
  retryJob(@Param() p: JobIdParamDto, @Body() _b: EmptyBodyDto): Promise<JobDto> {
    return this.jobs.retry(p.job_id);
  }

  @Post('jobs/:job_id/reconcile')
  @HttpCode(200)
  @McpTool({
    name: 'reconcile_job',
    title: 'Reconcile job',
    description:
      "Resolve a job whose submission is uncertain (status 'unknown' after an interrupted request, or 'pending'/'retrying' left by a server that stopped mid-request): " +
      "adopt the task it started from the node's task list (or the upid you name, after checking it), or mark it failed when no such task exists. Never re-sends anything.",
    risk: 'mutate',
    // reads the task list of the job's node (its own tasks are always visible to the token)
    privileges: [],
    scope: 'admin',
    output: JobDto,
    text: jobText,
  })
  reconcileJob(@Param() p: JobIdParamDto, @Body() b: ReconcileJobBodyDto): Promise<JobDto> {
    return this.jobs.reconcile(p.job_id, b.upid);
  }

  @Get('jobs/:job_id/events')
  @McpTool({
    name: 'get_job_events',
    title: 'Job history',
    description:
      "A job's audit history (created, submitted, polled, cancel, retry …), oldest first, paginated.",
    risk: 'read',
    privileges: [],
    output: JobEventsDto,
    text: jobEventsText,
  })
  getJobEvents(@Param() p: JobIdParamDto, @Query() q: PageQueryDto): Promise<JobEventsDto> {
    return this.jobs.events(p.job_id, q.limit ?? 100, q.offset ?? 0);
  }

  @Get('nodes/:node/tasks')
  @McpTool({
    name: 'list_tasks',
    title: 'List Proxmox tasks',
    description: "A node's Proxmox tasks (finished by default; source=active for running), newest first.",
    risk: 'read',
    // other users' tasks need Sys.Audit on the node
    privileges: [SEE_NODES],
    output: TaskListDto,
    text: taskListText,
  })
  listTasks(@Param() p: NodeParamDto, @Query() q: ListTasksQueryDto): Promise<TaskListDto> {
    return this.tasks.list(p.node, q);
  }

  @Get('nodes/:node/tasks/:upid/log')
  @McpTool({
    name: 'get_task_log',
    title: 'Proxmox task log',
    description: "Lines of a Proxmox task's log (paged with start/limit; total tells the length).",
    risk: 'read',
    privileges: [SEE_NODES],
    output: TaskLogDto,
    text: taskLogText,
  })
  getTaskLog(@Param() p: TaskParamDto, @Query() q: TaskLogQueryDto): Promise<TaskLogDto> {
    return this.tasks.log(p.node, p.upid, q);
  }
}
