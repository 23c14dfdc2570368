import { Body, Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { GuestParamDto, TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { anyOn, SEE_GUESTS } from '../../common/tools/pve-privileges.js';
import {
  ReadVmFileBodyDto,
  VmFileContentDto,
  VmFileWrittenDto,
  WriteVmFileBodyDto,
} from './dto/guest-files.dto.js';
import { GuestFilesService } from './guest-files.service.js';
import { fileContentText, fileWrittenText } from './guest-files.text.js';
import { McpToolset } from '../../common/tools/toolsets.js';

/** get-osinfo (is the agent answering, which OS): VM.GuestAgent.Audit or Unrestricted. */
const AGENT_AUDIT = anyOn('/vms', 'VM.GuestAgent.Audit', 'VM.GuestAgent.Unrestricted');

/** Files inside a running VM through its QEMU guest agent (POST routes: the path and content stay out of URLs). */
@ApiTags('vms')
@McpToolset('vms')
@Controller()
export class GuestFilesController {
  constructor(private readonly files: GuestFilesService) {}

  @Post('nodes/:node/vms/:vmid/files/read')
  @HttpCode(200)
  @McpTool({
    name: 'read_vm_file',
    title: 'Read a file in a VM',
    description:
      'Read a file inside a running VM through its QEMU guest agent: text as is, binary content as base64 (encoding says which). ' +
      'Absolute paths only (/… Linux, C:\\… Windows). Reads at most max_bytes (server cap files.max_read_bytes, 1 MiB by default); ' +
      'a longer file comes back truncated with next_offset to continue. Subject to the server file policy (deny rules such as /etc/shadow, private keys, /proc). ' +
      'Containers have no guest agent: use execute_container_command there.',
    risk: 'exec',
    execPolicy: 'file_read',
    privileges: [
      SEE_GUESTS,
      AGENT_AUDIT,
      anyOn('/vms', 'VM.GuestAgent.FileRead', 'VM.GuestAgent.Unrestricted'),
    ],
    output: VmFileContentDto,
    text: fileContentText,
  })
  readVmFile(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: ReadVmFileBodyDto,
  ): Promise<VmFileContentDto> {
    return this.files.read(p.node, p.vmid, b, q.target);
  }

  @Post('nodes/:node/vms/:vmid/files/write')
  @HttpCode(200)
  @McpTool({
    name: 'write_vm_file',
    title: 'Write a file in a VM',
    description:
      'Create or replace a file inside a running VM through its QEMU guest agent with content given as utf8 text or base64 (encoding). ' +
      "The folder must exist; the whole file is replaced. At most files.max_write_bytes (45 KiB, PVE's limit per write). " +
      'Absolute paths only (/… Linux, C:\\… Windows); subject to the server file policy (no /boot, /etc/shadow, SSH keys, system binaries …). ' +
      'The content is never logged or audited.',
    risk: 'exec',
    execPolicy: 'file_write',
    privileges: [
      SEE_GUESTS,
      AGENT_AUDIT,
      anyOn('/vms', 'VM.GuestAgent.FileWrite', 'VM.GuestAgent.Unrestricted'),
    ],
    output: VmFileWrittenDto,
    text: fileWrittenText,
  })
  writeVmFile(
    @Param() p: GuestParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: WriteVmFileBodyDto,
  ): Promise<VmFileWrittenDto> {
    return this.files.write(p.node, p.vmid, b, q.target);
  }
}
