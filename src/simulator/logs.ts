import type { ClusterState } from './cluster-state.js';
import { Prng } from './prng.js';

/**
 * The node logs PVE serves: the systemd journal (`/nodes/{node}/syslog`, journalctl -o short), the firewall log
 * (`/nodes/{node}/firewall/log`, /var/log/pve-firewall.log) and the cluster log (`/cluster/log`, pmxcfs's ring
 * buffer). Each node's history is generated once, deterministically from the seed and the node name, over the
 * hours before the simulator started; tests append lines with `sim.logs.appendSyslog(...)` and friends.
 */
export interface SyslogEntry {
  /** Epoch seconds. */
  time: number;
  /** The systemd unit (`pvedaemon.service`); undefined for kernel messages, which no `--unit` matches. */
  unit?: string;
  /** The syslog identifier shown before the pid (`pvedaemon`, `kernel`). */
  ident: string;
  pid?: number;
  msg: string;
}

export interface FirewallLogEntry {
  time: number;
  /** 0 for the host, else the guest's vmid. */
  vmid: number;
  /** Syslog level of the rule (6 info, 5 notice, ...). */
  level: number;
  /** The chain (`PVEFW-HOST-IN`, `tap100i0-IN`) or `-` for the logger's own lines. */
  chain: string;
  msg: string;
}

/** One entry of /cluster/log, exactly the keys pmxcfs's clog_dump_json writes. */
export interface ClusterLogEntry {
  uid: number;
  time: number;
  pri: number;
  tag: string;
  pid: number;
  node: string;
  user: string;
  msg: string;
}

