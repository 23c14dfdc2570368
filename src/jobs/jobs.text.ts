import type { JobEventsDto, TaskListDto, TaskLogDto } from './dto/job-events.dto.js';
import type { JobListDto } from './dto/job.dto.js';
import { referenceJson } from '../common/format/reference-json.js';

export function jobListText(r: JobListDto): string {
  if (r.jobs.length === 0) return r.total ? `No jobs on this page (${r.total} in all)` : 'No jobs';
  const lines = r.jobs.map(
    (j) =>
      `${j.job_id}  ${j.status.padEnd(16)} ${j.tool_name.padEnd(18)} ${j.summary}${j.last_error ? ` — ${j.last_error}` : ''}`,
  );
  if (r.truncated)
    lines.push(`… ${r.total - r.offset - r.jobs.length} more (offset ${r.offset + r.jobs.length})`);
  return [`Jobs (${r.total})`, ...lines].join('\n');
}

/** list_jobs: the reference's JSON list of jobs first (scripts `json.loads` it), then the human listing. */
export const jobListTexts = (r: JobListDto): string[] => [referenceJson(r.jobs, true), jobListText(r)];

export function jobEventsText(r: JobEventsDto): string {
  return [
    `Job ${r.job_id}: ${r.total} events`,
    ...r.events.map((e) => `${e.timestamp}  ${e.event}  ${JSON.stringify(e.details)}`),
  ].join('\n');
}

export function taskListText(r: TaskListDto): string {
  return [
    `Tasks on ${r.node} (${r.total})`,
    ...r.tasks.map(
      (t) => `${t.starttime}  ${t.type.padEnd(12)} ${t.id.padEnd(6)} ${t.exitstatus ?? 'running'}  ${t.upid}`,
    ),
  ].join('\n');
}

export function taskLogText(r: TaskLogDto): string {
  const more = r.truncated
    ? `\n… ${r.total - r.start - r.lines.length} more lines (start ${r.start + r.lines.length})`
    : '';
  return `${r.lines.join('\n')}${more}`;
}
