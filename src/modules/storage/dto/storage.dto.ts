import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsOptional, IsString, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { PartialResultDto, UsageDto } from '../../../common/dto/usage.dto.js';
import { IsNodeName } from '../../../common/validation/proxmox.validators.js';
import { TargetQueryDto } from '../../../common/dto/target.dto.js';

export class StorageQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsNodeName()
  @JSONSchema({ description: 'Only storages available on this node' })
  node?: string;
}

export class StorageDto {
  @IsString() storage: string;
  @IsString()
  @JSONSchema({ description: 'Storage plugin: dir, lvmthin, nfs, zfspool, rbd, ...' })
  type: string;
  @IsString() @JSONSchema({ description: "PVE's status: available, unknown, ..." }) status: string;
  @IsBoolean() shared: boolean;
  @IsArray() @IsString({ each: true }) content: string[];
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'Nodes that report this storage (one entry per storage when shared)' })
  nodes: string[];
  @ValidateNested() @Type(() => UsageDto) usage: UsageDto;
}

export class StorageListDto extends PartialResultDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => StorageDto) storages: StorageDto[];
}
