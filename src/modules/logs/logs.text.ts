import type { ClusterLogDto, GuestFirewallLogPageDto, LogPageDto, SyslogPageDto } from './dto/logs.dto.js';
import { clusterLogLine } from './logs.mapper.js';

function pageText(title: string, p: LogPageDto, filters: string[]): string {
  const window = [p.since && `since ${p.since}`, p.until && `until ${p.until}`, ...filters].filter(Boolean);
  const range = p.lines.length
    ? `lines ${p.lines[0].n}-${p.lines[p.lines.length - 1].n} of ${p.total}`
    : p.total === 0
      ? 'no matching lines'
      : `no lines from start ${p.start} (${p.total} in total)`;
  const more =
    p.next_start === null
      ? ''
      : `\n[${p.truncated ? 'cut at the size cap; ' : ''}more: call again with start=${p.next_start}]`;
  return `${title} (${range}${window.length ? `; ${window.join(', ')}` : ''})\n${p.lines.map((l) => l.text).join('\n')}${more}`;
}

export const syslogText = (p: SyslogPageDto): string =>
  pageText(`Syslog of ${p.node}`, p, [
    ...(p.service ? [`service ${p.service}`] : []),
    ...(p.timezone ? [`node time zone ${p.timezone}`] : []),
  ]);

export const firewallLogText = (p: LogPageDto): string => pageText(`Firewall log of ${p.node}`, p, []);

export const guestFirewallLogText = (p: GuestFirewallLogPageDto): string =>
  pageText(`Firewall log of ${p.vm_type === 'lxc' ? 'container' : 'VM'} ${p.vmid} on ${p.node}`, p, []);

export const clusterLogText = (c: ClusterLogDto): string =>
  [
    `Cluster log (${c.entries.length} newest entries${c.truncated ? ', cut at the size cap' : ''})`,
    ...c.entries.map(clusterLogLine),
  ].join('\n');
