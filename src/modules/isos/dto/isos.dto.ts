import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { NodeParamDto } from '../../../common/dto/target.dto.js';
import { PartialResultDto } from '../../../common/dto/usage.dto.js';
import { IsStorageId } from '../../../common/validation/proxmox.validators.js';
import { WaitOptionsDto } from '../../../jobs/dto/job.dto.js';
import { WaitQueryDto } from '../../guests/dto/wait-query.dto.js';
import { FailedReadDto, VolumeLocationDto } from '../../guests/dto/storage-content.dto.js';
import {
  CHECKSUM_ALGORITHMS,
  ISO_FILENAME_MESSAGE,
  ISO_FILENAME_RE,
  MAX_FILENAME,
  TEMPLATE_FILENAME_MESSAGE,
  TEMPLATE_FILENAME_RE,
  VOLUME_REF_MESSAGE,
  VOLUME_REF_RE,
  type ChecksumAlgorithm,
} from '../download-names.js';

// ------------------------------------------------------------------------------------------------ lists

class ContentListBase extends PartialResultDto {
  @IsInt() @JSONSchema({ description: 'How many items matched before the limit' }) total: number;
  @IsBoolean()
  @JSONSchema({ description: 'True when more items matched than were returned' })
  truncated: boolean;
  @IsArray() @ValidateNested({ each: true }) @Type(() => FailedReadDto) failed: FailedReadDto[];
}

export class IsoListDto extends ContentListBase {
  @IsArray() @ValidateNested({ each: true }) @Type(() => VolumeLocationDto) isos: VolumeLocationDto[];
}

export class TemplateListDto extends ContentListBase {
  @IsArray() @ValidateNested({ each: true }) @Type(() => VolumeLocationDto) templates: VolumeLocationDto[];
}

// ------------------------------------------------------------------------------------------------ download

export class StorageParamDto extends NodeParamDto {
  @IsStorageId()
  @JSONSchema({
    description:
      'Storage ID, e.g. local (for downloads: a file-based storage with the iso or vztmpl content type)',
  })
  storage: string;
}

/** url, checksum and algorithm: the same for ISOs and templates. */
class DownloadBodyBase extends WaitOptionsDto {
  @IsString()
  @MaxLength(2048)
  @JSONSchema({
    description:
      'http(s) URL Proxmox downloads from. Only public hosts (and, if configured, the allowed hosts); no credentials in the URL.',
  })
  url: string;

  @IsOptional()
  @IsString()
  @Matches(/^[0-9a-fA-F]{32,128}$/, { message: '$property must be a hex digest (32-128 hex digits)' })
  @JSONSchema({
    description:
      'Expected checksum (hex) of the file; Proxmox verifies it and discards a mismatching download',
  })
  checksum?: string;

  @IsOptional()
  @IsIn(CHECKSUM_ALGORITHMS)
  @JSONSchema({ description: 'Algorithm of checksum (default sha256 when a checksum is given)' })
  checksum_algorithm?: ChecksumAlgorithm;
}

export class DownloadIsoBodyDto extends DownloadBodyBase {
  @IsString()
  @MaxLength(MAX_FILENAME)
  @Matches(ISO_FILENAME_RE, { message: ISO_FILENAME_MESSAGE })
  @JSONSchema({
    description: 'File name to store it as, e.g. debian-12.9.0-amd64-netinst.iso (.iso or .img)',
  })
  filename: string;
}

export class DownloadTemplateBodyDto extends DownloadBodyBase {
  @IsString()
  @MaxLength(MAX_FILENAME)
  @Matches(TEMPLATE_FILENAME_RE, { message: TEMPLATE_FILENAME_MESSAGE })
  @JSONSchema({
    description:
      'File name to store it as, e.g. debian-12-standard_12.7-1_amd64.tar.zst (.tar, .tar.gz, .tar.xz, .tar.zst or .tar.bz2)',
  })
  filename: string;
}

// ------------------------------------------------------------------------------------------------ delete

export class DeleteIsoQueryDto extends WaitQueryDto {
  @IsString()
  @MaxLength(300)
  @Matches(VOLUME_REF_RE, { message: VOLUME_REF_MESSAGE })
  @JSONSchema({
    description:
      'The ISO image or container template to delete: its exact volume ID (local:iso/debian-12.iso) or its exact file name (debian-12.iso). Never a partial name.',
  })
  filename: string;
}
