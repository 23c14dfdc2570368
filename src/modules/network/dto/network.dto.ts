import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsOptional, IsString, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { PartialResultDto } from '../../../common/dto/usage.dto.js';
import { TargetQueryDto } from '../../../common/dto/target.dto.js';
import { IsNodeName } from '../../../common/validation/proxmox.validators.js';

export class BridgeQueryDto extends TargetQueryDto {
  @IsOptional()
  @IsNodeName()
  @JSONSchema({ description: 'Only this node (default: every online node)' })
  node?: string;
}

export class BridgeDto {
  @IsString() node: string;
  @IsString() iface: string;
  @IsString() @JSONSchema({ description: 'bridge or OVSBridge' }) type: string;
  @IsBoolean() active: boolean;
  @IsBoolean() autostart: boolean;
  @IsArray() @IsString({ each: true }) ports: string[];
  @IsOptional() @IsString() cidr?: string;
  @IsOptional() @IsString() gateway?: string;
  @IsOptional() @IsBoolean() vlan_aware?: boolean;
  @IsOptional() @IsString() comments?: string;
}

export class BridgeListDto extends PartialResultDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => BridgeDto) bridges: BridgeDto[];
}
