import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { JobDto } from '../../jobs/dto/job.dto.js';
import { jobText } from '../../jobs/job.mapper.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { on, anyOn, SEE_GUESTS } from '../../common/tools/pve-privileges.js';
import {
  CreateSnapshotBodyDto,
  DeleteSnapshotQueryDto,
  RollbackSnapshotBodyDto,
  SnapshotListDto,
  SnapshotParamDto,
  VmTypeQueryDto,
} from './dto/snapshots.dto.js';
import { SnapshotsService } from './snapshots.service.js';
import { snapshotListText } from './snapshots.text.js';

/** Snapshots of a guest: `vm_type` (qemu, the default, or lxc) says whether it is a VM or a container. */
@ApiTags('snapshots')
@McpToolset('snapshots')
@Controller()
export class SnapshotsController {
  constructor(private readonly snapshots: SnapshotsService) {}

  @Get('nodes/:node/guests/:vmid/snapshots')
  @McpTool({
    name: 'list_snapshots',
    title: 'List snapshots',
    description:
      'Snapshots of a VM (vm_type qemu, default) or container (lxc), oldest first, with parent/children and whether RAM is included.',
    risk: 'read',
    privileges: [SEE_GUESTS],
    output: SnapshotListDto,
    text: snapshotListText,
  })
  listSnapshots(@Param() p: GuestParamDto, @Query() q: VmTypeQueryDto): Promise<SnapshotListDto> {
    return this.snapshots.list(p.node, p.vmid, q.vm_type ?? 'qemu', q.target);
  }

  @Post('nodes/:node/guests/:vmid/snapshots')
  @HttpCode(202)
  @McpTool({
    name: 'create_snapshot',
    title: 'Create snapshot',
    description:
      'Take a snapshot of a VM or container (vm_type). vmstate=true also saves the RAM of a running VM (qemu only). Returns the job.',
    risk: 'mutate',
    privileges: [SEE_GUESTS, on('/vms', 'VM.Snapshot')],
    output: JobDto,
    text: jobText,
  })
  createSnapshot(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: CreateSnapshotBodyDto,
  ): Promise<JobDto> {
    return this.snapshots.create(p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/guests/:vmid/snapshots/:snapname/rollback')
  @HttpCode(202)
  @McpTool({
    name: 'rollback_snapshot',
    title: 'Roll back to snapshot',
    description:
      'Return a VM or container to a snapshot; everything since is lost (a running guest is stopped first). Newer snapshots are kept ' +
      'where the storage allows it (ZFS only rolls back to the newest one; Proxmox then fails the job). Returns the job.',
    risk: 'destroy',
    privileges: [SEE_GUESTS, anyOn('/vms', 'VM.Snapshot', 'VM.Snapshot.Rollback')],
    output: JobDto,
    text: jobText,
  })
  rollbackSnapshot(
    @Param() p: SnapshotParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: RollbackSnapshotBodyDto,
  ): Promise<JobDto> {
    return this.snapshots.rollback(p.node, p.vmid, p.snapname, b, q.target);
  }

  @Delete('nodes/:node/guests/:vmid/snapshots/:snapname')
  @HttpCode(202)
  @McpTool({
    name: 'delete_snapshot',
    title: 'Delete snapshot',
    description:
      'Delete a snapshot of a VM or container (its children move up to its parent). Returns the job.',
    risk: 'destroy',
    privileges: [SEE_GUESTS, on('/vms', 'VM.Snapshot')],
    output: JobDto,
    text: jobText,
  })
  deleteSnapshot(@Param() p: SnapshotParamDto, @Query() q: DeleteSnapshotQueryDto): Promise<JobDto> {
    return this.snapshots.remove(p.node, p.vmid, p.snapname, q);
  }
}
