import { createHash } from 'node:crypto';
import type {
  ClusterSeedData,
  GuestConfig,
  GuestType,
  SimGuest,
  SimNetworkInterface,
  SimNode,
  SimPool,
  SimStorage,
  SimVolume,
} from './cluster-model.js';
import { BackupJobsState } from './backup-jobs-state.js';
import { ClusterServicesState } from './cluster-services-state.js';
import { HaState } from './ha-state.js';
import { configVolumes, volumeFormat, volumeOwner, volumeStorage } from './guest-volumes.js';
import { PveError } from './pve-error.js';

const CONFIG_DIR: Record<GuestType, string> = { qemu: 'qemu-server', lxc: 'lxc' };

/**
 * The simulated cluster: nodes, guests, storages and their content, held in maps so a lookup costs O(1) even with
 * thousands of guests. seed.ts builds the initial state; views.ts turns it into PVE's JSON shapes; handlers and the
 * task runner change it. Tests reach it as `sim.cluster`.
 */
export class ClusterState {
  readonly clusterName: string;
  readonly standalone: boolean;
  /** The node the simulator "is": requests for other nodes are proxied (and fail when that node is offline). */
  readonly localNode: string;
  readonly version: { version: string; release: string; repoid: string };
  readonly storageDigest: string;
  /** Resource pools (user.cfg) by id; create/clone with `pool` need one. Guest members: `SimGuest.pool`. */
  readonly pools: Map<string, SimPool>;
  /** Replication jobs, SDN, pending updates and Ceph: read by the cluster-services tools. */
  readonly services: ClusterServicesState;
  /** HA resources (/etc/pve/ha/resources.cfg); the manager's status is computed from them and the nodes. */
  readonly ha = new HaState();
  /** Scheduled backup jobs (/etc/pve/jobs.cfg `vzdump` sections). */
  readonly backupJobs = new BackupJobsState();
  /**
   * Bytes of stdout/stderr the guest agent keeps per command; more sets `out-truncated`/`err-truncated`
   * (qemu-ga GUEST_EXEC_MAX_OUTPUT, 16 MiB). Tests lower it to exercise truncation cheaply.
   */
  agentOutputLimit = 16 * 1024 * 1024;

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
    this.pools = new Map((data.pools ?? []).map((id) => [id, { storages: new Set<string>() }]));
    for (const node of data.nodes) {
      this.nodeMap.set(node.name, node);
      this.guestsByNode.set(node.name, new Set());
    }
    this.localNode = data.nodes[0].name;
    for (const guest of data.guests) this.addGuest(guest);
    this.services = new ClusterServicesState(
      data.nodes.map((n) => n.name),
      data.guests,
    );
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

  /** Moves a guest's config to another node (clone to a target node, migration). */
  moveGuest(guest: SimGuest, node: string): void {
    const target = this.guestsByNode.get(node);
    if (!target) throw new Error(`moveGuest: no node '${node}'`);
    this.guestsByNode.get(guest.node)?.delete(guest);
    guest.node = node;
    target.add(guest);
  }

  /** The guest with that vmid, or an Error naming it (test helpers). */
  private mustGuest(vmid: number, caller: string): SimGuest {
    const guest = this.guestMap.get(vmid);
    if (!guest) throw new Error(`${caller}: no guest ${vmid}`);
    return guest;
  }

  /**
   * Starts or stops qemu-guest-agent inside a VM's OS. It answers only while the VM runs, is not paused and has
   * `agent` enabled in its config; stopping it makes agent calls fail with "QEMU guest agent is not running".
   */
  setAgentRunning(vmid: number, running: boolean): void {
    const guest = this.mustGuest(vmid, 'setAgentRunning');
    if (guest.type !== 'qemu') throw new Error(`setAgentRunning: ${vmid} is a container`);
    guest.agentAvailable = running;
    if (!running) guest.processes?.clear();
  }

  /** Makes a VM ignore ACPI shutdown requests (`shutdown` then times out unless forceStop). */
  setIgnoresShutdown(vmid: number, ignores: boolean): void {
    this.mustGuest(vmid, 'setIgnoresShutdown').ignoresShutdown = ignores;
  }

  /** Sets or clears a config lock, as a running backup or migration would hold it. */
  setLock(vmid: number, lock: string | undefined): void {
    this.mustGuest(vmid, 'setLock').lock = lock;
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
    // a new guest OS boot: the agent forgets the commands it ran
    guest.processes?.clear();
  }

  /** The .conf file as pmxcfs stores it: current options, `[PENDING]`, then one section per snapshot. */
  configText(guest: SimGuest): string {
    const lines = (config: GuestConfig) =>
      Object.entries(config)
        .map(([k, v]) => `${k}: ${v}\n`)
        .join('');
    let text = lines({
      ...guest.config,
      ...(guest.lock ? { lock: guest.lock } : {}),
      ...(guest.parent ? { parent: guest.parent } : {}),
      ...(guest.template ? { template: 1 } : {}),
    });
    if (guest.pending && (Object.keys(guest.pending).length || guest.pendingDelete?.size)) {
      const deletes = [...(guest.pendingDelete ?? [])].map(([k, force]) => (force ? `!${k}` : k));
      text += `\n[PENDING]\n${lines({ ...guest.pending, ...(deletes.length ? { delete: deletes.join(',') } : {}) })}`;
    }
    for (const snap of guest.snapshots.values()) {
      text += `\n[${snap.name}]\n${lines({
        ...snap.config,
        ...(snap.description ? { description: snap.description } : {}),
        ...(snap.parent ? { parent: snap.parent } : {}),
        snaptime: snap.snaptime,
        ...(snap.snapstate ? { snapstate: snap.snapstate } : {}),
        ...(snap.vmstate ? { vmstate: snap.vmstate } : {}),
      })}`;
    }
    return text;
  }

