import { createHash } from 'node:crypto';
import { Prng } from './prng.js';
import type {
  GuestType,
  SimGuest,
  SimNetworkInterface,
  SimNode,
  SimStorage,
  SimVolume,
} from './cluster-model.js';
import { ClusterState } from './cluster-state.js';

/**
 * Builds the initial cluster, deterministic from the seed: nodes pve1..pveN, guests (vmids from 100, qemu and lxc
 * alternating, spread round-robin over the nodes), storages local / local-lvm / nas with ISOs, templates and
 * backups, and two bridges per node. Field values follow captures of real PVE 9 answers (proxmox-api.md §7, §12, §14).
 *
 * Guests with a role, by index (vmid = 100 + index), when the cluster has that many:
 *   0 (VM 100, running)  agent enabled and running; snapshots before-upgrade → after-upgrade (with RAM)
 *   1 (CT 101)           snapshot `initial`
 *   4 (VM 104, stopped)  a plain stopped VM
 *   6 (VM 106, running)  agent enabled in the config but not running in the guest
 *   8 (VM 108)           a template (base volume, stopped)
 *  10 (VM 110, running)  `protection: 1`
 */
export interface SeedOptions {
  nodes: number;
  guests: number;
  standalone: boolean;
  seed: number;
}

const GiB = 1024 ** 3;
/** 2025-01-15T02:00:00Z: content and guest creation times lie before this. */
const BASE_EPOCH = 1736906400;

const CPU_MODELS = [
  { model: 'AMD EPYC 7302P 16-Core Processor', sockets: 1, cores: 16, cpus: 32, mhz: '3000.000' },
  { model: 'Intel(R) Xeon(R) Silver 4214R CPU @ 2.40GHz', sockets: 2, cores: 12, cpus: 48, mhz: '2400.000' },
  { model: 'Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz', sockets: 1, cores: 6, cpus: 12, mhz: '3200.000' },
];
const QEMU_NAMES = ['web', 'db', 'app', 'cache', 'mail', 'dns', 'ci', 'monitor', 'proxy', 'files'];
const LXC_NAMES = ['nginx', 'redis', 'postgres', 'grafana', 'pihole', 'gitea', 'vault', 'minio'];
const TAGS = ['prod', 'staging', 'dev', 'prod;web', 'backup;prod', 'k8s'];
const QEMU_OSTYPES = ['l26', 'l26', 'l26', 'win11'];
const LXC_OSTYPES = ['debian', 'ubuntu', 'alpine'];

export function seedCluster(options: SeedOptions): ClusterState {
  const rng = new Prng(options.seed);
  const nodes = Array.from({ length: options.nodes }, (_, i) => makeNode(rng, i + 1));
  const guests: SimGuest[] = [];
  let lxcIndex = 0;
  for (let i = 0; i < options.guests; i++) {
    const type: GuestType = i % 2 === 0 ? 'qemu' : 'lxc';
    const node = nodes[i % nodes.length].name;
    guests.push(type === 'qemu' ? makeVm(rng, i, node) : makeContainer(rng, i, node, lxcIndex++));
  }
  giveRoles(guests);
  const storages = makeStorages();
  const volumes = new Map<string, SimVolume[]>();
  const baseUsed = new Map<string, number>();
  volumes.set('nas', nasContent(guests));
  baseUsed.set('nas', Math.round(1.2 * 1024 * GiB));
  for (const node of nodes) {
    volumes.set(`local@${node.name}`, localContent(guests.filter((g) => g.node === node.name)));
    baseUsed.set(`local@${node.name}`, rng.int(8, 20) * GiB);
    baseUsed.set(`local-lvm@${node.name}`, 0);
  }
  const networks = new Map<string, SimNetworkInterface[]>(nodes.map((n) => [n.name, makeNetwork(n)]));
  return new ClusterState({
    clusterName: 'simcluster',
    standalone: options.standalone,
    nodes,
    guests,
    storages,
    volumes,
    baseUsed,
    networks,
    version: { version: '9.1.1', release: '9.1', repoid: rng.hex(16) },
    storageDigest: createHash('sha1').update(`storage.cfg:${options.seed}`).digest('hex'),
    pools: ['prod', 'lab'],
  });
}

