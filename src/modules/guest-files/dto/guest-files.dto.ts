import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { MAX_FILE_READ_BYTES, MAX_FILE_WRITE_BYTES } from '../../../config/file-policy.defaults.js';
import { GUEST_PATH_RULES, MAX_GUEST_PATH_LENGTH } from '../../../security/policy/file-path.js';

export const READ_ENCODINGS = ['utf8', 'base64'] as const;
export const WRITE_ENCODINGS = ['utf8', 'base64'] as const;
export type FileEncoding = (typeof READ_ENCODINGS)[number];

/** PVE's file-read `offset` has no upper bound; 2^53 - 1 keeps it an exact JSON integer. */
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;
/** file-write's `content` as PVE takes it: at most 61440 characters (base64 of 46080 bytes). */
export const MAX_CONTENT_CHARS = 61440;

const PATH_DESCRIPTION =
  `The file inside the VM: ${GUEST_PATH_RULES}. Checked against the server's files policy ` +
  '(files.*_allow_paths / *_deny_paths globs); a refusal names the rule.';

/**
 * read_vm_file. `path` is also read by the global command-policy guard (the `files` rules) before any approval is
 * asked; keep the name.
 */
export class ReadVmFileBodyDto {
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_GUEST_PATH_LENGTH)
  @JSONSchema({ description: PATH_DESCRIPTION })
  path: string;

  @IsOptional()
  @IsIn(READ_ENCODINGS)
  @JSONSchema({
    description:
      'utf8 (default): the content as text when it is valid UTF-8, otherwise (binary) base64 — the result says which; base64: always base64',
  })
  encoding?: FileEncoding;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  @JSONSchema({
    description: 'Byte offset to start reading at (default 0); a truncated result gives next_offset',
  })
  offset?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_FILE_READ_BYTES)
  @JSONSchema({
    description: `Bytes to read at most (default and upper bound: the server's files.max_read_bytes, 1 MiB unless configured; never over ${MAX_FILE_READ_BYTES})`,
  })
  max_bytes?: number;
}

/** write_vm_file. `path` is judged by the command-policy guard; `content` is redacted everywhere (never logged). */
export class WriteVmFileBodyDto {
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_GUEST_PATH_LENGTH)
  @JSONSchema({ description: PATH_DESCRIPTION })
  path: string;

  @IsString()
  @MaxLength(MAX_CONTENT_CHARS)
  @JSONSchema({
    description:
      `The whole new content of the file (created, or replaced: PVE's file-write truncates). At most files.max_write_bytes bytes ` +
      `(${MAX_FILE_WRITE_BYTES} unless configured lower: PVE takes ${MAX_CONTENT_CHARS} base64 characters per write). Never logged or audited.`,
  })
  content: string;

  @IsOptional()
  @IsIn(WRITE_ENCODINGS)
  @JSONSchema({ description: 'How content is given: utf8 text (default) or base64 (binary files)' })
  encoding?: FileEncoding;
}

export class VmFileContentDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;

  @IsString()
  @JSONSchema({ description: 'The path as the agent was given it (normalised)' })
  path: string;

  @IsIn(READ_ENCODINGS)
  @JSONSchema({ description: 'How content is given: utf8 text, or base64 (binary content, or asked for)' })
  encoding: FileEncoding;

  @IsString() content: string;

  @IsInt() @JSONSchema({ description: 'The offset the read started at' }) offset: number;

  @IsInt() @JSONSchema({ description: 'Bytes returned in content' }) bytes_read: number;

  @IsBoolean()
  @JSONSchema({
    description: 'The file goes on past what was returned (the max_bytes / files.max_read_bytes cap)',
  })
  truncated: boolean;

  @IsOptional()
  @IsInt()
  @JSONSchema({ description: 'When truncated: the offset to read the rest from' })
  next_offset?: number;

  @IsInt() @JSONSchema({ description: 'The byte cap this read used' }) max_bytes: number;
}

export class VmFileWrittenDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;

  @IsString()
  @JSONSchema({ description: 'The path as the agent was given it (normalised)' })
  path: string;

  @IsInt()
  @JSONSchema({ description: 'Bytes written (the file now has exactly this content)' })
  bytes_written: number;
}
