/**
 * The cluster-wide services beside guests and storage: storage replication jobs (replication.cfg and their state
 * files), SDN zones and VNets (sdn/*.cfg), pending package updates per node (the apt cache), and Ceph (absent
 * unless a test turns it on). Deterministic from the node and guest names, so every run sees the same state.
 */

export interface SimReplicationJob {
  /** `<vmid>-<jobnum>` */
  id: string;
  guest: number;
  jobnum: number;
  target: string;
  schedule: string;
  comment?: string;
  disable?: boolean;
  /** Epoch seconds of the last successful run (0: never ran). */
  lastSync: number;
  /** Seconds the last run took. */
  duration: number;
  failCount: number;
  /** The last run's error; set while failCount > 0. */
  error?: string;
}

export interface SimSdnZone {
  zone: string;
  type: 'simple' | 'vlan' | 'vxlan' | 'evpn' | 'qinq';
  bridge?: string;
  peers?: string;
  mtu?: number;
  ipam?: string;
  nodes?: string;
  /** Set while the zone's change is not applied yet (PVE's `pending` view). */
  state?: 'new' | 'changed' | 'deleted';
}

export interface SimSdnVnet {
  vnet: string;
  zone: string;
  tag?: number;
  alias?: string;
  vlanaware?: boolean;
  state?: 'new' | 'changed' | 'deleted';
}

/** One row of GET /nodes/{node}/apt/update (the field names are apt's). */
export interface SimPackageUpdate {
  Package: string;
  Title: string;
  Description: string;
  Origin: string;
  Priority: string;
  Section: string;
  Arch: 'amd64' | 'all';
  OldVersion: string;
  Version: string;
}

/** `absent`: no Ceph packages (PVE's default); otherwise the health a configured Ceph cluster reports. */
export type SimCephMode = 'absent' | 'HEALTH_OK' | 'HEALTH_WARN';

const SEED_EPOCH = 1736906400;

const PACKAGES: readonly SimPackageUpdate[] = [
  {
    Package: 'pve-manager',
    Title: 'Proxmox Virtual Environment Management Tools',
    Description: 'This package contains the Proxmox Virtual Environment management tools.',
    Origin: 'Proxmox',
    Priority: 'optional',
    Section: 'admin',
    Arch: 'all',
    OldVersion: '9.1.1',
    Version: '9.1.2',
  },
  {
    Package: 'proxmox-kernel-6.17',
    Title: 'Latest Proxmox Kernel Image',
    Description:
      'This is a metapackage which will install the kernel image for the default Proxmox kernel series.',
    Origin: 'Proxmox',
    Priority: 'optional',
    Section: 'admin',
    Arch: 'all',
    OldVersion: '6.17.2-1',
    Version: '6.17.2-2',
  },
  {
    Package: 'openssl',
    Title: 'Secure Sockets Layer toolkit - cryptographic utility',
    Description: 'This package is part of the OpenSSL project implementation of the SSL and TLS protocols.',
    Origin: 'Debian',
    Priority: 'optional',
    Section: 'utils',
    Arch: 'amd64',
    OldVersion: '3.5.1-1',
    Version: '3.5.1-1+deb13u1',
  },
  {
    Package: 'tzdata',
    Title: 'time zone and daylight-saving time data',
    Description: 'This package contains data required for the implementation of standard local time.',
    Origin: 'Debian',
    Priority: 'required',
    Section: 'localization',
    Arch: 'all',
    OldVersion: '2025b-4',
    Version: '2025b-4+deb13u1',
  },
];

export class ClusterServicesState {
  ceph: SimCephMode = 'absent';
  readonly replicationJobs: SimReplicationJob[];
  readonly sdnZones: SimSdnZone[];
  readonly sdnVnets: SimSdnVnet[];
  /** Pending updates by node name; a node missing here has none. */
  readonly updates: Map<string, SimPackageUpdate[]>;

  constructor(nodes: readonly string[], guests: ReadonlyArray<{ vmid: number; node: string }>) {
    const next = (node: string): string => nodes[(nodes.indexOf(node) + 1) % nodes.length];
    // replication needs a second node: guest 0 replicates fine, guest 2 (a VM too in the alternating seed) fails
    const replicated = nodes.length > 1 ? guests.slice(0, 3).filter((_, i) => i !== 1) : [];
    this.replicationJobs = replicated.map((g, i) => ({
      id: `${g.vmid}-0`,
      guest: g.vmid,
      jobnum: 0,
      target: next(g.node),
      schedule: i === 0 ? '*/15' : '*/30',
      lastSync: SEED_EPOCH - (i === 0 ? 300 : 7200),
      duration: i === 0 ? 4.2 : 11.8,
      failCount: i,
      ...(i === 1
        ? { error: `command 'zfs recv -F -- rpool/data/vm-${g.vmid}-disk-0' failed: exit code 1` }
        : { comment: 'hourly DR copy' }),
    }));
    this.sdnZones = [
      { zone: 'localnet', type: 'simple', ipam: 'pve' },
      { zone: 'vlanzone', type: 'vlan', bridge: 'vmbr0', ipam: 'pve', mtu: 1500 },
      {
        zone: 'overlay',
        type: 'vxlan',
        peers: nodes.map((_, i) => `10.0.0.${11 + i}`).join(','),
        mtu: 1450,
        state: 'new',
      },
    ];
    this.sdnVnets = [
      { vnet: 'vnet10', zone: 'vlanzone', tag: 10, alias: 'prod' },
      { vnet: 'vnet20', zone: 'vlanzone', tag: 20, alias: 'lab', vlanaware: true },
      { vnet: 'ovl100', zone: 'overlay', tag: 100000, state: 'new' },
    ];
    // the first node misses only a Debian security fix; the others Proxmox updates too
    this.updates = new Map(
      nodes.map((node, i) => [node, PACKAGES.slice(i === 0 ? 2 : 0, i === 0 ? 3 : 2 + (i % 3))]),
    );
  }
}
