import { Body, Controller, Param, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestNotesResultDto, SetDescriptionBodyDto } from '../guests/dto/guest-notes.dto.js';
import { GuestParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { guestNotesText } from '../guests/guest-notes.text.js';
import { GuestNotesService } from '../guests/guest-notes.service.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { on, SEE_GUESTS } from '../../common/tools/pve-privileges.js';

/** The Notes of a VM (PVE `description`), the reference's set_vm_description. */
@ApiTags('vms')
@McpToolset('vms')
@Controller()
export class VmNotesController {
  constructor(private readonly notes: GuestNotesService) {}

  @Put('nodes/:node/vms/:vmid/description')
  @McpTool({
    name: 'set_vm_description',
    title: 'Set VM notes',
    description:
      "Replace a VM's notes (the Notes panel, PVE description; Markdown). An empty string removes them. Guarded by the config digest; synchronous (no job). get_vm_config shows them.",
    risk: 'mutate',
    privileges: [SEE_GUESTS, on('/vms', 'VM.Config.Options')],
    output: GuestNotesResultDto,
    text: guestNotesText,
  })
  setVmDescription(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: SetDescriptionBodyDto,
  ): Promise<GuestNotesResultDto> {
    return this.notes.set('qemu', p.node, p.vmid, b, q.target);
  }
}
