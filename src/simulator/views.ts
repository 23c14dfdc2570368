import type { GuestConfig, SimGuest, SimNode, SimSnapshot, SimStorage } from './cluster-model.js';
import type { ClusterState } from './cluster-state.js';
import { agentEnabled } from './guest-agent.js';
import { MASKED_PASSWORD } from './qemu-config.js';

/**
 * PVE's JSON shapes for the state: /cluster/resources items, /nodes items, node and guest status. Field sets follow
 * real captures (proxmox-api.md §7, §14): integers stay numbers except where PVE sends strings (loadavg, mhz).
 */
type Json = Record<string, unknown>;

const MiB = 1024 * 1024;
const now = (): number => Math.floor(Date.now() / 1000);
const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;

export function guestName(guest: SimGuest): string {
  const name = guest.type === 'qemu' ? guest.config.name : guest.config.hostname;
  // vmstatus: qemu-server `"VM $vmid"`, pve-container `"CT$vmid"`
  return name === undefined ? (guest.type === 'qemu' ? `VM ${guest.vmid}` : `CT${guest.vmid}`) : String(name);
}

export function guestMaxCpu(guest: SimGuest): number {
  const cores = Number(guest.config.cores ?? 1);
  return guest.type === 'qemu' ? cores * Number(guest.config.sockets ?? 1) : cores;
}

export function guestMaxMem(guest: SimGuest): number {
  // qemu `memory` is a property string since PVE 8 (`[current=]<MiB>`)
  const text = String(guest.config.memory ?? 512);
  const mib = Number(/(?:current=)?(\d+)/.exec(text)?.[1] ?? 512);
  return mib * MiB;
}

function guestMem(guest: SimGuest): number {
  return guest.status === 'running' ? Math.round(guestMaxMem(guest) * guest.memFraction) : 0;
}

function guestDiskUsed(guest: SimGuest): number {
  // qemu cannot see inside the disk (PVE reports 0); a running container reports its filesystem usage
  return guest.type === 'lxc' && guest.status === 'running' ? Math.round(guest.diskBytes * 0.35) : 0;
}

/** Runtime numbers shared by list, status and resource items. */
function guestRuntime(guest: SimGuest): Json {
  const running = guest.status === 'running';
  return {
    cpu: running ? guest.cpuLoad : 0,
    mem: guestMem(guest),
    disk: guestDiskUsed(guest),
    diskread: running ? guest.counters.diskread : 0,
    diskwrite: running ? guest.counters.diskwrite : 0,
    netin: running ? guest.counters.netin : 0,
    netout: running ? guest.counters.netout : 0,
    uptime: running ? Math.max(0, now() - guest.startedAt) : 0,
  };
}

function optionalGuestFields(guest: SimGuest): Json {
  return {
    ...(guest.config.tags !== undefined ? { tags: String(guest.config.tags) } : {}),
    ...(guest.lock ? { lock: guest.lock } : {}),
  };
}

/** /cluster/resources carries the pool of a guest that is in one, and the HA state of an HA-managed one. */
function poolAndHaFields(guest: SimGuest): Json {
  return {
    ...(guest.pool ? { pool: guest.pool } : {}),
    ...(guest.hastate ? { hastate: guest.hastate } : {}),
  };
}

export function guestResource(guest: SimGuest, nodeOnline: boolean): Json {
  const base = {
    id: `${guest.type}/${guest.vmid}`,
    type: guest.type,
    vmid: guest.vmid,
    name: guestName(guest),
    node: guest.node,
    template: guest.template ? 1 : 0,
    maxcpu: guestMaxCpu(guest),
    maxmem: guestMaxMem(guest),
    maxdisk: guest.diskBytes,
    ...optionalGuestFields(guest),
    ...poolAndHaFields(guest),
  };
  // the cluster cannot know the state of a guest on an unreachable node
  if (!nodeOnline) return { ...base, status: 'unknown' };
  return { ...base, status: guest.status, ...guestRuntime(guest) };
}

/** GET /nodes/{node}/qemu and /lxc items (qemu-server / pve-container vmstatus). */
export function guestListItem(guest: SimGuest, full = false): Json {
  const running = guest.status === 'running';
  const item: Json = {
    vmid: guest.vmid,
    name: guestName(guest),
    status: guest.status,
    cpus: guestMaxCpu(guest),
    maxmem: guestMaxMem(guest),
    maxdisk: guest.diskBytes,
    ...guestRuntime(guest),
    ...optionalGuestFields(guest),
    ...(running ? { pid: guest.pid } : {}),
    ...(guest.template ? { template: 1 } : {}),
  };
  if (guest.type === 'lxc') {
    item.type = 'lxc';
    item.maxswap = Number(guest.config.swap ?? 0) * MiB;
    item.swap = 0;
  } else if (full) {
    item.qmpstatus = running ? (guest.paused ? 'paused' : 'running') : 'stopped';
  }
  return item;
}

