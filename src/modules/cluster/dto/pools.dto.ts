import { Type } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsOptional, IsString, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { PartialResultDto } from '../../../common/dto/usage.dto.js';

export class PoolGuestDto {
  @IsInt() vmid: number;
  @IsIn(['qemu', 'lxc']) type: 'qemu' | 'lxc';
  @IsOptional() @IsString() name?: string;
  @IsString() node: string;
  @IsString()
  @JSONSchema({
    description: "PVE's status of the guest (running, stopped, unknown when its node is offline)",
  })
  status: string;
}

export class PoolDto {
  @IsString() poolid: string;
  @IsOptional() @IsString() comment?: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PoolGuestDto)
  @JSONSchema({ description: 'The VMs and containers in the pool, by vmid' })
  guests: PoolGuestDto[];
}

export class PoolListDto extends PartialResultDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => PoolDto) pools: PoolDto[];
}
