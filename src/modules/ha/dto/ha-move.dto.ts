import { IsNodeName } from '../../../common/validation/proxmox.validators.js';
import { JSONSchema } from 'class-validator-jsonschema';
import { WaitOptionsDto } from '../../../jobs/dto/job.dto.js';

/** migrate_ha_resource, relocate_ha_resource: where the HA manager is to move the guest. */
export class HaMoveBodyDto extends WaitOptionsDto {
  @IsNodeName()
  @JSONSchema({
    description: 'The online node to move the guest to (get_nodes lists them); not the node it is on',
  })
  target_node: string;
}
