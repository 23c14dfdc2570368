import { formatBytes } from '../../common/format/human.js';
import type { MetricDto, MetricsHistoryDto, TopGuestsDto } from './dto/metrics-history.dto.js';

const SPANS: Record<string, string> = {
  hour: 'last hour',
  day: 'last day',
  week: 'last week',
  month: 'last month',
  year: 'last year',
};

/** A value in its unit, short: "12.5%", "1.20 GB", "3.40 MB/s", "0.87"; negative values (slopes) keep their sign. */
export function formatValue(value: number | null, unit: string): string {
  if (value === null) return 'n/a';
  if (value < 0) return `-${formatValue(-value, unit)}`;
  switch (unit) {
    case 'percent':
      return `${value.toFixed(1)}%`;
    case 'bytes':
      return formatBytes(value);
    case 'bytes/s':
      return `${formatBytes(value)}/s`;
    case 'cores':
      return `${value.toFixed(2)} cores`;
    default:
      return value.toFixed(2);
  }
}

const metricLine = (m: MetricDto): string =>
  m.points === 0
    ? `- ${m.name}: no data`
    : `- ${m.name}: avg ${formatValue(m.avg, m.unit)}, max ${formatValue(m.max, m.unit)}, last ${formatValue(m.last, m.unit)}, ${m.trend}` +
      (m.trend === 'flat' || m.slope_per_hour === null
        ? ''
        : ` (${m.slope_per_hour > 0 ? '+' : ''}${formatValue(m.slope_per_hour, m.unit)}/h)`);

export const metricsHistoryText = (r: MetricsHistoryDto): string => {
  const what =
    r.storage !== undefined
      ? `Storage ${r.storage} on ${r.node}`
      : r.vmid !== undefined
        ? `${r.type === 'lxc' ? 'CT' : 'VM'} ${r.vmid}${r.name ? ` (${r.name})` : ''} on ${r.node}`
        : `Node ${r.node}`;
  const points = r.metrics[0]?.points ?? 0;
  return [
    `${what}, ${SPANS[r.timeframe] ?? r.timeframe} (${r.cf}, ${points} points of ${r.step_seconds} s):`,
    ...r.metrics.map(metricLine),
  ].join('\n');
};

export const topGuestsText = (r: TopGuestsDto): string => {
  const head = `Top ${r.guests.length} guests by ${r.by}, ${SPANS[r.timeframe] ?? r.timeframe} average (${r.upstream_requests} Proxmox requests):`;
  if (!r.guests.length) return `No running guests match (${r.candidates} candidates).`;
  return [
    head,
    ...r.guests.map(
      (g) =>
        `${g.rank}. ${g.type === 'lxc' ? 'CT' : 'VM'} ${g.vmid}${g.name ? ` (${g.name})` : ''} on ${g.node}: ` +
        `${formatValue(g.value, r.unit)}` +
        (g.percent !== null ? ` (${g.percent.toFixed(1)}%)` : '') +
        `, peak ${formatValue(g.peak, r.unit)}, ${g.trend}`,
    ),
    ...(r.warning ? [r.warning] : []),
  ].join('\n');
};
