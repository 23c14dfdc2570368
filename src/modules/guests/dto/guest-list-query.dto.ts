import { IsIn, IsOptional, Max, Min } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { IsIntParam, IsNodeName } from '../../../common/validation/proxmox.validators.js';
import { TargetQueryDto } from '../../../common/dto/target.dto.js';
import { GUEST_STATUSES } from './guest.dto.js';

/** Filters and paging shared by the inventory tools; large clusters stay within a model's context. */
export class GuestListQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsNodeName()
  @JSONSchema({ description: 'Only guests on this node' })
  node?: string;

  @IsOptional()
  @IsIn(GUEST_STATUSES)
  @JSONSchema({ description: 'Only guests in this state' })
  status?: (typeof GUEST_STATUSES)[number];

  @IsOptional()
  @IsIntParam()
  @Min(1)
  @Max(5000)
  @JSONSchema({ description: 'At most this many guests (default 1000)' })
  limit?: number;

  @IsOptional()
  @IsIntParam()
  @Min(0)
  @JSONSchema({ description: 'Skip this many guests (paging)' })
  offset?: number;
}