/** GET …/status/current. */
export function guestCurrentStatus(guest: SimGuest): Json {
  const item = { ...guestListItem(guest), ha: { managed: 0 } };
  if (guest.type === 'qemu') {
    const running = guest.status === 'running';
    Object.assign(item, {
      qmpstatus: running ? (guest.paused ? 'paused' : 'running') : 'stopped',
      ...(agentEnabled(guest.config) ? { agent: 1 } : {}),
      ...(running
        ? {
            balloon: guestMaxMem(guest),
            freemem: guestMaxMem(guest) - guestMem(guest),
            'running-machine': 'pc-i440fx-9.2+pve1',
            'running-qemu': '9.2.0',
          }
        : {}),
    });
  }
  return item;
}

/** Host memory in use: the host's own share plus its running guests' (capped at 95 %). */
export function nodeMemUsed(node: SimNode, guests: Iterable<SimGuest>): number {
  let used = node.baseMemUsed;
  for (const guest of guests) used += guestMem(guest);
  return Math.min(used, Math.round(node.memTotal * 0.95));
}

/** Sums over all guests in one pass (for /cluster/resources and /nodes with thousands of guests). */
export function memUsedByNode(state: ClusterState): Map<string, number> {
  const perNode = new Map<string, number>();
  for (const guest of state.guests())
    perNode.set(guest.node, (perNode.get(guest.node) ?? 0) + guestMem(guest));
  const result = new Map<string, number>();
  for (const node of state.nodes()) {
    result.set(
      node.name,
      Math.min(node.baseMemUsed + (perNode.get(node.name) ?? 0), Math.round(node.memTotal * 0.95)),
    );
  }
  return result;
}

export function nodeResource(node: SimNode, memUsed: number): Json {
  const base = {
    id: `node/${node.name}`,
    type: 'node',
    node: node.name,
    status: node.online ? 'online' : 'offline',
  };
  if (!node.online) return base;
  return {
    ...base,
    level: '',
    'cgroup-mode': 2,
    cpu: node.cpuLoad,
    maxcpu: node.cpus,
    mem: memUsed,
    maxmem: node.memTotal,
    disk: node.rootfsUsed,
    maxdisk: node.rootfsTotal,
    uptime: now() - node.bootTime,
  };
}

/** GET /nodes item. */
export function nodeListItem(node: SimNode, memUsed: number): Json {
  const base = { ...nodeResource(node, memUsed), ssl_fingerprint: node.sslFingerprint };
  return node.online ? base : { ...base, level: '' };
}

export function storageResource(
  state: ClusterState,
  node: SimNode,
  storage: SimStorage,
  usageOf: ReturnType<ClusterState['usageIndex']> = (n, s) => state.usage(n, s),
): Json {
  const base = {
    id: `storage/${node.name}/${storage.storage}`,
    type: 'storage',
    storage: storage.storage,
    node: node.name,
    plugintype: storage.type,
    shared: storage.shared ? 1 : 0,
    content: storage.content.join(','),
  };
  if (!node.online) return { ...base, status: 'unknown' };
  const usage = usageOf(node.name, storage);
  return { ...base, status: 'available', disk: usage.used, maxdisk: usage.total };
}

/** GET /nodes/{node}/status. */
export function nodeStatus(state: ClusterState, node: SimNode): Json {
  const memUsed = nodeMemUsed(node, state.guestsOn(node.name));
  const load = node.cpuLoad * node.cpus;
  const release = '6.17.2-1-pve';
  const build = '#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)';
  return {
    uptime: now() - node.bootTime,
    idle: 0,
    cpu: node.cpuLoad,
    wait: round6(node.cpuLoad / 20),
    loadavg: [load, load * 0.9, load * 0.8].map((l) => l.toFixed(2)),
    cpuinfo: {
      model: node.cpuModel,
      cpus: node.cpus,
      cores: node.cores,
      sockets: node.sockets,
      mhz: node.mhz,
      hvm: '1',
      user_hz: 100,
      flags:
        'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm constant_tsc rep_good nopl xtopology cpuid pni pclmulqdq vmx ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm',
    },
    memory: {
      total: node.memTotal,
      used: memUsed,
      free: node.memTotal - memUsed,
      available: node.memTotal - memUsed,
    },
    swap: { total: node.swapTotal, used: 0, free: node.swapTotal },
    rootfs: {
      total: node.rootfsTotal,
      used: node.rootfsUsed,
      avail: node.rootfsTotal - node.rootfsUsed,
      free: node.rootfsTotal - node.rootfsUsed,
    },
    ksm: { shared: 0 },
    kversion: `Linux ${release} ${build} x86_64`,
    pveversion: `pve-manager/${state.version.version}/${state.version.repoid}`,
    'current-kernel': { sysname: 'Linux', release, version: build, machine: 'x86_64' },
    'boot-info': { mode: 'efi', secureboot: 0 },
  };
}

/** A `[snapname]` section as GET …/snapshot/{snapname}/config returns it. */
export function snapshotConfig(snap: SimSnapshot): GuestConfig {
  const config: GuestConfig = {
    ...snap.config,
    ...(snap.description !== undefined ? { description: snap.description } : {}),
    ...(snap.parent ? { parent: snap.parent } : {}),
    snaptime: snap.snaptime,
    ...(snap.snapstate ? { snapstate: snap.snapstate } : {}),
    ...(snap.vmstate ? { vmstate: snap.vmstate } : {}),
  };
  if (config.cipassword !== undefined) config.cipassword = MASKED_PASSWORD;
  return config;
}
