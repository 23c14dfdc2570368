import { Body, Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { on, SEE_GUESTS, SEE_NODES } from '../../common/tools/pve-privileges.js';
import { JobDto } from '../../jobs/dto/job.dto.js';
import { jobText } from '../../jobs/job.mapper.js';
import { MigrateContainerBodyDto, MigrateVmBodyDto } from './dto/migration.dto.js';
import { MigrationService } from './migration.service.js';

const MIGRATE = on('/vms', 'VM.Migrate');
const REFUSES =
  ' Refused before anything is sent when PVE would refuse or the target cannot take it: a locked guest, an ' +
  'HA-managed one (use migrate_ha_resource), an offline or unknown target, storages the target lacks (set ' +
  'target_storage), not enough free memory there.';
const RETURNS =
  ' Returns the job (wait=true waits for the Proxmox task); it ends with the guest on the target node.';

/** Moving a guest to another node: one Proxmox task (qmigrate / vzmigrate), returned as a job. */
@ApiTags('migration')
@McpToolset('vms')
@Controller()
export class MigrationController {
  constructor(private readonly migration: MigrationService) {}

  @Post('nodes/:node/vms/:vmid/migrate')
  @HttpCode(202)
  @McpTool({
    name: 'migrate_vm',
    title: 'Migrate VM to another node',
    description:
      'Move a VM to another node of the cluster: live (online) when it runs, its local disks copied along ' +
      '(to target_storage when given). Passed-through host devices and a local ISO in the CD drive block it.' +
      REFUSES +
      RETURNS,
    risk: 'mutate',
    privileges: [SEE_GUESTS, SEE_NODES, MIGRATE],
    output: JobDto,
    text: jobText,
  })
  migrateVm(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: MigrateVmBodyDto,
  ): Promise<JobDto> {
    return this.migration.migrateVm(p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/containers/:vmid/migrate')
  @HttpCode(202)
  @McpToolset('containers')
  @McpTool({
    name: 'migrate_container',
    title: 'Migrate container to another node',
    description:
      'Move a container to another node of the cluster with its local volumes. A running container moves in ' +
      'restart mode: shut down (stopped after shutdown_timeout_seconds), copied, started on the target.' +
      REFUSES +
      RETURNS,
    risk: 'mutate',
    privileges: [SEE_GUESTS, SEE_NODES, MIGRATE],
    output: JobDto,
    text: jobText,
  })
  migrateContainer(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: MigrateContainerBodyDto,
  ): Promise<JobDto> {
    return this.migration.migrateContainer(p.node, p.vmid, b, q.target);
  }
}
