import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { GuestListDto, GuestSummaryDto } from '../../guests/dto/guest.dto.js';
import { GuestListQueryDto } from '../../guests/dto/guest-list-query.dto.js';
import { IsBooleanFlag, IsNodeName } from '../../../common/validation/proxmox.validators.js';

export const FORMAT_STYLES = ['pretty', 'json'] as const;

/** The reference's legacy `payload` object: its keys override the top-level ones. */
export class ContainersPayloadDto {
  @IsOptional() @IsNodeName() node?: string;
  @IsOptional() @IsBoolean() include_stats?: boolean;
  @IsOptional() @IsBoolean() include_raw?: boolean;
  @IsOptional() @IsIn(FORMAT_STYLES) format_style?: (typeof FORMAT_STYLES)[number];
}

export class GetContainersQueryDto extends GuestListQueryDto {
  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({ description: 'Also read live status and config per container (one call each; slower)' })
  include_stats?: boolean;

  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({ description: 'With include_stats: add the raw PVE status and config objects' })
  include_raw?: boolean;

  @IsOptional()
  @IsIn(FORMAT_STYLES)
  @JSONSchema({
    description: "Text rendering: 'pretty' (default) or 'json'; the structured result is the same",
  })
  format_style?: (typeof FORMAT_STYLES)[number];

  @IsOptional()
  @ValidateNested()
  @Type(() => ContainersPayloadDto)
  @JSONSchema({ description: 'Legacy: the same options as an object (overrides the top-level ones)' })
  payload?: ContainersPayloadDto;
}

export class ContainerDto extends GuestSummaryDto {
  @IsOptional() @IsBoolean() unlimited_memory?: boolean;
  @IsOptional() @IsObject() raw_status?: Record<string, unknown>;
  @IsOptional() @IsObject() raw_config?: Record<string, unknown>;
}

export class ContainerListDto extends GuestListDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => ContainerDto) containers: ContainerDto[];
  @IsIn(FORMAT_STYLES) format_style: (typeof FORMAT_STYLES)[number];
}

export class ContainerInterfaceDto {
  @IsString() name: string;
  @IsOptional() @IsString() inet?: string;
  @IsOptional() @IsString() inet6?: string;
  @IsOptional() @IsString() hwaddr?: string;
}

export class ContainerIpDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;
  @IsString() name: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ContainerInterfaceDto)
  interfaces: ContainerInterfaceDto[];
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The first IPv4 address without its prefix length; absent when there is none' })
  primary_ip?: string;
}