/** The special guests listed at the top of this file (no PRNG draws, so other guests stay as they were). */
function giveRoles(guests: SimGuest[]): void {
  const at = (index: number): SimGuest | undefined => guests[index];
  const vm100 = at(0);
  if (vm100) {
    const first = BASE_EPOCH - 20 * 86400;
    const second = BASE_EPOCH - 2 * 86400;
    addSnapshot(vm100, 'before-upgrade', first, 'Before the kernel upgrade', undefined);
    addSnapshot(vm100, 'after-upgrade', second, 'Kernel 6.8 installed', 'before-upgrade', true);
    vm100.parent = 'after-upgrade';
  }
  const ct101 = at(1);
  if (ct101) {
    addSnapshot(ct101, 'initial', BASE_EPOCH - 10 * 86400, 'Fresh install', undefined);
    ct101.parent = 'initial';
  }
  const vm106 = at(6);
  if (vm106) vm106.agentAvailable = false;
  const vm108 = at(8);
  if (vm108) {
    vm108.template = true;
    vm108.status = 'stopped';
    vm108.startedAt = 0;
    vm108.pid = 0;
    vm108.config.scsi0 = String(vm108.config.scsi0).replace(/:vm-(\d+)-disk-/, ':base-$1-disk-');
  }
  const vm110 = at(10);
  if (vm110) vm110.config.protection = 1;
}

function addSnapshot(
  guest: SimGuest,
  name: string,
  snaptime: number,
  description: string,
  parent: string | undefined,
  withRam = false,
): void {
  const { description: _description, ...config } = guest.config;
  guest.snapshots.set(name, {
    name,
    snaptime,
    description,
    ...(parent ? { parent } : {}),
    ...(withRam
      ? {
          vmstate: `local-lvm:vm-${guest.vmid}-state-${name}`,
          config: { ...config, runningmachine: 'pc-i440fx-9.2+pve1', runningcpu: 'qemu64,+aes' },
        }
      : { config }),
  });
}

function makeNode(rng: Prng, index: number): SimNode {
  const cpu = rng.pick(CPU_MODELS);
  const memTotal = rng.pick([64, 128, 256]) * GiB;
  const now = Math.floor(Date.now() / 1000);
  return {
    name: `pve${index}`,
    nodeid: index,
    ip: `10.10.0.${10 + index}`,
    online: true,
    cpuModel: cpu.model,
    sockets: cpu.sockets,
    cores: cpu.cores,
    cpus: cpu.cpus,
    mhz: cpu.mhz,
    memTotal,
    swapTotal: 8 * GiB,
    rootfsTotal: 100 * GiB,
    rootfsUsed: rng.int(6, 30) * GiB,
    baseMemUsed: rng.int(3, 8) * GiB,
    bootTime: now - rng.int(2, 90) * 86400 - rng.int(0, 86399),
    cpuLoad: Math.round(rng.next() * 0.3 * 1e6) / 1e6,
    sslFingerprint: Array.from({ length: 32 }, () => rng.hex(2).toUpperCase()).join(':'),
  };
}

function mac(rng: Prng): string {
  // BC:24:11 is the prefix PVE uses for generated MACs
  return ['BC', '24', '11', rng.hex(2), rng.hex(2), rng.hex(2)].join(':').toUpperCase();
}

function baseGuest(rng: Prng, index: number, node: string, type: GuestType): SimGuest {
  const running = index % 5 < 3; // 60 % running, deterministic so small clusters always have both states
  const now = Math.floor(Date.now() / 1000);
  const guest: SimGuest = {
    type,
    vmid: 100 + index,
    node,
    status: running ? 'running' : 'stopped',
    paused: false,
    config: {},
    startedAt: running ? now - rng.int(600, 30 * 86400) : 0,
    pid: running ? rng.int(1000, 4_000_000) : 0,
    template: false,
    cpuLoad: Math.round(rng.next() * 0.2 * 1e6) / 1e6,
    memFraction: 0.3 + rng.next() * 0.5,
    counters: {
      diskread: rng.int(1e8, 9e9),
      diskwrite: rng.int(1e8, 9e9),
      netin: rng.int(1e7, 5e9),
      netout: rng.int(1e7, 5e9),
    },
    diskBytes: 0,
    createdAt: BASE_EPOCH - rng.int(30, 700) * 86400,
    snapshots: new Map(),
    ...(type === 'qemu' ? { agentAvailable: true } : {}),
  };
  return guest;
}

