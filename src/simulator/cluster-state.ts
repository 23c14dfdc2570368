import { createHash } from 'node:crypto';
import { PveError } from './pve-error.js';

/**
 * The simulated cluster: nodes, guests, storages and their content, held in maps so a lookup costs O(1) even with
 * thousands of guests. seed.ts builds the initial state; views.ts turns it into PVE's JSON shapes; handlers and the
 * task runner change it. Tests reach it as `sim.cluster`.
 */
export type GuestType = 'qemu' | 'lxc';
export type GuestStatus = 'running' | 'stopped';
/** A guest config as PVE returns it: option → value (property strings stay unparsed strings). */
export type GuestConfig = Record<string, string | number>;

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
  digest?: string;
}

export type StorageType = 'dir' | 'lvmthin' | 'nfs';

export interface SimStorage {
  storage: string;
  type: StorageType;
  content: string[];
  shared: boolean;
  /** Other storage.cfg keys (path, thinpool, vgname, server, export, …). */
  options: Record<string, string | number>;
  /** Capacity in bytes (per node for local storages). */
  total: number;
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
}

export interface SimNetworkInterface {
  iface: string;
  type: string;
  [key: string]: string | number | string[];
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
}

const CONFIG_DIR: Record<GuestType, string> = { qemu: 'qemu-server', lxc: 'lxc' };

export class ClusterState {
  readonly clusterName: string;
  readonly standalone: boolean;
  /** The node the simulator "is": requests for other nodes are proxied (and fail when that node is offline). */
  readonly localNode: string;
  readonly version: { version: string; release: string; repoid: string };
  readonly storageDigest: string;

  private readonly nodeMap = new Map<string, SimNode>();
  private readonly guestMap = new Map<number, SimGuest>();
  private readonly guestsByNode = new Map<string, Set<SimGuest>>();
  private readonly storageMap = new Map<string, SimStorage>();
  private readonly volumeMap: Map<string, SimVolume[]>;
  private readonly baseUsed: Map<string, number>;
  private readonly networkMap: Map<string, SimNetworkInterface[]>;

  constructor(data: ClusterSeedData) {
    this.clusterName = data.clusterName;
    this.standalone = data.standalone;
    this.version = data.version;
    this.storageDigest = data.storageDigest;
    for (const node of data.nodes) {
      this.nodeMap.set(node.name, node);
      this.guestsByNode.set(node.name, new Set());
    }
    this.localNode = data.nodes[0].name;
    for (const guest of data.guests) this.addGuest(guest);
    for (const storage of data.storages) this.storageMap.set(storage.storage, storage);
    this.volumeMap = data.volumes;
    this.baseUsed = data.baseUsed;
    this.networkMap = data.networks;
  }

  // ------------------------------------------------------------------ nodes

  nodes(): SimNode[] {
    return [...this.nodeMap.values()];
  }

  node(name: string): SimNode | undefined {
    return this.nodeMap.get(name);
  }

  /** Takes a node down or brings it back: proxied calls to it fail with 595, its guests show `unknown`. */
  setNodeOnline(name: string, online: boolean): void {
    const node = this.nodeMap.get(name);
    if (!node)
      throw new Error(`setNodeOnline: no node '${name}' (nodes: ${[...this.nodeMap.keys()].join(', ')})`);
    node.online = online;
  }

  /** More than half of the votes online (one vote per node); a standalone node is always quorate. */
  isQuorate(): boolean {
    if (this.standalone) return true;
    const online = this.nodes().filter((n) => n.online).length;
    return online * 2 > this.nodeMap.size;
  }

  // ------------------------------------------------------------------ guests

  guests(): IterableIterator<SimGuest> {
    return this.guestMap.values();
  }

  get guestCount(): number {
    return this.guestMap.size;
  }

  guest(vmid: number): SimGuest | undefined {
    return this.guestMap.get(vmid);
  }

  guestsOn(node: string): SimGuest[] {
    const set = this.guestsByNode.get(node);
    return set ? [...set].sort((a, b) => a.vmid - b.vmid) : [];
  }

