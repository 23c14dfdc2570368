/**
 * The shapes of the simulated cluster's state (nodes, guests, storages, volumes), apart from the ClusterState that
 * holds them, so the helpers ClusterState itself uses (guest-volumes.ts) can name them without importing it.
 */
export type GuestType = 'qemu' | 'lxc';
export type GuestStatus = 'running' | 'stopped';
/** A guest config as PVE returns it: option → value (property strings stay unparsed strings). */
export type GuestConfig = Record<string, string | number>;

/** One `[snapname]` section of a guest config (guest-common AbstractConfig snapshot_create). */
export interface SimSnapshot {
  name: string;
  parent?: string;
  /** Epoch seconds. */
  snaptime: number;
  description?: string;
  /** qemu snapshots with RAM: the volume holding the saved state. */
  vmstate?: string;
  /** `prepare` while the snapshot task runs, `delete` while it is being removed. */
  snapstate?: string;
  /** The guest config at snapshot time (without description, lock and unusedN, as PVE copies it). */
  config: GuestConfig;
}

/** A command the guest agent started (guest-exec), kept until exec-status reports it exited. */
export interface GuestProcess {
  pid: number;
  /** Epoch ms when it exits; Infinity for a process that never ends (`sleep infinity`, `yes`). */
  exitsAt: number;
  exitcode: number;
  stdout: Buffer;
  stderr: Buffer;
}

export interface SimNode {
  name: string;
  nodeid: number;
  ip: string;
  online: boolean;
  cpuModel: string;
  sockets: number;
  cores: number;
  cpus: number;
  /** /proc/cpuinfo text, e.g. "2400.000". */
  mhz: string;
  memTotal: number;
  swapTotal: number;
  rootfsTotal: number;
  rootfsUsed: number;
  /** Memory the host itself uses, before guests. */
  baseMemUsed: number;
  /** Epoch seconds. */
  bootTime: number;
  cpuLoad: number;
  sslFingerprint: string;
}

export interface GuestCounters {
  diskread: number;
  diskwrite: number;
  netin: number;
  netout: number;
}

export interface SimGuest {
  type: GuestType;
  vmid: number;
  node: string;
  status: GuestStatus;
  /** qemu: paused by `suspend` (qmpstatus "paused"); lxc: frozen. Status stays "running". */
  paused: boolean;
  config: GuestConfig;
  /** Epoch seconds of the last start (running guests). */
  startedAt: number;
  pid: number;
  /** The config `lock` (backup, snapshot, clone, migrate, …) while a task holds it. */
  lock?: string;
  template: boolean;
  cpuLoad: number;
  memFraction: number;
  counters: GuestCounters;
  /** lxc: the address eth0 gets inside the container (CIDR). */
  ipv4?: string;
  /** Disk size in bytes (scsi0 / rootfs). */
  diskBytes: number;
  createdAt: number;
  /** `[snapname]` sections, in creation order. */
  snapshots: Map<string, SimSnapshot>;
  /** The `parent:` line: the snapshot the current state derives from. */
  parent?: string;
  /** qemu `[PENDING]` values: changes waiting for the next VM start (not hot-pluggable while running). */
  pending?: GuestConfig;
  /** Pending deletions: option → force flag. */
  pendingDelete?: Map<string, boolean>;
  /** The HA manager's state of a guest that is an HA resource (`started`, `stopped`, …); absent when not managed. */
  hastate?: string;
  /** Resource pool membership (user.cfg). */
  pool?: string;
  /**
   * qemu: the guest OS runs qemu-guest-agent (default true). It answers only when the VM also runs, is not
   * paused and has `agent` enabled in its config; `sim.cluster.setAgentRunning(vmid, false)` stops it.
   */
  agentAvailable?: boolean;
  /** qemu: the guest ignores ACPI power-button events, so `shutdown` times out unless `forceStop`. */
  ignoresShutdown?: boolean;
  /** Commands started through the guest agent, by pid. */
  processes?: Map<number, GuestProcess>;
  nextAgentPid?: number;
}

export type StorageType = 'dir' | 'lvmthin' | 'nfs' | 'zfspool' | 'lvm';

export interface SimStorage {
  storage: string;
  type: StorageType;
  content: string[];
  shared: boolean;
  /** Other storage.cfg keys (path, thinpool, vgname, server, export, …). */
  options: Record<string, string | number>;
  /** Capacity in bytes (per node for local storages). */
  total: number;
  /** storage.cfg `nodes`: the nodes it is available on (all when absent). */
  nodes?: string[];
  /** storage.cfg `disable`. */
  disabled?: boolean;
  /** zfspool: thin provisioning (`sparse 1`); without it a zvol reserves its full size. */
  sparse?: boolean;
}

export interface SimVolume {
  volid: string;
  content: string;
  format: string;
  size: number;
  ctime: number;
  vmid?: number;
  notes?: string;
  protected?: number;
  subtype?: GuestType;
  used?: number;
  /** Backups: what the archive holds (the guest's type and config), so a restore can recreate the guest. */
  backup?: BackupArchive;
}

/** The guest inside a vzdump archive (qemu-server.conf / pct.conf as vzdump stored them). */
export interface BackupArchive {
  type: GuestType;
  config: GuestConfig;
  template: boolean;
}

export interface SimNetworkInterface {
  iface: string;
  type: string;
  [key: string]: string | number | string[];
}

/** A resource pool of user.cfg; its guests are the guests whose `pool` names it. */
export interface SimPool {
  comment?: string;
  /** Storage ids that are members of the pool. */
  storages: Set<string>;
}

export interface ClusterSeedData {
  clusterName: string;
  standalone: boolean;
  nodes: SimNode[];
  guests: SimGuest[];
  storages: SimStorage[];
  /** Keyed by storage id for shared storages, `storage@node` for local ones. */
  volumes: Map<string, SimVolume[]>;
  /** Base used bytes per storage key (beyond the listed volumes). */
  baseUsed: Map<string, number>;
  networks: Map<string, SimNetworkInterface[]>;
  version: { version: string; release: string; repoid: string };
  storageDigest: string;
  /** Resource pools (user.cfg). */
  pools?: string[];
}