function makeVm(rng: Prng, index: number, node: string): SimGuest {
  const guest = baseGuest(rng, index, node, 'qemu');
  const diskGiB = rng.pick([16, 32, 64]);
  guest.diskBytes = diskGiB * GiB;
  const tags = rng.chance(0.35) ? rng.pick(TAGS) : undefined;
  guest.config = {
    agent: '1',
    boot: 'order=scsi0;ide2;net0',
    cores: rng.pick([1, 2, 4]),
    cpu: 'x86-64-v2-AES',
    ide2:
      index % 4 === 0 ? 'nas:iso/debian-12.7.0-amd64-netinst.iso,media=cdrom,size=631M' : 'none,media=cdrom',
    memory: String(rng.pick([1024, 2048, 4096, 8192])),
    meta: `creation-qemu=9.2.0,ctime=${guest.createdAt}`,
    name: `${QEMU_NAMES[index % QEMU_NAMES.length]}-${String(index + 1).padStart(2, '0')}`,
    net0: `virtio=${mac(rng)},bridge=vmbr0,firewall=1`,
    numa: 0,
    ostype: rng.pick(QEMU_OSTYPES),
    scsi0: `local-lvm:vm-${guest.vmid}-disk-0,iothread=1,size=${diskGiB}G`,
    scsihw: 'virtio-scsi-single',
    smbios1: `uuid=${uuid(rng)}`,
    sockets: 1,
    vmgenid: uuid(rng),
    ...(tags ? { tags } : {}),
  };
  return guest;
}

function makeContainer(rng: Prng, index: number, node: string, lxcIndex: number): SimGuest {
  const guest = baseGuest(rng, index, node, 'lxc');
  const diskGiB = rng.pick([4, 8, 16]);
  guest.diskBytes = diskGiB * GiB;
  const address = `10.20.${Math.floor(lxcIndex / 250)}.${(lxcIndex % 250) + 2}`;
  guest.ipv4 = `${address}/16`;
  const staticIp = lxcIndex % 3 === 2;
  const ip = staticIp ? `ip=${address}/16,gw=10.20.0.1` : 'ip=dhcp';
  const tags = rng.chance(0.35) ? rng.pick(TAGS) : undefined;
  guest.config = {
    arch: 'amd64',
    cores: rng.pick([1, 2]),
    features: 'nesting=1',
    hostname: `${LXC_NAMES[lxcIndex % LXC_NAMES.length]}-${String(index + 1).padStart(2, '0')}`,
    memory: rng.pick([256, 512, 1024, 2048]),
    net0: `name=eth0,bridge=vmbr0,firewall=1,hwaddr=${mac(rng)},${ip},type=veth`,
    ostype: rng.pick(LXC_OSTYPES),
    rootfs: `local-lvm:vm-${guest.vmid}-disk-0,size=${diskGiB}G`,
    swap: 512,
    unprivileged: 1,
    ...(tags ? { tags } : {}),
  };
  return guest;
}

