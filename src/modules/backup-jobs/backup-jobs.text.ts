import { partialNote } from '../../common/format/human.js';
import { jobText } from '../../jobs/job.mapper.js';
import type {
  BackupJobChangeDto,
  BackupJobDeletedDto,
  BackupJobDto,
  BackupJobListDto,
  BackupJobRunDto,
  UnprotectedGuestsDto,
} from './dto/backup-jobs.dto.js';

const what = (j: BackupJobDto): string =>
  j.selection === 'all'
    ? `all guests${j.exclude?.length ? ` except ${j.exclude.join(', ')}` : ''}`
    : j.selection === 'pool'
      ? `pool ${j.pool ?? ''}`
      : `guests ${(j.vmids ?? []).join(', ')}`;

const jobLines = (j: BackupJobDto, timezone?: string): string[] => [
  `- ${j.id}${j.enabled ? '' : ' (disabled)'}: ${j.schedule ?? 'no schedule'}${timezone ? ` (${timezone})` : ''}, ${what(j)}` +
    `${j.node ? ` on ${j.node}` : ''} → ${j.storage ?? 'default storage'}, mode ${j.mode ?? 'snapshot'}, compress ${j.compress ?? '0'}` +
    (j.comment ? ` (${j.comment})` : ''),
  `    next runs: ${j.next_runs.length ? j.next_runs.join(', ') : 'none'}`,
  ...(j.retention
    ? [
        `    retention: ${Object.entries(j.retention)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', ')}`,
      ]
    : []),
];

export const backupJobsText = (r: BackupJobListDto): string =>
  r.jobs.length
    ? [`Backup jobs (${r.jobs.length})`, ...r.jobs.flatMap((j) => jobLines(j, r.timezone))].join('\n')
    : 'No backup jobs. create_backup_job schedules one.';

export const backupJobChangeText = (r: BackupJobChangeDto): string =>
  [...r.changes, '', ...jobLines(r.job, r.timezone)].join('\n');

export const backupJobDeletedText = (r: BackupJobDeletedDto): string =>
  `Backup job ${r.id} deleted (existing backups are kept)`;

export const backupJobRunText = (r: BackupJobRunDto): string =>
  [
    `Backup job ${r.id} started on ${r.nodes.length} node(s):`,
    ...r.nodes.map((n) => `- ${n.node}: ${n.vmids.join(', ')} (job ${n.job_id})`),
    ...r.skipped.map((s) => `- skipped ${s.vmid ?? s.node ?? ''}: ${s.reason}`),
    '',
    ...r.jobs.map(jobText),
  ].join('\n');

const age = (seconds: number): string =>
  seconds >= 86400
    ? `${Math.floor(seconds / 86400)} d`
    : seconds >= 3600
      ? `${Math.floor(seconds / 3600)} h`
      : `${Math.floor(seconds / 60)} min`;

export const unprotectedText = (r: UnprotectedGuestsDto): string => {
  if (!r.guests.length)
    return `Every guest is covered by an enabled backup job${partialNote(r.unavailable_nodes)}`;
  const lines = [
    `${r.total} guest(s) not covered by an enabled backup job (${r.never_backed_up} never backed up):`,
    ...r.guests.map(
      (g) =>
        `- ${g.type === 'lxc' ? 'CT' : 'VM'} ${g.vmid}${g.name ? ` (${g.name})` : ''}${g.node ? ` on ${g.node}` : ''}: ` +
        (g.disabled_jobs ? `only in disabled job(s) ${g.disabled_jobs.join(', ')}; ` : '') +
        (g.newest_backup
          ? `newest backup ${age(g.newest_backup.age_seconds)} old (${g.newest_backup.volid})`
          : 'never backed up'),
    ),
  ];
  for (const f of r.failed) lines.push(`Could not read ${f.storage} on ${f.node}: ${f.error}`);
  return lines.join('\n') + partialNote(r.unavailable_nodes);
};
