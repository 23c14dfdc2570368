import { Body, Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { TargetQueryDto } from '../../common/dto/target.dto.js';
import { McpTool } from '../../common/tools/mcp-tool.decorator.js';
import { SEE_GUESTS, SEE_NODES } from '../../common/tools/pve-privileges.js';
import { JobDto } from '../../jobs/dto/job.dto.js';
import { jobText } from '../../jobs/job.mapper.js';
import { HaMoveBodyDto } from './dto/ha-move.dto.js';
import { HaVmidParamDto } from './dto/ha.dto.js';
import { CHANGE_HA, SEE_HA } from './ha.controller.js';
import { HaMoveService } from './ha-move.service.js';
import { McpToolset } from '../../common/tools/toolsets.js';

const CHECKS =
  ' Refused before anything is sent when the HA manager would refuse or ignore it: a guest not under HA, in ' +
  'state ignored, disabled or error or already moving, a target that is unknown, offline or its current node, ' +
  'a resource-affinity rule keeping it apart from a guest on the target, a strict node-affinity rule without the ' +
  'target.';
const RETURNS =
  ' Returns a job (wait=true waits) that follows the HA status: it completes when the guest is settled on the ' +
  'target node and fails when the HA migration task fails. Guests in a positive resource-affinity rule with it ' +
  'move along.';

/** Moving HA-managed guests: the HA manager does it (no task for the request itself), so the job watches HA. */
@ApiTags('ha')
@McpToolset('ha')
@Controller()
export class HaMoveController {
  constructor(private readonly moves: HaMoveService) {}

  @Post('ha/resources/:vmid/migrate')
  @HttpCode(202)
  @McpTool({
    name: 'migrate_ha_resource',
    title: 'Migrate an HA guest',
    description:
      'Have the HA manager migrate an HA-managed VM or container to another node: a running VM moves live (online); a container moves in restart mode; a stopped guest stays stopped. Use this instead of migrate_vm/migrate_container for guests under HA.' +
      CHECKS +
      RETURNS,
    risk: 'mutate',
    privileges: [SEE_HA, SEE_GUESTS, SEE_NODES, CHANGE_HA],
    output: JobDto,
    text: jobText,
  })
  migrateHaResource(
    @Param() p: HaVmidParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: HaMoveBodyDto,
  ): Promise<JobDto> {
    return this.moves.move('migrate', p.vmid, b, q.target);
  }

  @Post('ha/resources/:vmid/relocate')
  @HttpCode(202)
  @McpTool({
    name: 'relocate_ha_resource',
    title: 'Relocate an HA guest',
    description:
      'Have the HA manager relocate an HA-managed VM or container: stop it, move it to another node and start it there (when it was running). For guests that cannot move live.' +
      CHECKS +
      RETURNS,
    risk: 'mutate',
    privileges: [SEE_HA, SEE_GUESTS, SEE_NODES, CHANGE_HA],
    output: JobDto,
    text: jobText,
  })
  relocateHaResource(
    @Param() p: HaVmidParamDto,
    @Query() q: TargetQueryDto,
    @Body() b: HaMoveBodyDto,
  ): Promise<JobDto> {
    return this.moves.move('relocate', p.vmid, b, q.target);
  }
}
