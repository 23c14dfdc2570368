import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { IsIntParam } from '../../common/validation/proxmox.validators.js';
import { BREAK_KINDS, type BreakKind } from '../audit-verifier.js';

export const EXPORT_PAGE_DEFAULT = 200;
export const EXPORT_PAGE_MAX = 500;

export class ChainPointDto {
  @IsInt() @JSONSchema({ description: 'Sequence number in the chain (0: the genesis)' }) seq: number;
  @IsString() @JSONSchema({ description: 'SHA-256 (hex) of that row' }) hash: string;
}

export class AuditChainBreakDto {
  @IsOptional()
  @IsInt()
  @JSONSchema({ description: 'Row id where the chain breaks; null when the head record itself is wrong' })
  row_id: number | null;
  @IsOptional() @IsInt() @JSONSchema({ description: 'Sequence number found at that row' }) seq: number | null;
  @IsIn(BREAK_KINDS)
  @JSONSchema({
    description:
      'edited: a row no longer matches its hash (or was re-hashed: the next row still links to the old hash); deleted: sequence numbers missing; reordered: a row holds another position; truncated: the last rows are gone (the head record says more); inserted: a row without a hash after the chain began',
  })
  kind: BreakKind;
  @IsString() expected: string;
  @IsString() found: string;
  @IsString() message: string;
}

export class AuditVerifyDto {
  @IsBoolean()
  @JSONSchema({ description: 'The whole chain from the checkpoint to the head is intact' })
  ok: boolean;
  @IsInt() @JSONSchema({ description: 'Rows whose hash and link were checked' }) rows_checked: number;
  @ValidateNested()
  @Type(() => ChainPointDto)
  @JSONSchema({ description: 'Where verification starts: the last pruned row (seq 0: the genesis)' })
  checkpoint: ChainPointDto;
  @ValidateNested()
  @Type(() => ChainPointDto)
  @JSONSchema({ description: 'The last row written, as the chain head record says' })
  head: ChainPointDto;
  @IsInt()
  @JSONSchema({ description: 'Rows from before the chain existed (not covered by it)' })
  legacy_rows: number;
  @IsOptional()
  @ValidateNested()
  @Type(() => AuditChainBreakDto)
  @JSONSchema({ description: 'The first broken link; absent when ok' })
  first_break?: AuditChainBreakDto;
}

/** Filters of export_audit_log / GET /audit/export. */
export class AuditExportQueryDto {
  @IsOptional()
  @IsIntParam()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  @JSONSchema({
    description: 'Start after this row id (next_after_id of the previous page); default: from the checkpoint',
  })
  after_id?: number;

  @IsOptional()
  @IsIntParam()
  @Min(1)
  @Max(EXPORT_PAGE_MAX)
  @JSONSchema({ description: `At most this many rows (default ${EXPORT_PAGE_DEFAULT})` })
  limit?: number;
}

/** One row as exported: exactly the hashed fields plus id and hash (docs/security.md gives the algorithm). */
export class AuditChainRecordDto {
  @IsInt() id: number;
  @IsOptional()
  @IsInt()
  @JSONSchema({ description: 'Position in the chain; null for a row outside it' })
  seq: number | null;
  @IsInt() @JSONSchema({ description: 'Epoch milliseconds' }) at: number;
  @IsOptional() @IsString() actor: string | null;
  @IsString() action: string;
  @IsOptional() @IsString() target: string | null;
  @IsString() outcome: string;
  @IsOptional() @IsString() reason: string | null;
  @IsOptional() @IsString() args_digest: string | null;
  @IsOptional() @IsString() @JSONSchema({ description: 'The details as stored (JSON text)' }) details_json:
    string | null;
  @IsOptional() @IsString() prev_hash: string | null;
  @IsOptional() @IsString() hash: string | null;
}

export class AuditExportDto {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => AuditChainRecordDto)
  @JSONSchema({
    description: 'The rows, in chain order; as JSON lines they verify with scripts/verify-audit-export.mjs',
  })
  records: AuditChainRecordDto[];
  @IsInt() count: number;
  @IsOptional() @IsInt() first_id?: number;
  @IsOptional() @IsInt() first_seq?: number | null;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'prev_hash of the first row: the last hash of the previous page or export' })
  prev_hash?: string | null;
  @IsOptional() @IsInt() last_id?: number;
  @IsOptional() @IsInt() last_seq?: number | null;
  @IsOptional()
  @IsString()
  @JSONSchema({
    description: 'Hash of the last row: keep it outside the server to detect a truncated tail later',
  })
  last_hash?: string | null;
  @ValidateNested() @Type(() => ChainPointDto) checkpoint: ChainPointDto;
  @ValidateNested() @Type(() => ChainPointDto) head: ChainPointDto;
  @IsOptional()
  @IsInt()
  @JSONSchema({ description: 'Pass as after_id for the next page; absent on the last page' })
  next_after_id?: number;
  @IsBoolean() @JSONSchema({ description: 'More rows follow' }) truncated: boolean;
}
