import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { IsBooleanFlag } from '../../../common/validation/proxmox.validators.js';
import { JobDto, WaitOptionsDto } from '../../../jobs/dto/job.dto.js';
import { WaitQueryDto } from '../../guests/dto/wait-query.dto.js';
import { FORMAT_STYLES } from './containers.dto.js';

export const SELECTOR_MAX_LENGTH = 4096;

export const SELECTOR_DESCRIPTION =
  'Which containers: comma-separated items, each `101` (ID, any node), `pve1:101` (ID on that node), `pve1/web` ' +
  '(name on that node) or `web` (name or hostname anywhere; may match several). Every item must match at least ' +
  'one container, else nothing is done and the error names the item.';

const FORMAT_DESCRIPTION =
  "Text rendering: 'pretty' (default: one OK/FAIL line per container) or 'json'; the structured result is the same";

/** selector + format_style + wait options: start_container (and the base of the other action bodies). */
export class ContainerSelectorBodyDto extends WaitOptionsDto {
  @IsString()
  @MinLength(1)
  @MaxLength(SELECTOR_MAX_LENGTH)
  @JSONSchema({ description: SELECTOR_DESCRIPTION })
  selector: string;

  @IsOptional()
  @IsIn(FORMAT_STYLES)
  @JSONSchema({ description: FORMAT_DESCRIPTION })
  format_style?: (typeof FORMAT_STYLES)[number];
}

export const STOP_DEFAULT_TIMEOUT_SECONDS = 10;

export class StopContainersBodyDto extends ContainerSelectorBodyDto {
  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'Ask the container to shut down cleanly first (default true); false stops it at once like pulling the plug',
    default: true,
  })
  graceful?: boolean;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(600)
  @JSONSchema({
    description: `Seconds a graceful shutdown may take (1-600, default ${STOP_DEFAULT_TIMEOUT_SECONDS})`,
    default: STOP_DEFAULT_TIMEOUT_SECONDS,
  })
  timeout_seconds?: number;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'When the graceful shutdown did not finish within timeout_seconds, stop the container hard (default true). ' +
      'Both steps are jobs; the result lists them.',
    default: true,
  })
  force_after_timeout?: boolean;
}

export class RestartContainersBodyDto extends ContainerSelectorBodyDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(600)
  @JSONSchema({
    description:
      'Seconds the container may take to shut down for the reboot (1-600, default 10); a container that does not stop in time is not rebooted and its job fails',
    default: STOP_DEFAULT_TIMEOUT_SECONDS,
  })
  timeout_seconds?: number;
}

/** delete_container: DELETE route, so every argument travels in the query string (hence the *Flag validators). */
export class DeleteContainersQueryDto extends WaitQueryDto {
  @IsString()
  @MinLength(1)
  @MaxLength(SELECTOR_MAX_LENGTH)
  @JSONSchema({ description: SELECTOR_DESCRIPTION })
  selector: string;

  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({
    description:
      'A running container is stopped first (hard stop, waited for) and deleted once it is stopped (default false: running containers are refused)',
  })
  force?: boolean;

  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({
    description:
      'Also remove the container from backup jobs, replication, HA and ACLs (PVE purge; default false)',
  })
  purge?: boolean;

  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({
    description:
      'Also destroy volumes on enabled storages that carry this ID but are not in its config (default false)',
  })
  destroy_unreferenced_disks?: boolean;

  @IsOptional()
  @IsIn(FORMAT_STYLES)
  @JSONSchema({ description: FORMAT_DESCRIPTION })
  format_style?: (typeof FORMAT_STYLES)[number];
}

export const MOUNT_POINT_RE = /^(?:rootfs|mp(?:\d|[1-9]\d|1\d\d|2[0-4]\d|25[0-5]))$/;

export class UpdateContainerResourcesBodyDto extends ContainerSelectorBodyDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(8192)
  @JSONSchema({ description: 'CPU cores the container may use' })
  cores?: number;

  @IsOptional()
  @IsInt()
  @Min(16)
  @Max(4194304)
  @JSONSchema({ description: 'Memory limit in MiB (at least 16)' })
  memory?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(4194304)
  @JSONSchema({ description: 'Swap in MiB (0 = none)' })
  swap?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65536)
  @JSONSchema({
    description:
      'Grow the disk by this many GiB (added to its current size; disks never shrink). The resize is a job.',
  })
  disk_gb?: number;

  @IsOptional()
  @IsString()
  @Matches(MOUNT_POINT_RE, { message: '$property must be rootfs or mp0 … mp255' })
  @JSONSchema({
    description: 'Which disk disk_gb grows: rootfs (default) or a mount point mp0 … mp255',
    default: 'rootfs',
  })
  disk?: string;
}

/** What happened to one container of a bulk action. */
export class ContainerActionItemDto {
  @IsBoolean() ok: boolean;
  @IsString() node: string;
  @IsInt() vmid: number;
  @IsString() name: string;

  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'What was done (on success)' })
  message?: string;

  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'Why this container failed: the error code and message' })
  error?: string;

  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The error code of a failure (CONFLICT, UPSTREAM_ERROR, …)' })
  error_code?: string;

  @IsOptional()
  @IsString()
  @JSONSchema({ type: ['string', 'null'], description: "The final job's Proxmox task id (UPID)" })
  task_id?: string | null;

  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The final job (the one that decides the outcome)' })
  job_id?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => JobDto)
  @JSONSchema({ description: 'The final job' })
  job?: JobDto;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => JobDto)
  @JSONSchema({
    description:
      'Every job of this container in order, when there were several (stop: the graceful shutdown, then the hard stop; delete with force: the stop, then the delete)',
  })
  jobs?: JobDto[];
}

export class ContainerActionResultDto {
  @IsString() target: string;

  @IsString()
  @JSONSchema({ description: 'The tool that ran: start, stop, restart, delete or update' })
  action: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ContainerActionItemDto)
  results: ContainerActionItemDto[];

  @IsInt() succeeded: number;
  @IsInt() failed: number;

  @IsIn(FORMAT_STYLES) format_style: (typeof FORMAT_STYLES)[number];
}
