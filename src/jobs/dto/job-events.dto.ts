import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsInt, IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';

export class JobEventDto {
  @IsString() timestamp: string;
  @IsString() event: string;
  @IsObject() details: Record<string, unknown>;
}

export class JobEventsDto {
  @IsString() job_id: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => JobEventDto) events: JobEventDto[];
  @IsInt() total: number;
  @IsInt() limit: number;
  @IsInt() offset: number;
  @IsBoolean() truncated: boolean;
}

export class TaskSummaryDto {
  @IsString() upid: string;
  @IsString() node: string;
  @IsString() type: string;
  @IsString() id: string;
  @IsString() user: string;
  @IsString() starttime: string;
  @IsOptional() @IsString() @JSONSchema({ type: ['string', 'null'] }) endtime: string | null;
  @IsString() status: 'running' | 'stopped';
  @IsOptional() @IsString() @JSONSchema({ type: ['string', 'null'] }) exitstatus: string | null;
}

export class TaskListDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => TaskSummaryDto) tasks: TaskSummaryDto[];
  @IsInt() total: number;
  @IsBoolean() truncated: boolean;
}

export class TaskLogDto {
  @IsString() upid: string;
  @IsString() node: string;
  @IsArray() @IsString({ each: true }) lines: string[];
  @IsInt() start: number;
  @IsInt() total: number;
  @IsBoolean() truncated: boolean;
}
