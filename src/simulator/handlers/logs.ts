import type { GuestType } from '../cluster-model.js';
import { PveError } from '../pve-error.js';
import { Reply, type RouteContext, type Router } from '../router.js';
import { guestOf } from './guests.js';

/**
 * The logs operators read first: the journal (manager `API2/Nodes.pm` syslog → `PVE::Tools::dump_journal`),
 * the firewall log (pve-firewall `API2/Firewall/Host.pm` log → `dump_logfile`/`dump_fw_logfile`), the cluster log
 * (manager `API2/Cluster.pm` log → pmxcfs `clog_dump_json`), and the node's clock and zone (`Nodes.pm` time).
 */
export function registerLogRoutes(router: Router): void {
  router
    .get('/nodes/{node}/syslog', syslog)
    .get('/nodes/{node}/firewall/log', (ctx) => firewallLog(ctx))
    .get('/nodes/{node}/qemu/{vmid}/firewall/log', (ctx) => guestFirewallLog(ctx, 'qemu'))
    .get('/nodes/{node}/lxc/{vmid}/firewall/log', (ctx) => guestFirewallLog(ctx, 'lxc'))
    .get('/cluster/log', clusterLog)
    .get('/nodes/{node}/time', nodeTime);
}

/** PVE maps this one service name before handing it to journalctl --unit. */
const SERVICE_ALIASES: Record<string, string> = { postfix: 'postfix@-' };

function syslog(ctx: RouteContext): Reply {
  const node = ctx.node().name;
  const logs = ctx.services.logs;
  const start = ctx.int('start') ?? 0;
  // dump_journal: `$limit = 50 if !$limit` (0 does not mean "all" here, unlike the task and firewall logs)
  const limit = ctx.int('limit') || 50;
  const service = ctx.str('service');
  const unit = service ? (SERVICE_ALIASES[service] ?? service) : undefined;
  const since = localDate(ctx, 'since');
  const until = localDate(ctx, 'until');
  const matching = logs
    .syslog(node)
    .filter(
      (e) =>
        (!unit || e.unit === unit || e.unit === `${unit}.service`) &&
        (since === undefined || e.time >= since) &&
        (until === undefined || e.time <= until),
    )
    .sort((a, b) => a.time - b.time);
  // journalctl prints this line itself when nothing matches, and PVE passes it on as line 1
  const text = matching.length ? matching.map((e) => logs.syslogLine(node, e)) : ['-- No entries --'];
  const lines = text.slice(start, start + limit).map((t, i) => ({ n: start + i + 1, t }));
  return new Reply(lines, { total: text.length });
}

/** journalctl reads `since`/`until` ('YYYY-MM-DD[ HH:MM[:SS]]', schema-checked) in the node's local time. */
function localDate(ctx: RouteContext, name: string): number | undefined {
  const value = ctx.str(name);
  if (!value) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  if (!m) throw PveError.params({ [name]: 'value does not match the regex pattern' });
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) {
    // journalctl's own refusal, which run_command turns into a 500
    throw PveError.internal(`command '/usr/bin/journalctl -o short --no-pager' failed: exit code 1`);
  }
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
  return asUtc - ctx.services.logs.offset(ctx.node().name, asUtc);
}

/**
 * A guest's firewall log (pve-firewall API2/Firewall/VM.pm `log`): the node's log file, only the lines pvefw-logger
 * wrote for this vmid (its callback keeps lines matching /^$vmid /). The simulator also wants the guest to exist
 * on the node (PVE would show an empty log for a vmid it does not host).
 */
function guestFirewallLog(ctx: RouteContext, type: GuestType): Reply {
  const guest = guestOf(ctx, type);
  return firewallLog(ctx, guest.vmid);
}

function firewallLog(ctx: RouteContext, vmid?: number): Reply {
  const node = ctx.node().name;
  const logs = ctx.services.logs;
  const start = ctx.int('start') ?? 0;
  // dump_logfile: limit defaults to 50, 0 reads to the end
  const limit = ctx.has('limit') ? (ctx.int('limit') ?? 50) : 50;
  // Perl truth: since=0 / until=0 mean "not given"
  const since = ctx.int('since') || undefined;
  const until = ctx.int('until') || undefined;
  const matching = logs
    .firewallLog(node)
    .filter(
      (e) =>
        (vmid === undefined || e.vmid === vmid) &&
        (since === undefined || e.time >= since) &&
        (until === undefined || e.time <= until),
    );
  const text = matching.length ? matching.map((e) => logs.firewallLine(node, e)) : ['no content'];
  const end = limit === 0 ? text.length : start + limit;
  const lines = text.slice(start, end).map((t, i) => ({ n: start + i + 1, t }));
  return new Reply(lines, { total: text.length });
}

/** Newest first, at most `max` entries (pmxcfs takes 0/absent as 50). */
function clusterLog(ctx: RouteContext): unknown {
  const max = ctx.int('max') || 50;
  return ctx.services.logs
    .clusterLog()
    .slice()
    .sort((a, b) => b.time - a.time || b.uid - a.uid)
    .slice(0, max)
    .map((e) => ({ ...e }));
}

function nodeTime(ctx: RouteContext): unknown {
  const node = ctx.node().name;
  const time = Math.floor(Date.now() / 1000);
  const logs = ctx.services.logs;
  return { timezone: logs.timezone(node), time, localtime: time + logs.offset(node, time) };
}