  /** Config digest: SHA-1 of the config file, as PVE computes it; any change (lock, snapshots) changes it. */
  digest(guest: SimGuest): string {
    return createHash('sha1').update(this.configText(guest)).digest('hex');
  }

  /** Changes config options (undefined deletes). */
  updateConfig(guest: SimGuest, changes: Record<string, string | number | undefined>): void {
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete guest.config[key];
      else guest.config[key] = value;
    }
  }

  // ------------------------------------------------------------------ storage

  storages(): SimStorage[] {
    return [...this.storageMap.values()];
  }

  storage(id: string): SimStorage | undefined {
    return this.storageMap.get(id);
  }

  /** Adds a storage.cfg entry (tests: a ZFS pool, a storage limited to some nodes, a disabled one). */
  addStorage(storage: SimStorage, baseUsedBytes = 0): void {
    if (this.storageMap.has(storage.storage)) throw new Error(`storage ${storage.storage} already exists`);
    this.storageMap.set(storage.storage, storage);
    for (const node of storage.shared ? [this.localNode] : this.nodeMap.keys()) {
      this.baseUsed.set(this.storageKey(node, storage), baseUsedBytes);
    }
  }

  /** PVE's storage_check_enabled: the error text when `node` cannot use the storage, else undefined. */
  storageUnavailable(storage: SimStorage, node: string): string | undefined {
    if (storage.disabled) return `storage '${storage.storage}' is disabled`;
    if (storage.nodes && !storage.nodes.includes(node)) {
      return `storage '${storage.storage}' is not available on node '${node}'`;
    }
    return undefined;
  }

  /**
   * Listed content of a storage as seen from `node` (local storages differ per node): stored content (ISOs,
   * templates, backups) plus the guest volumes that the configs on that node (all nodes, for shared storage)
   * reference.
   */
  volumes(node: string, storage: SimStorage): SimVolume[] {
    const stored = this.volumeMap.get(this.storageKey(node, storage)) ?? [];
    const guests = storage.shared ? [...this.guestMap.values()] : this.guestsOn(node);
    const seen = new Set<string>();
    const images: SimVolume[] = [];
    for (const guest of guests) {
      for (const ref of configVolumes(guest.type, guest.config)) {
        if (volumeStorage(ref.volid) !== storage.storage || seen.has(ref.volid)) continue;
        const owner = volumeOwner(ref.volid);
        // ISOs and other shared media are stored content, not this guest's volume
        if (owner === undefined) continue;
        seen.add(ref.volid);
        images.push({
          volid: ref.volid,
          content: guest.type === 'qemu' ? 'images' : 'rootdir',
          format: volumeFormat(ref.volid, storage.type, guest.type),
          size: ref.size,
          ctime: guest.createdAt,
          vmid: owner,
          // thin volumes use only part of their size
          ...(storage.type === 'lvmthin' || (storage.type === 'zfspool' && storage.sparse)
            ? { used: Math.round(ref.size * 0.35) }
            : {}),
        });
      }
    }
    return [...stored, ...images];
  }

  /** The volume ids in use on a storage as seen from `node` (to pick the next free disk name). */
  volumeIds(node: string, storage: SimStorage): Set<string> {
    return new Set(this.volumes(node, storage).map((v) => v.volid));
  }

  addVolume(node: string, storage: SimStorage, volume: SimVolume): void {
    const key = this.storageKey(node, storage);
    const list = this.volumeMap.get(key) ?? [];
    list.push(volume);
    this.volumeMap.set(key, list);
  }

  /** Removes a stored volume (ISO, template, backup) as seen from `node`; false when there is none by that id. */
  removeVolume(node: string, storage: SimStorage, volid: string): boolean {
    const list = this.volumeMap.get(this.storageKey(node, storage));
    const index = list?.findIndex((v) => v.volid === volid) ?? -1;
    if (!list || index < 0) return false;
    list.splice(index, 1);
    return true;
  }

  usage(node: string, storage: SimStorage): { total: number; used: number; avail: number } {
    const listed = this.volumes(node, storage).reduce((sum, v) => sum + (v.used ?? v.size), 0);
    return this.usageOf(node, storage, listed);
  }

  /**
   * Usage of every storage on every node from one pass over the guests (for /cluster/resources, which would
   * otherwise walk all guests once per node and shared storage).
   */
  usageIndex(): (node: string, storage: SimStorage) => { total: number; used: number; avail: number } {
    const listed = new Map<string, number>();
    const add = (key: string, bytes: number) => listed.set(key, (listed.get(key) ?? 0) + bytes);
    for (const [key, volumes] of this.volumeMap)
      add(
        key,
        volumes.reduce((sum, v) => sum + (v.used ?? v.size), 0),
      );
    for (const guest of this.guestMap.values()) {
      const seen = new Set<string>();
      for (const ref of configVolumes(guest.type, guest.config)) {
        const storage = this.storageMap.get(volumeStorage(ref.volid) ?? '');
        if (!storage || volumeOwner(ref.volid) === undefined || seen.has(ref.volid)) continue;
        seen.add(ref.volid);
        const thin = storage.type === 'lvmthin' || (storage.type === 'zfspool' && storage.sparse);
        add(this.storageKey(guest.node, storage), thin ? Math.round(ref.size * 0.35) : ref.size);
      }
    }
    return (node, storage) => this.usageOf(node, storage, listed.get(this.storageKey(node, storage)) ?? 0);
  }

  private usageOf(
    node: string,
    storage: SimStorage,
    listed: number,
  ): { total: number; used: number; avail: number } {
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
}
