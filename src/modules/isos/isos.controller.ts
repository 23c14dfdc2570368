import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { TargetQueryDto } from '../../common/dto/target.dto.js';
import { JobDto } from '../../jobs/dto/job.dto.js';
import { jobText } from '../../jobs/job.mapper.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { on, SEE_STORAGE, DOWNLOAD } from '../../common/tools/pve-privileges.js';
import { ContentListQueryDto } from '../guests/dto/storage-content.dto.js';
import {
  DeleteIsoQueryDto,
  DownloadIsoBodyDto,
  DownloadTemplateBodyDto,
  IsoListDto,
  StorageParamDto,
  TemplateListDto,
} from './dto/isos.dto.js';
import { IsosService } from './isos.service.js';
import { isoListText, templateListText } from './isos.text.js';

const DOWNLOAD_NOTE =
  'Proxmox fetches the URL from the node: only http(s) URLs of public hosts are accepted (no credentials, no loopback, private, ' +
  'link-local or metadata addresses; the server may also restrict the hosts), TLS certificates are always verified. ' +
  'The file name is used exactly as given. Returns the job.';

@ApiTags('isos')
@McpToolset('storage')
@Controller()
export class IsosController {
  constructor(private readonly isos: IsosService) {}

  @Get('isos')
  @McpTool({
    name: 'list_isos',
    title: 'List ISO images',
    description:
      'ISO images on the storages that hold them, with volume ID, size and storage. A shared storage is listed once. Filter by node or storage.',
    risk: 'read',
    privileges: [SEE_STORAGE],
    output: IsoListDto,
    text: isoListText,
  })
  async listIsos(@Query() q: ContentListQueryDto): Promise<IsoListDto> {
    const { items, ...meta } = await this.isos.list('iso', q);
    return { ...meta, isos: items };
  }

  @Get('templates')
  @McpTool({
    name: 'list_templates',
    title: 'List container templates',
    description:
      "Container (LXC) templates on the storages that hold them; their volume IDs are create_container's ostemplate. Filter by node or storage.",
    risk: 'read',
    privileges: [SEE_STORAGE],
    output: TemplateListDto,
    text: templateListText,
  })
  async listTemplates(@Query() q: ContentListQueryDto): Promise<TemplateListDto> {
    const { items, ...meta } = await this.isos.list('vztmpl', q);
    return { ...meta, templates: items };
  }

  @Post('nodes/:node/storage/:storage/isos')
  @HttpCode(202)
  @McpTool({
    name: 'download_iso',
    title: 'Download ISO image',
    description: `Have a node download an ISO image (.iso/.img) from a URL into a storage. ${DOWNLOAD_NOTE}`,
    risk: 'mutate',
    privileges: DOWNLOAD,
    output: JobDto,
    text: jobText,
  })
  downloadIso(
    @Param() p: StorageParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: DownloadIsoBodyDto,
  ): Promise<JobDto> {
    return this.isos.download('iso', p.node, p.storage, b, q.target);
  }

  @Post('nodes/:node/storage/:storage/templates')
  @HttpCode(202)
  @McpTool({
    name: 'download_template',
    title: 'Download container template',
    description: `Have a node download a container template (.tar, .tar.gz/.xz/.zst/.bz2) from a URL into a storage. ${DOWNLOAD_NOTE}`,
    risk: 'mutate',
    privileges: DOWNLOAD,
    output: JobDto,
    text: jobText,
  })
  downloadTemplate(
    @Param() p: StorageParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: DownloadTemplateBodyDto,
  ): Promise<JobDto> {
    return this.isos.download('vztmpl', p.node, p.storage, b, q.target);
  }

  @Delete('nodes/:node/storage/:storage/isos')
  @HttpCode(202)
  @McpTool({
    name: 'delete_iso',
    title: 'Delete ISO image or template',
    description:
      'Delete one ISO image or container template, named by its exact volume ID or exact file name (never a partial match; ' +
      'VM disks and backups are never touched). Returns the job.',
    risk: 'destroy',
    privileges: [SEE_STORAGE, on('/storage', 'Datastore.Allocate')],
    output: JobDto,
    text: jobText,
  })
  deleteIso(@Param() p: StorageParamDto, @Query() q: DeleteIsoQueryDto): Promise<JobDto> {
    return this.isos.delete(p.node, p.storage, q);
  }
}
