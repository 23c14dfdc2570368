import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { TargetQueryDto } from '../../common/dto/target.dto.js';
import { WaitOptionsDto } from '../../jobs/dto/job.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { on, SEE_GUESTS, SEE_NODES, SEE_STORAGE, USE_STORAGE } from '../../common/tools/pve-privileges.js';
import { BackupJobsService } from './backup-jobs.service.js';
import {
  backupJobChangeText,
  backupJobDeletedText,
  backupJobRunText,
  backupJobsText,
  unprotectedText,
} from './backup-jobs.text.js';
import {
  BackupJobChangeDto,
  BackupJobDeletedDto,
  BackupJobIdParamDto,
  BackupJobListDto,
  BackupJobRunDto,
  CreateBackupJobBodyDto,
  UnprotectedGuestsDto,
  UpdateBackupJobBodyDto,
} from './dto/backup-jobs.dto.js';
import { McpToolset } from '../../common/tools/toolsets.js';

/** /cluster/backup and /cluster/backup-info: Sys.Audit on / to read, Sys.Modify on / to change (pve-manager's API). */
const SEE_JOBS = on('/', 'Sys.Audit');
const CHANGE_JOBS = on('/', 'Sys.Modify');

@ApiTags('backup-jobs')
@McpToolset('backups')
@Controller()
export class BackupJobsController {
  constructor(private readonly backupJobs: BackupJobsService) {}

  @Get('backups/jobs')
  @McpTool({
    name: 'list_backup_jobs',
    title: 'List backup jobs',
    description:
      "The cluster's scheduled backup jobs (vzdump): schedule with the next runs, what they back up (vmids, all but exclude, or a pool), storage, mode, compression, retention, notes template, enabled.",
    risk: 'read',
    privileges: [SEE_JOBS, SEE_NODES],
    output: BackupJobListDto,
    text: backupJobsText,
  })
  listBackupJobs(@Query() q: TargetQueryDto): Promise<BackupJobListDto> {
    return this.backupJobs.list(q.target);
  }

  @Post('backups/jobs')
  @McpTool({
    name: 'create_backup_job',
    title: 'Schedule a backup job',
    description:
      "Schedule backups: a calendar-event schedule (daily, 'sun 01:00', 'mon..fri 02:30', '*-*-1 03:00', '*/15'), a backup storage, and one of vmids, all (with exclude) or pool; mode, compress (default zstd), retention, notes template, mail. The schedule, storage (must hold backups) and guests are checked first. Returns the job with its next runs. Synchronous (no job).",
    risk: 'mutate',
    privileges: [SEE_JOBS, CHANGE_JOBS, SEE_GUESTS, SEE_STORAGE, SEE_NODES],
    output: BackupJobChangeDto,
    text: backupJobChangeText,
  })
  createBackupJob(
    @Query() q: TargetQueryDto,
    @Body() b: CreateBackupJobBodyDto,
  ): Promise<BackupJobChangeDto> {
    return this.backupJobs.create(b, q.target);
  }

  @Put('backups/jobs/:id')
  @McpTool({
    name: 'update_backup_job',
    title: 'Change a backup job',
    description:
      'Change a backup job: schedule, storage, what it backs up (vmids, all, pool replace each other), exclude, mode, compress, enabled, retention, notes template, mail, comment; clear removes settings. Checked like create_backup_job. Returns the job with its next runs. Synchronous (no job).',
    risk: 'mutate',
    privileges: [SEE_JOBS, CHANGE_JOBS, SEE_GUESTS, SEE_STORAGE, SEE_NODES],
    output: BackupJobChangeDto,
    text: backupJobChangeText,
  })
  updateBackupJob(
    @Param() p: BackupJobIdParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: UpdateBackupJobBodyDto,
  ): Promise<BackupJobChangeDto> {
    return this.backupJobs.update(p.id, b, q.target);
  }

  @Delete('backups/jobs/:id')
  @McpTool({
    name: 'delete_backup_job',
    title: 'Delete a backup job',
    description:
      'Delete a scheduled backup job: its guests are no longer backed up on schedule (existing backups are kept). Needs an approval by default.',
    risk: 'destroy',
    privileges: [SEE_JOBS, CHANGE_JOBS],
    output: BackupJobDeletedDto,
    text: backupJobDeletedText,
  })
  deleteBackupJob(@Param() p: BackupJobIdParamDto, @Query() q: TargetQueryDto): Promise<BackupJobDeletedDto> {
    return this.backupJobs.delete(p.id, q.target);
  }

  @Post('backups/jobs/:id/run')
  @HttpCode(202)
  @McpTool({
    name: 'run_backup_job',
    title: 'Run a backup job now',
    description:
      "Run a backup job now, as Proxmox's 'Run now' does: the job's settings are sent to vzdump on each online node holding a guest it selects, one job per node. A manual run writes new backups but never prunes old ones. Offline nodes and missing guests are listed as skipped. Returns the jobs.",
    // mutate, not power: it writes archives and briefly locks the guests; only a job in stop/suspend mode pauses
    // them, as its scheduled run would, and nothing is deleted (no pruning)
    risk: 'mutate',
    privileges: [SEE_JOBS, SEE_GUESTS, SEE_NODES, on('/vms', 'VM.Backup'), USE_STORAGE],
    output: BackupJobRunDto,
    text: backupJobRunText,
  })
  runBackupJob(
    @Param() p: BackupJobIdParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: WaitOptionsDto,
  ): Promise<BackupJobRunDto> {
    return this.backupJobs.run(p.id, b, q.target);
  }

  @Get('backups/unprotected-guests')
  @McpTool({
    name: 'get_unprotected_guests',
    title: 'Guests no backup job covers',
    description:
      "Proxmox's not-backed-up report: the VMs and containers no backup job selects, plus those only disabled jobs select (Proxmox counts those as covered), each with its newest backup (volume, age) found on the backup storages, never-backed-up guests first.",
    risk: 'read',
    privileges: [SEE_JOBS, SEE_GUESTS, SEE_STORAGE],
    output: UnprotectedGuestsDto,
    text: unprotectedText,
  })
  getUnprotectedGuests(@Query() q: TargetQueryDto): Promise<UnprotectedGuestsDto> {
    return this.backupJobs.unprotected(q.target);
  }
}
