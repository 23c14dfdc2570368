import { Body, Controller, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { on, SEE_GUESTS, USE_STORAGE } from '../../common/tools/pve-privileges.js';
import { JobDto } from '../../jobs/dto/job.dto.js';
import { jobText } from '../../jobs/job.mapper.js';
import {
  MoveContainerVolumeBodyDto,
  MoveVmDiskBodyDto,
  ResizeContainerDiskBodyDto,
  ResizeVmDiskBodyDto,
} from './dto/disks.dto.js';
import { GuestDisksService } from './guest-disks.service.js';

const RETURNS = ' Returns the job (wait=true waits for the Proxmox task).';
const CONFIG_DISK = on('/vms', 'VM.Config.Disk');

/** Growing and moving the disks of VMs and the volumes of containers: each one Proxmox task, returned as a job. */
@ApiTags('disks')
@McpToolset('vms')
@Controller()
export class GuestDisksController {
  constructor(private readonly disks: GuestDisksService) {}

  @Put('nodes/:node/vms/:vmid/disks/resize')
  @HttpCode(202)
  @McpTool({
    name: 'resize_vm_disk',
    title: 'Grow VM disk',
    description:
      'Grow a disk of a VM (running or stopped) to a new size (`40G`) or by an amount (`+8G`). Disks never shrink: ' +
      'a smaller size is refused with VALIDATION. The guest OS must still grow its partition and filesystem.' +
      RETURNS,
    risk: 'mutate',
    privileges: [SEE_GUESTS, CONFIG_DISK],
    output: JobDto,
    text: jobText,
  })
  resizeVmDisk(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: ResizeVmDiskBodyDto,
  ): Promise<JobDto> {
    return this.disks.resizeVmDisk(p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/vms/:vmid/disks/move')
  @HttpCode(202)
  @McpTool({
    name: 'move_vm_disk',
    title: 'Move VM disk to another storage',
    description:
      'Copy a disk of a VM to another storage of its node (also while the VM runs) and use the copy. The source ' +
      'stays as an unusedN disk unless delete=true. The storage must be active on the node and hold VM images.' +
      RETURNS,
    risk: 'mutate',
    privileges: [SEE_GUESTS, CONFIG_DISK, USE_STORAGE],
    output: JobDto,
    text: jobText,
  })
  moveVmDisk(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: MoveVmDiskBodyDto,
  ): Promise<JobDto> {
    return this.disks.moveVmDisk(p.node, p.vmid, b, q.target);
  }

  @Put('nodes/:node/containers/:vmid/disks/resize')
  @HttpCode(202)
  @McpToolset('containers')
  @McpTool({
    name: 'resize_container_disk',
    title: 'Grow container disk',
    description:
      'Grow the rootfs or a mount point (mpN) of a container to a new size (`20G`) or by an amount (`+4G`); the ' +
      'filesystem grows with it. Volumes never shrink: a smaller size is refused with VALIDATION.' +
      RETURNS,
    risk: 'mutate',
    privileges: [SEE_GUESTS, CONFIG_DISK],
    output: JobDto,
    text: jobText,
  })
  resizeContainerDisk(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: ResizeContainerDiskBodyDto,
  ): Promise<JobDto> {
    return this.disks.resizeContainerDisk(p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/containers/:vmid/volumes/move')
  @HttpCode(202)
  @McpToolset('containers')
  @McpTool({
    name: 'move_container_volume',
    title: 'Move container volume to another storage',
    description:
      'Copy the rootfs or a mount point of a stopped container to another storage of its node and use the copy ' +
      '(a running container is refused: stop it first). The source stays as an unusedN volume unless delete=true.' +
      RETURNS,
    risk: 'mutate',
    privileges: [SEE_GUESTS, CONFIG_DISK, USE_STORAGE],
    output: JobDto,
    text: jobText,
  })
  moveContainerVolume(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: MoveContainerVolumeBodyDto,
  ): Promise<JobDto> {
    return this.disks.moveContainerVolume(p.node, p.vmid, b, q.target);
  }
}
