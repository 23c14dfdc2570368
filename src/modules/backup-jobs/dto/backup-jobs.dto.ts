import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  Equals,
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
  ValidateNested,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { PartialResultDto } from '../../../common/dto/usage.dto.js';
import { VMID_MAX, VMID_MIN } from '../../../common/validation/proxmox-formats.js';
import { IsNodeName, IsPoolId, IsStorageId } from '../../../common/validation/proxmox.validators.js';
import { stacked } from '../../../common/validation/stacked.js';
import { JobDto } from '../../../jobs/dto/job.dto.js';
import { FailedReadDto } from '../../guests/dto/storage-content.dto.js';

/** vzdump's modes and compressors (the PVE schema's enums). */
export const JOB_MODES = ['snapshot', 'suspend', 'stop'] as const;
export const JOB_COMPRESSIONS = ['zstd', 'gzip', 'lzo', '0'] as const;
export const NOTIFICATION_MODES = ['auto', 'legacy-sendmail', 'notification-system'] as const;
export const MAIL_NOTIFICATIONS = ['always', 'failure'] as const;
/** The job settings update_backup_job can remove (PUT `delete`). */
export const CLEARABLE = ['comment', 'notes_template', 'node', 'mailto', 'retention', 'exclude'] as const;
export type Clearable = (typeof CLEARABLE)[number];

/** PVE job IDs: pve-configid (letters, digits, '-', '_'), at most 50 characters. */
export const JOB_ID_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]+$/;
const MAX_VMIDS = 1000;

const SCHEDULE_DESCRIPTION =
  'When the job runs, a Proxmox calendar event (systemd-like, in the node time zone): daily, hourly, weekly, ' +
  "'sun 01:00', 'mon..fri 02:30', 'sat,sun 22:00', '*-*-1 03:00' (1st of each month), '*/15' (every 15 minutes), " +
  "'mon..fri 8..17:0/30'. Fields take lists (a,b), ranges (a..b) and repetitions (start/step)";

// -------------------------------------------------------------------------------------------------- output

/** prune-backups: how many backups of each guest a run keeps (older ones are pruned after the run). */
export class RetentionDto {
  @IsOptional()
  @IsBoolean()
  @JSONSchema({ description: 'Keep every backup (conflicts with the keep_* counts)' })
  keep_all?: boolean;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  @JSONSchema({ description: 'The newest N backups' })
  keep_last?: number;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  @JSONSchema({ description: 'One per hour for N hours' })
  keep_hourly?: number;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  @JSONSchema({ description: 'One per day for N days' })
  keep_daily?: number;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  @JSONSchema({ description: 'One per week for N weeks' })
  keep_weekly?: number;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  @JSONSchema({ description: 'One per month for N months' })
  keep_monthly?: number;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  @JSONSchema({ description: 'One per year for N years' })
  keep_yearly?: number;
}

export class BackupJobDto {
  @IsString() @JSONSchema({ description: 'The job ID (backup-<hex> when Proxmox made it up)' }) id: string;
  @IsBoolean() enabled: boolean;
  @IsOptional() @IsString() @JSONSchema({ description: SCHEDULE_DESCRIPTION }) schedule?: string;
  @IsOptional()
  @IsString()
  @JSONSchema({
    description: 'The next run (ISO 8601, UTC) as Proxmox computes it; absent when disabled or never',
  })
  next_run?: string;
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({
    description: 'The next few runs (ISO 8601, UTC), computed from the schedule in the node time zone',
  })
  next_runs: string[];
  @IsIn(['all', 'vmids', 'pool'])
  @JSONSchema({ description: 'What the job backs up: all guests (but exclude), a list of vmids, or a pool' })
  selection: 'all' | 'vmids' | 'pool';
  @IsOptional() @IsArray() @IsInt({ each: true }) vmids?: number[];
  @IsOptional()
  @IsArray()
  @IsInt({ each: true })
  @JSONSchema({ description: 'Excluded guests (with all)' })
  exclude?: number[];
  @IsOptional() @IsString() pool?: string;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'Runs only on this node (else on every node)' })
  node?: string;
  @IsOptional() @IsString() storage?: string;
  @IsOptional() @IsString() mode?: string;
  @IsOptional() @IsString() compress?: string;
  @IsOptional() @IsString() notes_template?: string;
  @IsOptional()
  @ValidateNested()
  @Type(() => RetentionDto)
  @JSONSchema({ description: "The job's retention (else the storage's)" })
  retention?: RetentionDto;
  @IsOptional() @IsArray() @IsString({ each: true }) mailto?: string[];
  @IsOptional() @IsString() notification_mode?: string;
  @IsOptional() @IsString() comment?: string;
  @IsBoolean()
  @JSONSchema({ description: 'Run as soon as possible when a run was missed while the scheduler was down' })
  repeat_missed: boolean;
  @IsOptional() @IsBoolean() @JSONSchema({ description: 'Backups are marked protected' }) protected?: boolean;
}

