import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { partialNote, usageLine } from '../../common/format/human.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { SEE_STORAGE } from '../../common/tools/pve-privileges.js';
import { StorageListDto, StorageQueryDto } from './dto/storage.dto.js';
import { StorageService } from './storage.service.js';

const storageText = (r: StorageListDto): string =>
  [
    'Storage pools',
    ...r.storages.flatMap((s) => [
      '',
      `${s.storage}${s.shared ? ' (shared)' : ` (${s.nodes.join(', ')})`}`,
      `  - Status: ${s.status === 'available' ? 'ONLINE' : s.status.toUpperCase()}`,
      `  - Type: ${s.type}`,
      `  - Content: ${s.content.join(', ') || 'none'}`,
      `  - Usage: ${usageLine(s.usage.used_bytes, s.usage.total_bytes)}`,
    ]),
  ].join('\n') + partialNote(r.unavailable_nodes);

@ApiTags('storage')
@McpToolset('storage')
@Controller()
export class StorageController {
  constructor(private readonly storage: StorageService) {}

  @Get('storage')
  @McpTool({
    name: 'get_storage',
    title: 'List storage',
    description:
      'Storage pools with type, content types, status and usage (one cluster-wide call). Shared storage appears once.',
    risk: 'read',
    privileges: [SEE_STORAGE],
    output: StorageListDto,
    text: storageText,
  })
  getStorage(@Query() q: StorageQueryDto): Promise<StorageListDto> {
    return this.storage.getStorage(q);
  }
}
