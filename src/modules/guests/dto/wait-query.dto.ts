import { IsOptional, Max, Min } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { TargetQueryDto } from '../../../common/dto/target.dto.js';
import { IsBooleanFlag, IsIntParam } from '../../../common/validation/proxmox.validators.js';

/**
 * `target`, `wait` and `wait_timeout_seconds` for DELETE routes, whose arguments all travel in the query string
 * (a route has one query DTO: the pipe checks each DTO against the whole query). The same names, limits and
 * descriptions as WaitOptionsDto, with query-string conversion ("true", "30"), which WaitOptionsDto's body
 * validators do not accept.
 */
export class WaitQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({ description: 'Wait for the Proxmox task to finish before returning (default false)' })
  wait?: boolean;

  @IsOptional()
  @IsIntParam()
  @Min(1)
  @Max(900)
  @JSONSchema({ description: 'Longest wait in seconds when wait is true (1-900, default 120)' })
  wait_timeout_seconds?: number;
}