export class BackupJobListDto {
  @IsString() target: string;
  @IsOptional()
  @IsString()
  @JSONSchema({ description: 'The time zone the schedules run in (the node time zone)' })
  timezone?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => BackupJobDto) jobs: BackupJobDto[];
}

/** create_backup_job and update_backup_job: the job as it is now, and what the call changed. */
export class BackupJobChangeDto {
  @IsString() target: string;
  @IsOptional() @IsString() timezone?: string;
  @ValidateNested() @Type(() => BackupJobDto) job: BackupJobDto;
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'What the call changed' })
  changes: string[];
}

export class BackupJobDeletedDto {
  @IsString() target: string;
  @IsString() id: string;
  @Equals(true) deleted: true;
}

/** One node's part of run_backup_job: one vzdump task (one job). */
export class BackupRunNodeDto {
  @IsString() node: string;
  @IsArray()
  @IsInt({ each: true })
  @JSONSchema({ description: 'The guests backed up on this node' })
  vmids: number[];
  @IsString() job_id: string;
}

export class BackupRunSkippedDto {
  @IsOptional() @IsInt() vmid?: number;
  @IsOptional() @IsString() node?: string;
  @IsString() reason: string;
}

export class BackupJobRunDto {
  @IsString() target: string;
  @IsString() @JSONSchema({ description: 'The backup job that was run' }) id: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => BackupRunNodeDto) nodes: BackupRunNodeDto[];
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => JobDto)
  @JSONSchema({ description: 'One job per node (a vzdump task each), in node order' })
  jobs: JobDto[];
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => BackupRunSkippedDto)
  @JSONSchema({ description: 'Guests or nodes the run left out, and why' })
  skipped: BackupRunSkippedDto[];
}

export class NewestBackupDto {
  @IsString() volid: string;
  @IsString() storage: string;
  @IsString() created_at: string;
  @IsInt() @JSONSchema({ description: 'Seconds since the backup was made' }) age_seconds: number;
}

export class UnprotectedGuestDto {
  @IsInt() vmid: number;
  @IsIn(['qemu', 'lxc']) type: 'qemu' | 'lxc';
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsString() node?: string;
  @IsOptional() @IsString() status?: string;
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({
    description:
      'Set when only disabled jobs select the guest (Proxmox counts them as cover, but they never run): their IDs',
  })
  disabled_jobs?: string[];
  @IsOptional()
  @ValidateNested()
  @Type(() => NewestBackupDto)
  @JSONSchema({ description: 'Its newest backup on a backup storage; absent when it has none' })
  newest_backup?: NewestBackupDto;
}

export class UnprotectedGuestsDto extends PartialResultDto {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => UnprotectedGuestDto)
  @JSONSchema({
    description:
      'Guests no (enabled) backup job selects: never backed up first, then the oldest newest backup first',
  })
  guests: UnprotectedGuestDto[];
  @IsInt() total: number;
  @IsInt() @JSONSchema({ description: 'How many of them have no backup at all' }) never_backed_up: number;
  @IsInt()
  @JSONSchema({ description: "How many of them only disabled jobs select (added to PVE's report)" })
  only_disabled_jobs: number;
  @IsArray() @ValidateNested({ each: true }) @Type(() => FailedReadDto) failed: FailedReadDto[];
}

// --------------------------------------------------------------------------------------------------- input

export class BackupJobIdParamDto {
  @IsString()
  @MaxLength(50)
  @Matches(JOB_ID_PATTERN, {
    message: '$property must be a backup job ID (see list_backup_jobs), e.g. backup-1a2b3c4d-5e6f',
  })
  @JSONSchema({ description: 'The backup job ID (see list_backup_jobs), e.g. backup-1a2b3c4d-5e6f' })
  id: string;
}

