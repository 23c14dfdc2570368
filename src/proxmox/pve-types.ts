/**
 * Shapes of the PVE payloads the tools read (the `data` of the envelope), as loose as PVE itself: most fields are
 * optional, and Perl may serialise a schema `integer` as a JSON string (proxmox-api.md §3), so numeric fields are
 * `PveNumber` and must be coerced (common/format/human.ts `num`). Booleans are usually 0/1.
 */
export type PveNumber = number | string;
/** 0/1 as PVE sends booleans (a real boolean from some newer code, a string from some older). */
export type PveBool = boolean | PveNumber;

/** GET /cluster/resources item (manager Cluster.pm). */
export interface PveClusterResource {
  id: string;
  /** node | storage | pool | qemu | lxc | openvz | sdn | network */
  type: string;
  node?: string;
  vmid?: PveNumber;
  name?: string;
  status?: string;
  cpu?: PveNumber;
  maxcpu?: PveNumber;
  mem?: PveNumber;
  maxmem?: PveNumber;
  memhost?: PveNumber;
  disk?: PveNumber;
  maxdisk?: PveNumber;
  diskread?: PveNumber;
  diskwrite?: PveNumber;
  netin?: PveNumber;
  netout?: PveNumber;
  uptime?: PveNumber;
  template?: PveBool;
  /** `;`-separated. */
  tags?: string;
  lock?: string;
  pool?: string;
  hastate?: string;
  storage?: string;
  plugintype?: string;
  shared?: PveBool;
  /** Comma-separated content types, for storage rows. */
  content?: string;
  level?: string;
  'cgroup-mode'?: PveNumber;
  sdn?: string;
  zone?: string;
  'zone-type'?: string;
  network?: string;
  'network-type'?: string;
  protocol?: string;
  'host-arch'?: string;
}

/** GET /cluster/status item: one `cluster` entry (absent on a standalone node) plus one per node. */
export interface PveClusterStatusItem {
  /** cluster | node */
  type: string;
  id: string;
  name?: string;
  // cluster entry
  nodes?: PveNumber;
  quorate?: PveBool;
  version?: PveNumber;
  // node entries
  nodeid?: PveNumber;
  local?: PveBool;
  online?: PveBool;
  ip?: string;
  level?: string;
}

interface PveUsage {
  used?: PveNumber;
  total?: PveNumber;
  free?: PveNumber;
  avail?: PveNumber;
}

/** GET /nodes/{node}/status. */
export interface PveNodeStatus {
  uptime?: PveNumber;
  cpu?: PveNumber;
  wait?: PveNumber;
  /** 1, 5 and 15 minute load, as strings. */
  loadavg?: PveNumber[];
  cpuinfo?: {
    model?: string;
    cpus?: PveNumber;
    cores?: PveNumber;
    sockets?: PveNumber;
    mhz?: PveNumber;
    hvm?: PveBool | string;
    flags?: string;
    user_hz?: PveNumber;
  };
  memory?: PveUsage;
  swap?: PveUsage;
  rootfs?: PveUsage;
  ksm?: { shared?: PveNumber };
  kversion?: string;
  pveversion?: string;
  'current-kernel'?: { sysname?: string; release?: string; version?: string; machine?: string };
  'boot-info'?: { mode?: string; secureboot?: PveBool };
  idle?: PveNumber;
}

/** GET /nodes/{node}/storage/{storage}/content item. */
export interface PveStorageContentItem {
  volid: string;
  /** iso | vztmpl | backup | images | rootdir | snippets | import */
  content: string;
  /** `iso`, `tzst`, `vma.zst`, `raw`, `qcow2`, `subvol`, `snippet`, ... */
  format?: string;
  size?: PveNumber;
  used?: PveNumber;
  ctime?: PveNumber;
  vmid?: PveNumber;
  parent?: string;
  notes?: string;
  protected?: PveBool;
  encrypted?: string;
  verification?: { state?: string; upid?: string };
  /** `qemu` / `lxc` for backups. */
  subtype?: string;
}

/** GET /nodes/{node}/storage item. */
export interface PveNodeStorage {
  storage: string;
  type?: string;
  content?: string;
  active?: PveBool;
  enabled?: PveBool;
  shared?: PveBool;
  total?: PveNumber;
  used?: PveNumber;
  avail?: PveNumber;
  used_fraction?: PveNumber;
}

/**
 * GET /nodes/{node}/qemu/{vmid}/config and /lxc/{vmid}/config: option name → value. Property strings (net0,
 * scsi0, rootfs, ...) are unparsed strings; `digest` is always present.
 */
export type PveGuestConfig = Record<string, string | number>;
export type PveQemuConfig = PveGuestConfig;
export type PveLxcConfig = PveGuestConfig;

/** GET /nodes/{node}/lxc/{vmid}/interfaces item (running containers only; null otherwise). */
export interface PveLxcInterface {
  name: string;
  hwaddr?: string;
  /** CIDR, e.g. `10.0.0.5/24`. */
  inet?: string;
  inet6?: string;
}

/** GET /nodes/{node}/network item. */
export interface PveNetworkInterface {
  iface: string;
  /** bridge | OVSBridge | bond | eth | vlan | alias | ... */
  type: string;
  active?: PveBool;
  autostart?: PveBool;
  exists?: PveBool;
  method?: string;
  method6?: string;
  families?: string[];
  cidr?: string;
  address?: string;
  netmask?: string;
  gateway?: string;
  cidr6?: string;
  gateway6?: string;
  bridge_ports?: string;
  bridge_vlan_aware?: PveBool;
  bridge_stp?: string;
  bridge_fd?: PveNumber;
  comments?: string;
  priority?: PveNumber;
}

/** GET /nodes/{node}/tasks/{upid}/status. `exitstatus` only once stopped; no `endtime` here. */
export interface PveTaskStatus {
  upid: string;
  node: string;
  pid: PveNumber;
  pstart: PveNumber;
  starttime: PveNumber;
  type: string;
  id: string;
  /** Without the token part; see `tokenid`. */
  user: string;
  tokenid?: string;
  /** running | stopped */
  status: string;
  /** `OK`, `WARNINGS: N` (success) or the error text. */
  exitstatus?: string;
}

/** GET /nodes/{node}/tasks/{upid}/log item; `n` starts at 1. The envelope carries `total`. */
export interface PveTaskLogLine {
  n: number;
  t: string;
}

/** GET /nodes/{node}/tasks item; here `status` is the exit status text. */
export interface PveTaskListItem {
  upid: string;
  node: string;
  pid?: PveNumber;
  pstart?: PveNumber;
  starttime: PveNumber;
  endtime?: PveNumber;
  type: string;
  id?: string;
  user: string;
  status?: string;
}

/** GET /version. */
export interface PveVersion {
  version: string;
  release: string;
  repoid: string;
  console?: string;
}
