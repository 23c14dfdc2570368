import { Type } from 'class-transformer';
import { IsArray, IsInt, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { GuestListDto, GuestSummaryDto } from '../../guests/dto/guest.dto.js';

export class VmListDto extends GuestListDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => GuestSummaryDto) vms: GuestSummaryDto[];
}

export class NextVmidDto {
  @IsInt()
  @JSONSchema({ description: 'The first free VM/CT ID in the cluster (not reserved: create soon)' })
  vmid: number;
}
