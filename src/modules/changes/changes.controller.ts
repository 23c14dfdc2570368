import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { on, SEE_GUESTS } from '../../common/tools/pve-privileges.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { ChangesService } from './changes.service.js';
import { changesText, revertText } from './changes.text.js';
import { ChangeIdParamDto, ChangeListDto, ChangeListQueryDto, RevertResultDto } from './dto/changes.dto.js';

@ApiTags('changes')
@McpToolset('admin')
@Controller()
export class ChangesController {
  constructor(private readonly changes: ChangesService) {}

  @Get('changes')
  @McpTool({
    name: 'list_changes',
    title: 'List recorded config changes',
    description:
      'The change journal, newest first: config edits this server made (update_vm_config, set_vm_description, container resources/network/description, firewall rules and options, HA resources, backup jobs) with the tool, caller, object and each changed field before and after. Filter by kind, vmid, tool; limit. Pass an id to revert_change to put one back.',
    risk: 'read',
    privileges: [],
    output: ChangeListDto,
    text: changesText,
  })
  listChanges(@Query() q: ChangeListQueryDto): Promise<ChangeListDto> {
    return this.changes.list(q);
  }

  @Post('changes/:id/revert')
  @HttpCode(200)
  @McpTool({
    name: 'revert_change',
    title: 'Revert a recorded config change',
    description:
      "Put back one change of list_changes: sets the changed fields to their previous values and removes the ones it added, with the object's current digest so a concurrent edit is refused. Refused (CONFLICT, naming the fields) when the object changed since that change; revert the later change first. Secrets (cloud-init password) are never stored and are not put back. The revert is itself journalled.",
    risk: 'mutate',
    // the object's own edit privilege: VM.Config.* for guest configs, Sys.Modify for cluster firewall and backup jobs
    privileges: [SEE_GUESTS, on('/vms', 'VM.Config.Options')],
    output: RevertResultDto,
    text: revertText,
  })
  revertChange(@Param() p: ChangeIdParamDto, @Query() q: TargetQueryDto): Promise<RevertResultDto> {
    return this.changes.revert(p.id, q.target);
  }
}
