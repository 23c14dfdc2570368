import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { partialNote } from '../../common/format/human.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { McpToolset } from '../../common/tools/toolsets.js';
import { SEE_NODES } from '../../common/tools/pve-privileges.js';
import { BridgeListDto, BridgeQueryDto } from './dto/network.dto.js';
import { NetworkService } from './network.service.js';

const bridgesText = (r: BridgeListDto): string =>
  [
    'Network bridges',
    ...r.bridges.map(
      (b) =>
        `  - ${b.node}/${b.iface} (${b.type})${b.cidr ? ` ${b.cidr}` : ''}${b.ports.length ? ` ports: ${b.ports.join(' ')}` : ''}${b.active ? '' : ' [inactive]'}`,
    ),
  ].join('\n') + partialNote(r.unavailable_nodes);

@ApiTags('network')
@McpToolset('network')
@Controller()
export class NetworkController {
  constructor(private readonly network: NetworkService) {}

  @Get('bridges')
  @McpTool({
    name: 'list_bridges',
    title: 'List network bridges',
    description: 'Linux and OVS bridges per node (use one as network_bridge when creating guests).',
    risk: 'read',
    privileges: [SEE_NODES],
    output: BridgeListDto,
    text: bridgesText,
  })
  listBridges(@Query() q: BridgeQueryDto): Promise<BridgeListDto> {
    return this.network.listBridges(q);
  }
}