  addGuest(guest: SimGuest): void {
    if (this.guestMap.has(guest.vmid)) throw new Error(`guest ${guest.vmid} already exists`);
    const set = this.guestsByNode.get(guest.node);
    if (!set) throw new Error(`guest ${guest.vmid}: no node '${guest.node}'`);
    this.guestMap.set(guest.vmid, guest);
    set.add(guest);
  }

  removeGuest(vmid: number): void {
    const guest = this.guestMap.get(vmid);
    if (!guest) return;
    this.guestMap.delete(vmid);
    this.guestsByNode.get(guest.node)?.delete(guest);
  }

  /**
   * The guest of that type on that node, or PVE's 500 for a config file that is not there (a vmid on another
   * node or of the other type gives the same error, as on a real node).
   */
  requireGuest(node: string, type: GuestType, vmid: number): SimGuest {
    const guest = this.guestMap.get(vmid);
    if (!guest || guest.node !== node || guest.type !== type) {
      throw PveError.internal(
        `Configuration file 'nodes/${node}/${CONFIG_DIR[type]}/${vmid}.conf' does not exist`,
      );
    }
    return guest;
  }

  /** First free vmid from `lower` (datacenter.cfg next-id default range starts at 100). */
  nextFreeVmid(lower = 100): number {
    let vmid = lower;
    while (this.guestMap.has(vmid)) vmid++;
    return vmid;
  }

  setRunning(guest: SimGuest, running: boolean, now = Math.floor(Date.now() / 1000)): void {
    guest.status = running ? 'running' : 'stopped';
    guest.paused = false;
    guest.startedAt = running ? now : 0;
    guest.pid = running ? 10_000 + ((guest.vmid * 7919 + now) % 3_000_000) : 0;
  }

  /** Config digest: SHA-1 of the config text, as PVE computes it over the .conf file. */
  digest(guest: SimGuest): string {
    if (!guest.digest) {
      const text = Object.entries(guest.config)
        .map(([k, v]) => `${k}: ${v}\n`)
        .join('');
      guest.digest = createHash('sha1').update(text).digest('hex');
    }
    return guest.digest;
  }

  /** Changes config options (undefined deletes) and invalidates the digest. */
  updateConfig(guest: SimGuest, changes: Record<string, string | number | undefined>): void {
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete guest.config[key];
      else guest.config[key] = value;
    }
    guest.digest = undefined;
  }

  // ------------------------------------------------------------------ storage

  storages(): SimStorage[] {
    return [...this.storageMap.values()];
  }

  storage(id: string): SimStorage | undefined {
    return this.storageMap.get(id);
  }

  /** Listed content of a storage as seen from `node` (local storages differ per node). */
  volumes(node: string, storage: SimStorage): SimVolume[] {
    const stored = this.volumeMap.get(this.storageKey(node, storage)) ?? [];
    if (storage.type !== 'lvmthin') return stored;
    return [...stored, ...this.guestsOn(node).map((g) => this.guestVolume(storage.storage, g))];
  }

  addVolume(node: string, storage: SimStorage, volume: SimVolume): void {
    const key = this.storageKey(node, storage);
    const list = this.volumeMap.get(key) ?? [];
    list.push(volume);
    this.volumeMap.set(key, list);
  }

  usage(node: string, storage: SimStorage): { total: number; used: number; avail: number } {
    const listed = this.volumes(node, storage).reduce((sum, v) => sum + (v.used ?? v.size), 0);
    const used = Math.min(storage.total, (this.baseUsed.get(this.storageKey(node, storage)) ?? 0) + listed);
    return { total: storage.total, used, avail: storage.total - used };
  }

  // ------------------------------------------------------------------ network

  networkInterfaces(node: string): SimNetworkInterface[] {
    return this.networkMap.get(node) ?? [];
  }

  private storageKey(node: string, storage: SimStorage): string {
    return storage.shared ? storage.storage : `${storage.storage}@${node}`;
  }

  private guestVolume(storageId: string, guest: SimGuest): SimVolume {
    return {
      volid: `${storageId}:vm-${guest.vmid}-disk-0`,
      content: guest.type === 'qemu' ? 'images' : 'rootdir',
      format: 'raw',
      size: guest.diskBytes,
      // thin volumes use only part of their size
      used: Math.round(guest.diskBytes * 0.35),
      ctime: guest.createdAt,
      vmid: guest.vmid,
    };
  }
}