const HISTORY_SECONDS = 6 * 3600;
const SYSLOG_LINES = 400;
const FIREWALL_LINES = 150;
const CLUSTER_LOG_ENTRIES = 120;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class SimLogs {
  /** The last generated line of every log is at this time (epoch seconds); appended lines default to now. */
  readonly anchor: number;
  private readonly syslogs = new Map<string, SyslogEntry[]>();
  private readonly firewallLogs = new Map<string, FirewallLogEntry[]>();
  private clusterEntries: ClusterLogEntry[] | undefined;
  private readonly timezones = new Map<string, string>();
  private nextUid = 1;

  constructor(
    private readonly cluster: ClusterState,
    private readonly seed: number,
    anchor = Math.floor(Date.now() / 1000),
  ) {
    this.anchor = anchor;
  }

  // ------------------------------------------------------------------ time zone (GET /nodes/{node}/time)

  /** The node's /etc/timezone (default UTC); journal lines and `since`/`until` strings are in this zone. */
  timezone(node: string): string {
    return this.timezones.get(node) ?? 'UTC';
  }

  setTimezone(node: string, tz: string): void {
    utcOffsetSeconds(tz, 0); // throws RangeError for an unknown zone
    this.timezones.set(node, tz);
  }

  /** Seconds east of UTC in the node's zone at `epoch`. */
  offset(node: string, epoch: number): number {
    return utcOffsetSeconds(this.timezone(node), epoch);
  }

  // ------------------------------------------------------------------ journal

  syslog(node: string): SyslogEntry[] {
    let entries = this.syslogs.get(node);
    if (!entries) {
      entries = generateSyslog(node, new Prng(this.nodeSeed(node, 1)), this.anchor);
      this.syslogs.set(node, entries);
    }
    return entries;
  }

  appendSyslog(node: string, entry: Omit<SyslogEntry, 'time'> & { time?: number }): void {
    this.syslog(node).push({ ...entry, time: entry.time ?? Math.floor(Date.now() / 1000) });
  }

  /** `journalctl -o short`: "Nov 24 20:43:23 pve1 pvedaemon[1234]: msg", in the node's local time. */
  syslogLine(node: string, e: SyslogEntry): string {
    const d = new Date((e.time + this.offset(node, e.time)) * 1000);
    const stamp = `${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    return `${stamp} ${node} ${e.ident}${e.pid === undefined ? '' : `[${e.pid}]`}: ${e.msg}`;
  }

  // ------------------------------------------------------------------ firewall

  firewallLog(node: string): FirewallLogEntry[] {
    let entries = this.firewallLogs.get(node);
    if (!entries) {
      const guests = this.cluster.guestsOn(node).map((g) => g.vmid);
      entries = generateFirewallLog(new Prng(this.nodeSeed(node, 2)), this.anchor, guests);
      this.firewallLogs.set(node, entries);
    }
    return entries;
  }

  appendFirewallLog(node: string, entry: Omit<FirewallLogEntry, 'time'> & { time?: number }): void {
    this.firewallLog(node).push({ ...entry, time: entry.time ?? Math.floor(Date.now() / 1000) });
  }

  /** pvefw-logger's format: "0 6 PVEFW-HOST-IN 24/Nov/2026:20:43:23 +0000 policy DROP: IN=vmbr0 …". */
  firewallLine(node: string, e: FirewallLogEntry): string {
    const offset = this.offset(node, e.time);
    const d = new Date((e.time + offset) * 1000);
    const sign = offset < 0 ? '-' : '+';
    const abs = Math.abs(offset);
    const zone = `${sign}${pad(Math.floor(abs / 3600))}${pad(Math.floor((abs % 3600) / 60))}`;
    const stamp = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${zone}`;
    return `${e.vmid} ${e.level} ${e.chain} ${stamp} ${e.msg}`;
  }

  // ------------------------------------------------------------------ cluster log

  /** Oldest first (the API answers newest first). */
  clusterLog(): ClusterLogEntry[] {
    if (!this.clusterEntries) {
      const rng = new Prng(this.nodeSeed('cluster', 3));
      const nodes = this.cluster.nodes().map((n) => n.name);
      this.clusterEntries = [];
      let time = this.anchor - HISTORY_SECONDS;
      const step = Math.floor(HISTORY_SECONDS / CLUSTER_LOG_ENTRIES);
      for (let i = 0; i < CLUSTER_LOG_ENTRIES; i++) {
        time += rng.int(1, step * 2 - 1);
        if (i === CLUSTER_LOG_ENTRIES - 1) time = this.anchor;
        const node = rng.pick(nodes);
        this.clusterEntries.push({ uid: this.nextUid++, time, node, ...clusterMessage(rng, node, time) });
      }
    }
    return this.clusterEntries;
  }

  appendClusterLog(entry: Omit<ClusterLogEntry, 'uid' | 'time'> & { time?: number }): ClusterLogEntry {
    const full = { ...entry, uid: 0, time: entry.time ?? Math.floor(Date.now() / 1000) };
    this.clusterLog().push(full);
    full.uid = this.nextUid++;
    return full;
  }

  private nodeSeed(name: string, salt: number): number {
    let h = (this.seed * 2654435761 + salt * 40503) >>> 0;
    for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    return h;
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Seconds east of UTC in `tz` at `epoch` (Intl knows the zone's rules, DST included). */
export function utcOffsetSeconds(tz: string, epoch: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(epoch * 1000));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const local = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return Math.round(local / 1000) - epoch;
}

/** The daemons of a PVE node and what they write, with their unit names (journalctl --unit matches these). */
const SERVICES: Array<{ unit?: string; ident: string; messages: (rng: Prng, node: string) => string }> = [
  {
    unit: 'pvedaemon.service',
    ident: 'pvedaemon',
    messages: (rng, node) =>
      rng.pick([
        `<root@pam> successful auth for user 'root@pam'`,
        `<root@pam> starting task UPID:${node}:000${rng.hex(5).toUpperCase()}:${rng.hex(8).toUpperCase()}:${rng.hex(8).toUpperCase()}:vncproxy:${rng.int(100, 111)}:root@pam:`,
        `worker ${rng.int(1000, 99999)} finished`,
        `starting 1 worker(s)`,
      ]),
  },
  {
    unit: 'pveproxy.service',
    ident: 'pveproxy',
    messages: (rng) =>
      rng.pick([
        `worker ${rng.int(1000, 99999)} finished`,
        'starting 1 worker(s)',
        `worker ${rng.int(1000, 99999)} started`,
      ]),
  },
  {
    unit: 'pvestatd.service',
    ident: 'pvestatd',
    messages: (rng) =>
      rng.pick([
        'status update time (5.012 seconds)',
        `auth key pair too old, rotating..`,
        `storage 'nas' is not online`,
      ]),
  },
  {
    unit: 'pve-cluster.service',
    ident: 'pmxcfs',
    messages: (rng) =>
      rng.pick(['[status] notice: received log', '[dcdb] notice: data verification successful']),
  },
  {
    unit: 'corosync.service',
    ident: 'corosync',
    messages: (rng) =>
      rng.pick(['[KNET  ] pmtud: Global data MTU changed to: 1397', '[TOTEM ] Retransmit List: 1a 1b']),
  },
  {
    unit: 'cron.service',
    ident: 'CRON',
    messages: () => '(root) CMD (if [ -x /usr/sbin/pveupdate ]; then /usr/sbin/pveupdate; fi)',
  },
  {
    unit: 'systemd-journald.service',
    ident: 'systemd-journald',
    messages: () => 'Data hash table of /var/log/journal/system.journal has a fill level at 75.0%',
  },
  {
    ident: 'kernel',
    messages: (rng) =>
      rng.pick([
        `vmbr0: port 2(tap${rng.int(100, 111)}i0) entered forwarding state`,
        'perf: interrupt took too long (2505 > 2500), lowering kernel.perf_event_max_sample_rate to 79750',
      ]),
  },
];

function generateSyslog(node: string, rng: Prng, anchor: number): SyslogEntry[] {
  const pids = new Map(SERVICES.map((s) => [s.ident, rng.int(800, 4000)]));
  const step = Math.floor(HISTORY_SECONDS / SYSLOG_LINES);
  const entries: SyslogEntry[] = [];
  let time = anchor - HISTORY_SECONDS;
  for (let i = 0; i < SYSLOG_LINES; i++) {
    time += rng.int(0, step * 2);
    if (i === SYSLOG_LINES - 1) time = anchor;
    const s = rng.pick(SERVICES);
    entries.push({
      time: Math.min(time, anchor),
      unit: s.unit,
      ident: s.ident,
      ...(s.ident === 'kernel' ? {} : { pid: pids.get(s.ident) }),
      msg: s.messages(rng, node),
    });
  }
  return entries;
}

function generateFirewallLog(rng: Prng, anchor: number, guests: number[]): FirewallLogEntry[] {
  const step = Math.floor(HISTORY_SECONDS / FIREWALL_LINES);
  const entries: FirewallLogEntry[] = [
    { time: anchor - HISTORY_SECONDS, vmid: 0, level: 5, chain: '-', msg: 'starting pvefw logger' },
  ];
  let time = anchor - HISTORY_SECONDS;
  for (let i = 1; i < FIREWALL_LINES; i++) {
    time += rng.int(1, step * 2 - 1);
    if (i === FIREWALL_LINES - 1) time = anchor;
    const src = `192.0.2.${rng.int(2, 254)}`;
    const sport = rng.int(32768, 60999);
    const dport = rng.pick([22, 80, 443, 3128, 8006]);
    const packet = `SRC=${src} DST=10.0.0.${rng.int(10, 250)} LEN=60 TOS=0x00 PREC=0x00 TTL=${rng.int(40, 64)} ID=${rng.int(1, 65535)} DF PROTO=TCP SPT=${sport} DPT=${dport} SEQ=${rng.int(1, 2 ** 31)} ACK=0 WINDOW=64240 SYN`;
    const vmid = guests.length && rng.chance(0.4) ? rng.pick(guests) : 0;
    entries.push(
      vmid === 0
        ? {
            time: Math.min(time, anchor),
            vmid: 0,
            level: 6,
            chain: 'PVEFW-HOST-IN',
            msg: `policy DROP: IN=vmbr0 PHYSIN=eno1 MAC=bc:24:11:${rng.hex(2)}:${rng.hex(2)}:${rng.hex(2)} ${packet}`,
          }
        : {
            time: Math.min(time, anchor),
            vmid,
            level: 6,
            chain: `tap${vmid}i0-IN`,
            msg: `${rng.pick(['ACCEPT', 'policy DROP'])}: IN=fwbr${vmid}i0 OUT=fwbr${vmid}i0 PHYSIN=fwln${vmid}i0 PHYSOUT=tap${vmid}i0 ${packet}`,
          },
    );
  }
  return entries;
}

function clusterMessage(
  rng: Prng,
  node: string,
  time: number,
): Omit<ClusterLogEntry, 'uid' | 'time' | 'node'> {
  const pid = rng.int(1000, 999999);
  const type = rng.pick(['qmstart', 'qmshutdown', 'vzdump', 'vncproxy', 'vzstart']);
  const upid = `UPID:${node}:${pid.toString(16).toUpperCase().padStart(8, '0')}:${rng.hex(8).toUpperCase()}:${time.toString(16).toUpperCase()}:${type}:${rng.int(100, 111)}:root@pam:`;
  return rng.chance(0.5)
    ? { pri: 6, tag: 'pvedaemon', pid, user: 'root@pam', msg: `starting task ${upid}` }
    : { pri: 6, tag: 'pvedaemon', pid, user: 'root@pam', msg: `end task ${upid} OK` };
}
