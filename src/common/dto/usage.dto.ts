import { IsArray, IsBoolean, IsNumber, IsOptional, IsString } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';

export class UsageDto {
  @IsNumber() used_bytes: number;
  @IsNumber() total_bytes: number;
  @IsNumber()
  @JSONSchema({ description: 'used / total in percent, one decimal' })
  used_percent: number;
}

/** Lists built from /cluster/resources say when some nodes did not answer instead of failing. */
export class PartialResultDto {
  @IsString()
  @JSONSchema({ description: 'The configured target the data comes from' })
  target: string;

  @IsBoolean()
  @JSONSchema({
    description: 'True when some nodes were offline or unreachable; their entries may be stale or missing',
  })
  partial: boolean;

  @IsArray()
  @IsString({ each: true })
  unavailable_nodes: string[];

  @IsOptional()
  @IsString()
  warning?: string;
}
