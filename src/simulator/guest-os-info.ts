import type { SimGuest } from './cluster-model.js';

/**
 * What a simulated guest's OS is and reports through the agent (guest-get-osinfo, guest-get-host-name,
 * guest-network-get-interfaces): Debian 12, or Windows for ostype w*. guest-os.ts prints the same facts.
 */

export const isWindows = (guest: SimGuest) => /^w/.test(String(guest.config.ostype ?? ''));

export function hostName(guest: SimGuest): string {
  return String(guest.config.name ?? `vm${guest.vmid}`);
}

export const KERNEL = {
  release: '6.1.0-28-amd64',
  version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)',
};

export const OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`;

/** guest-get-osinfo. */
export function osInfo(guest: SimGuest): Record<string, string> {
  if (isWindows(guest)) {
    const win10 = guest.config.ostype === 'win10';
    return {
      id: 'mswindows',
      'kernel-release': win10 ? '19045' : '22631',
      'kernel-version': '10.0',
      machine: 'x86_64',
      name: 'Microsoft Windows',
      'pretty-name': win10 ? 'Windows 10 Pro' : 'Windows 11 Pro',
      variant: 'client',
      'variant-id': 'client',
      version: win10 ? 'Microsoft Windows 10' : 'Microsoft Windows 11',
      'version-id': win10 ? '10' : '11',
    };
  }
  return {
    id: 'debian',
    'kernel-release': KERNEL.release,
    'kernel-version': KERNEL.version,
    machine: 'x86_64',
    name: 'Debian GNU/Linux',
    'pretty-name': 'Debian GNU/Linux 12 (bookworm)',
    version: '12 (bookworm)',
    'version-id': '12',
  };
}

export function hostNameInfo(guest: SimGuest): Record<string, string> {
  return { 'host-name': hostName(guest) };
}

/** The guest's IPv4 on a NIC: the cloud-init static address, else a DHCP lease derived from the vmid. */
export function guestIpv4(guest: SimGuest, index: number): { address: string; prefix: number } {
  const ip = /(?:^|,)ip=(\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(String(guest.config[`ipconfig${index}`] ?? ''));
  if (ip) return { address: ip[1], prefix: Number(ip[2]) };
  const n = guest.vmid + index * 7;
  return { address: `10.30.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`, prefix: 16 };
}

function linkLocal(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  if (b.length !== 6 || b.some(Number.isNaN)) return 'fe80::1';
  const words = [((b[0] ^ 2) << 8) | b[1], (b[2] << 8) | 0xff, 0xfe00 | b[3], (b[4] << 8) | b[5]];
  return `fe80::${words.map((w) => w.toString(16)).join(':')}`;
}

/** guest-network-get-interfaces: loopback plus one interface per netN, with addresses and counters. */
export function networkInterfaces(guest: SimGuest): unknown[] {
  const stats = (seed: number) => ({
    'rx-bytes': guest.counters.netin + seed,
    'rx-dropped': 0,
    'rx-errs': 0,
    'rx-packets': Math.round(guest.counters.netin / 900) + seed,
    'tx-bytes': guest.counters.netout + seed,
    'tx-dropped': 0,
    'tx-errs': 0,
    'tx-packets': Math.round(guest.counters.netout / 900) + seed,
  });
  const win = isWindows(guest);
  const out: unknown[] = [
    {
      name: win ? 'Loopback Pseudo-Interface 1' : 'lo',
      'hardware-address': '00:00:00:00:00:00',
      'ip-addresses': [
        { 'ip-address-type': 'ipv4', 'ip-address': '127.0.0.1', prefix: 8 },
        { 'ip-address-type': 'ipv6', 'ip-address': '::1', prefix: 128 },
      ],
      statistics: stats(0),
    },
  ];
  const nets = Object.keys(guest.config)
    .filter((k) => /^net\d+$/.test(k))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
  for (const [i, key] of nets.entries()) {
    const index = Number(key.slice(3));
    const mac = (
      /=([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})/.exec(String(guest.config[key]))?.[1] ?? ''
    ).toLowerCase();
    const ip = guestIpv4(guest, index);
    out.push({
      name: win ? (i === 0 ? 'Ethernet' : `Ethernet ${i + 1}`) : `ens${18 + index}`,
      'hardware-address': mac,
      'ip-addresses': [
        { 'ip-address-type': 'ipv4', 'ip-address': ip.address, prefix: ip.prefix },
        { 'ip-address-type': 'ipv6', 'ip-address': linkLocal(mac), prefix: 64 },
      ],
      statistics: stats(index + 1),
    });
  }
  return out;
}
