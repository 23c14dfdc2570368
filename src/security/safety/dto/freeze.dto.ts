import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';

export const FREEZE_SOURCES = ['config', 'file', 'tool'] as const;
export const FREEZE_REASON_MAX = 500;

/** freeze_changes' body. */
export class FreezeChangesBodyDto {
  @IsString()
  @MinLength(3)
  @MaxLength(FREEZE_REASON_MAX)
  @JSONSchema({
    description: `Why changes are frozen (3-${FREEZE_REASON_MAX} characters); every refused call shows it, e.g. "incident 4711: storage migration in progress"`,
  })
  reason: string;
}

export class ActiveFreezeDto {
  @IsIn(FREEZE_SOURCES)
  @JSONSchema({
    description: 'config (safety.freeze), file (safety.freeze_file exists) or tool (freeze_changes)',
  })
  source: (typeof FREEZE_SOURCES)[number];
  @IsString() @JSONSchema({ description: 'Why; shown in every refused call' }) reason: string;
  @IsString()
  @JSONSchema({
    description: '`configuration`, `file <path>`, or the API key name that called freeze_changes',
  })
  frozen_by: string;
  @IsString() @JSONSchema({ description: 'Since when (ISO 8601)' }) since: string;
}

export class FreezeStatusDto {
  @IsBoolean()
  @JSONSchema({ description: 'True while every non-read tool is refused (FROZEN)' })
  frozen: boolean;
  @IsOptional()
  @IsIn(FREEZE_SOURCES)
  @JSONSchema({ description: 'The freeze shown to callers' })
  source?: (typeof FREEZE_SOURCES)[number];
  @IsOptional() @IsString() reason?: string;
  @IsOptional() @IsString() frozen_by?: string;
  @IsOptional() @IsString() since?: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ActiveFreezeDto)
  @JSONSchema({ description: 'Every active freeze; each must be lifted where it was set' })
  freezes: ActiveFreezeDto[];
  @IsString()
  @JSONSchema({ description: 'The freeze file (safety.freeze_file): while it exists, changes are frozen' })
  freeze_file: string;
}

export class UnfreezeResultDto extends FreezeStatusDto {
  @IsBoolean()
  @JSONSchema({ description: 'A freeze_changes freeze was lifted by this call' })
  lifted: boolean;
}