const VmidListField = (description: string) =>
  stacked(
    IsOptional(),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(MAX_VMIDS),
    ArrayUnique(),
    IsInt({ each: true }),
    Min(VMID_MIN, { each: true }),
    Max(VMID_MAX, { each: true }),
    JSONSchema({ description }),
  );
const OneLine = (max: number, description: string) =>
  stacked(
    IsOptional(),
    IsString(),
    MaxLength(max),
    Matches(/^[^\r\n]*$/, { message: '$property must be one line (write \\n for a line break)' }),
    JSONSchema({ description }),
  );

/** Every setting create and update share; all optional here. */
class BackupJobSettingsDto {
  @VmidListField('Back up these guests (one of vmids, all, pool)') vmids?: number[];

  @IsOptional()
  @IsBoolean()
  @JSONSchema({ description: 'Back up every guest (but exclude); one of vmids, all, pool' })
  all?: boolean;

  @IsOptional()
  @IsPoolId()
  @JSONSchema({ description: "Back up the pool's guests (one of vmids, all, pool)" })
  pool?: string;

  @VmidListField('With all: guests to leave out') exclude?: number[];

  @IsOptional()
  @IsNodeName()
  @JSONSchema({ description: 'Run only on this node (default: every node backs up its own guests)' })
  node?: string;

  @IsOptional()
  @IsIn(JOB_MODES)
  @JSONSchema({
    description: 'snapshot (no downtime), suspend (short pause) or stop (guest shut down and started again)',
  })
  mode?: (typeof JOB_MODES)[number];

  @IsOptional()
  @IsIn(JOB_COMPRESSIONS)
  @JSONSchema({ description: 'zstd, gzip, lzo, or 0 for none' })
  compress?: string;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({ description: 'A disabled job keeps its settings but never runs' })
  enabled?: boolean;

  @OneLine(
    1024,
    'Notes of each backup (one line; \\n starts a new one). {{guestname}}, {{node}}, {{vmid}} and {{cluster}} are filled in.',
  )
  notes_template?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => RetentionDto)
  @JSONSchema({ description: "Retention after each run (prune-backups), else the storage's" })
  retention?: RetentionDto;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Matches(/^(?:[^\s@,;]+@[^\s@,;]+|[^\s@,;]+@[A-Za-z][\w.-]*)$/, {
    each: true,
    message: 'each value in $property must be an email address or a user (user@realm)',
  })
  @JSONSchema({
    description:
      'Mail recipients (email addresses or users); deprecated in PVE in favour of notification matchers',
  })
  mailto?: string[];

  @IsOptional()
  @IsIn(MAIL_NOTIFICATIONS)
  @JSONSchema({ description: 'With mailto: always or failure' })
  mail_notification?: string;

  @IsOptional()
  @IsIn(NOTIFICATION_MODES)
  @JSONSchema({ description: 'auto (default), legacy-sendmail (mailto) or notification-system (matchers)' })
  notification_mode?: string;

  @OneLine(512, 'Description of the job') comment?: string;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({ description: 'Run as soon as possible when a run was missed (default false)' })
  repeat_missed?: boolean;

  @IsOptional() @IsBoolean() @JSONSchema({ description: 'Mark the backups protected' }) protected?: boolean;
}

export class CreateBackupJobBodyDto extends BackupJobSettingsDto {
  @IsString() @MaxLength(128) @JSONSchema({ description: SCHEDULE_DESCRIPTION }) schedule: string;

  @IsStorageId()
  @JSONSchema({ description: 'Backup storage to write to (it must hold content type backup), e.g. nas' })
  storage: string;

  @IsOptional()
  @IsString()
  @MaxLength(50)
  @Matches(JOB_ID_PATTERN, {
    message: "$property must start with a letter and hold only letters, digits, '-' and '_'",
  })
  @JSONSchema({ description: 'Job ID (default backup-<hex>, as Proxmox makes them)' })
  id?: string;
}

export class UpdateBackupJobBodyDto extends BackupJobSettingsDto {
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @JSONSchema({ description: SCHEDULE_DESCRIPTION })
  schedule?: string;

  @IsOptional()
  @IsStorageId()
  @JSONSchema({ description: 'Backup storage to write to (it must hold content type backup), e.g. nas' })
  storage?: string;

  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(CLEARABLE, { each: true })
  @JSONSchema({ description: `Settings to remove: ${CLEARABLE.join(', ')}` })
  clear?: Clearable[];
}
