import { IsOptional } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { IsNodeName, IsTargetName, IsVmid } from '../validation/proxmox.validators.js';

const TARGET_DESCRIPTION =
  'Which configured Proxmox cluster to use (see list_targets). Optional when the server has one target.';

/** Every tool accepts `target`; tools with no other query arguments use this DTO as their @Query(). */
export class TargetQueryDto {
  @IsOptional()
  @IsTargetName()
  @JSONSchema({ description: TARGET_DESCRIPTION })
  target?: string;
}

export class NodeParamDto {
  @IsNodeName()
  @JSONSchema({ description: 'Proxmox node name, e.g. pve1 (see get_nodes).' })
  node: string;
}

export class GuestParamDto extends NodeParamDto {
  @IsVmid()
  @JSONSchema({ description: 'VM or container ID (100-999999999), e.g. 101.' })
  vmid: number;
}
