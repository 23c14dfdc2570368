import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { TOOLSET_NAMES } from '../../../common/tools/toolsets.js';
import { IsIntParam } from '../../../common/validation/proxmox.validators.js';

const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;

// Descriptions are short on purpose: these three tools are the whole tools/list in compact mode (< 2,000 tokens).

export class SearchToolsQueryDto {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @JSONSchema({ description: 'Words, e.g. "snapshot rollback"; omit to list a toolset' })
  query?: string;

  @IsOptional()
  @IsIn(TOOLSET_NAMES)
  @JSONSchema({ description: 'Only this toolset' })
  toolset?: string;

  @IsOptional()
  @IsIntParam()
  @Min(1)
  @Max(100)
  @JSONSchema({ description: 'Most hits (default 10)' })
  limit?: number;
}

export class ToolHitDto {
  @IsString() name: string;
  @IsString() title: string;
  @IsString() description: string;
  @IsString() toolset: string;
  @IsString() risk: string;
  @IsNumber() score: number;
  @IsArray() @IsString({ each: true }) matched: string[];
}

export class ToolSearchDto {
  @IsInt() total: number;
  @IsArray() @ValidateNested({ each: true }) @Type(() => ToolHitDto) tools: ToolHitDto[];
}

export class ToolNameParamDto {
  @Matches(TOOL_NAME, { message: 'name must be a tool name such as get_vms (snake_case)' })
  @JSONSchema({ description: 'Tool name' })
  name: string;
}

export class CallToolBodyDto {
  @IsOptional()
  @IsObject()
  @JSONSchema({ description: "The tool's arguments (describe_tool); approval_token goes here too" })
  arguments?: Record<string, unknown>;
}

export class ToolDescriptionDto {
  @IsString() name: string;
  @IsString() title: string;
  @IsString() description: string;
  @IsString() toolset: string;
  @IsString() risk: string;
  @IsObject() input_schema: Record<string, unknown>;
  @IsObject() output_schema: Record<string, unknown>;
}

export class ToolCallResultDto {
  @IsString() tool: string;
  @IsObject() result: Record<string, unknown>;
}
