import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { NodeParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { JobDto } from '../../jobs/dto/job.dto.js';
import { jobText } from '../../jobs/job.mapper.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { on, anyOn, SEE_GUESTS, SEE_STORAGE, USE_STORAGE } from '../../common/tools/pve-privileges.js';
import { BackupsService } from './backups.service.js';
import { backupListText } from './backups.text.js';
import {
  BackupGuestParamDto,
  BackupListDto,
  BackupListQueryDto,
  BackupStorageParamDto,
  CreateBackupBodyDto,
  DeleteBackupQueryDto,
  RestoreBackupBodyDto,
} from './dto/backups.dto.js';

@ApiTags('backups')
@McpToolset('backups')
@Controller()
export class BackupsController {
  constructor(private readonly backups: BackupsService) {}

  @Get('backups')
  @McpTool({
    name: 'list_backups',
    title: 'List backups',
    description:
      'Backups (vzdump archives) newest first, with volume ID, guest, size, notes and protection. A shared storage is read once. ' +
      'Filter by node, storage or vmid.',
    risk: 'read',
    privileges: [SEE_STORAGE],
    output: BackupListDto,
    text: backupListText,
  })
  listBackups(@Query() q: BackupListQueryDto): Promise<BackupListDto> {
    return this.backups.list(q);
  }

  @Post('nodes/:node/guests/:vmid/backups')
  @HttpCode(202)
  @McpTool({
    name: 'create_backup',
    title: 'Back up a guest',
    description:
      'Back up a VM or container (vzdump) to a backup storage: mode snapshot|suspend|stop, compress zstd|gzip|lzo|0, optional notes ' +
      'and protection. Older backups are not pruned. Returns the job.',
    risk: 'mutate',
    privileges: [SEE_GUESTS, on('/vms', 'VM.Backup'), USE_STORAGE],
    output: JobDto,
    text: jobText,
  })
  createBackup(
    @Param() p: BackupGuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: CreateBackupBodyDto,
  ): Promise<JobDto> {
    return this.backups.create(p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/backups/restore')
  @HttpCode(202)
  @McpTool({
    name: 'restore_backup',
    title: 'Restore a backup',
    description:
      'Recreate a VM or container from a backup (the type comes from the backup) under vmid on this node: new MAC addresses by default, ' +
      'disks on storage if given. An existing vmid is refused unless force=true, which overwrites that stopped guest and its disks. Returns the job.',
    risk: 'destroy',
    // restoring over an existing guest needs VM.Backup, into a new vmid VM.Allocate
    privileges: [SEE_STORAGE, anyOn('/vms', 'VM.Backup', 'VM.Allocate'), USE_STORAGE],
    output: JobDto,
    text: jobText,
  })
  restoreBackup(
    @Param() p: NodeParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: RestoreBackupBodyDto,
  ): Promise<JobDto> {
    return this.backups.restore(p.node, b, q.target);
  }

  @Delete('nodes/:node/storage/:storage/backups')
  @HttpCode(202)
  @McpTool({
    name: 'delete_backup',
    title: 'Delete a backup',
    description:
      'Delete one backup, named by its exact volume ID. Only backup volumes are deleted; a protected backup is refused. Returns the job.',
    risk: 'destroy',
    // Datastore.Allocate, or AllocateSpace for backups of guests the token may back up
    privileges: [SEE_STORAGE, anyOn('/storage', 'Datastore.Allocate', 'Datastore.AllocateSpace')],
    output: JobDto,
    text: jobText,
  })
  deleteBackup(@Param() p: BackupStorageParamDto, @Query() q: DeleteBackupQueryDto): Promise<JobDto> {
    return this.backups.delete(p.node, p.storage, q);
  }
}