function uuid(rng: Prng): string {
  const h = rng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function makeStorages(): SimStorage[] {
  return [
    {
      storage: 'local',
      type: 'dir',
      content: ['iso', 'vztmpl', 'backup'],
      shared: false,
      options: { path: '/var/lib/vz' },
      total: 100 * GiB,
    },
    {
      storage: 'local-lvm',
      type: 'lvmthin',
      content: ['images', 'rootdir'],
      shared: false,
      options: { thinpool: 'data', vgname: 'pve' },
      total: 800 * GiB,
    },
    {
      storage: 'nas',
      type: 'nfs',
      content: ['iso', 'backup', 'vztmpl', 'images'],
      shared: true,
      options: { path: '/mnt/pve/nas', server: '10.10.0.5', export: '/export/pve', options: 'vers=4.2' },
      total: 4096 * GiB,
    },
  ];
}

function backupTimestamp(epoch: number): string {
  const d = new Date(epoch * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}-${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}`;
}

function backupVolume(storage: string, guest: SimGuest, ctime: number, isProtected: boolean): SimVolume {
  const ext = guest.type === 'qemu' ? 'vma.zst' : 'tar.zst';
  return {
    volid: `${storage}:backup/vzdump-${guest.type}-${guest.vmid}-${backupTimestamp(ctime)}.${ext}`,
    content: 'backup',
    format: ext,
    size: Math.round(guest.diskBytes * 0.18),
    ctime,
    vmid: guest.vmid,
    notes: String(guest.config.name ?? guest.config.hostname),
    subtype: guest.type,
    ...(isProtected ? { protected: 1 } : {}),
    // what a restore recreates (the config as it was at seed time)
    backup: { type: guest.type, config: { ...guest.config }, template: guest.template },
  };
}

function nasContent(guests: SimGuest[]): SimVolume[] {
  const volumes: SimVolume[] = [
    {
      volid: 'nas:iso/debian-12.7.0-amd64-netinst.iso',
      content: 'iso',
      format: 'iso',
      size: 661651456,
      ctime: BASE_EPOCH - 90 * 86400,
    },
    {
      volid: 'nas:iso/ubuntu-24.04.1-live-server-amd64.iso',
      content: 'iso',
      format: 'iso',
      size: 2773874688,
      ctime: BASE_EPOCH - 60 * 86400,
    },
    {
      volid: 'nas:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
      content: 'vztmpl',
      format: 'tzst',
      size: 126702776,
      ctime: BASE_EPOCH - 80 * 86400,
    },
    {
      volid: 'nas:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst',
      content: 'vztmpl',
      format: 'tzst',
      size: 141613034,
      ctime: BASE_EPOCH - 50 * 86400,
    },
  ];
  // two nightly backups for each of the first four guests; the oldest one of the first guest is protected
  for (const [i, guest] of guests.slice(0, 4).entries()) {
    for (const day of [1, 0]) {
      volumes.push(backupVolume('nas', guest, BASE_EPOCH - day * 86400 + i * 37, i === 0 && day === 1));
    }
  }
  return volumes;
}

function localContent(guestsOnNode: SimGuest[]): SimVolume[] {
  const volumes: SimVolume[] = [
    {
      volid: 'local:iso/virtio-win-0.1.266.iso',
      content: 'iso',
      format: 'iso',
      size: 739573760,
      ctime: BASE_EPOCH - 40 * 86400,
    },
    {
      volid: 'local:vztmpl/alpine-3.21-default_20241217_amd64.tar.xz',
      content: 'vztmpl',
      format: 'txz',
      size: 3174796,
      ctime: BASE_EPOCH - 30 * 86400,
    },
  ];
  const first = guestsOnNode[0];
  if (first) volumes.push(backupVolume('local', first, BASE_EPOCH - 7 * 86400, false));
  return volumes;
}

function makeNetwork(node: SimNode): SimNetworkInterface[] {
  return [
    {
      iface: 'eno1',
      type: 'eth',
      method: 'manual',
      method6: 'manual',
      families: ['inet'],
      active: 1,
      exists: 1,
      priority: 3,
    },
    {
      iface: 'eno2',
      type: 'eth',
      method: 'manual',
      method6: 'manual',
      families: ['inet'],
      active: 1,
      exists: 1,
      priority: 4,
    },
    {
      iface: 'vmbr0',
      type: 'bridge',
      method: 'static',
      method6: 'manual',
      families: ['inet'],
      active: 1,
      autostart: 1,
      bridge_ports: 'eno1',
      bridge_stp: 'off',
      bridge_fd: '0',
      cidr: `${node.ip}/24`,
      address: node.ip,
      netmask: '24',
      gateway: '10.10.0.1',
      priority: 5,
    },
    {
      iface: 'vmbr1',
      type: 'bridge',
      method: 'manual',
      method6: 'manual',
      families: ['inet'],
      active: 1,
      autostart: 1,
      bridge_ports: 'eno2',
      bridge_stp: 'off',
      bridge_fd: '0',
      bridge_vlan_aware: 1,
      comments: 'VM traffic (VLAN aware)\n',
      priority: 6,
    },
  ];
}
