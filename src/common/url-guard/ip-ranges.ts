import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Which IP addresses a Proxmox node may be sent to fetch from on a caller's behalf: public unicast only. The ranges
 * are the IANA special-purpose registries (IPv4 and IPv6) minus nothing: loopback, RFC 1918 and ULA private space,
 * link-local (with the cloud metadata addresses 169.254.169.254 and fd00:ec2::254), CGNAT, multicast, documentation,
 * benchmarking, reserved and unspecified. node:net's BlockList does the prefix matching, so no address arithmetic
 * is hand-rolled here; IPv4 addresses embedded in IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96) are judged as the
 * IPv4 address they carry.
 */
const IPV4_BLOCKED: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata lives here)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation (TEST-NET-1)'],
  ['192.88.99.0', 24, 'reserved (6to4 relay)'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking (RFC 2544)'],
  ['198.51.100.0', 24, 'documentation (TEST-NET-2)'],
  ['203.0.113.0', 24, 'documentation (TEST-NET-3)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (incl. broadcast)'],
];

/** Inside 2000::/3 (global unicast), the special blocks; everything outside 2000::/3 is refused anyway. */
const IPV6_BLOCKED: Array<[string, number, string]> = [
  ['2001::', 23, 'IETF protocol assignments (Teredo, ORCHID, …)'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4 (can embed any IPv4 address)'],
  ['3fff::', 20, 'documentation'],
];

/** Named ranges outside 2000::/3, for a clear refusal text. */
const IPV6_NAMED: Array<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'unique local (private; cloud metadata fd00:ec2::254 lives here)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

function table(
  entries: Array<[string, number, string]>,
  family: 'ipv4' | 'ipv6',
): Array<[BlockList, string]> {
  return entries.map(([net, prefix, why]) => {
    const list = new BlockList();
    list.addSubnet(net, prefix, family);
    return [list, why];
  });
}

const V4 = table(IPV4_BLOCKED, 'ipv4');
const V6 = table(IPV6_BLOCKED, 'ipv6');
const V6_NAMED = table(IPV6_NAMED, 'ipv6');
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');
const NAT64 = new BlockList();
NAT64.addSubnet('64:ff9b::', 96, 'ipv6');

/** The 16 bytes of an IPv6 address (node:net has validated it already). */
function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.flatMap((g) => {
    const n = parseInt(g || '0', 16);
    return [n >> 8, n & 0xff];
  });
}

/** The IPv4 address an IPv4-mapped (::ffff:0:0/96) or NAT64 (64:ff9b::/96) IPv6 address carries. */
function embeddedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address);
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (!mapped && !NAT64.check(address, 'ipv6')) return undefined;
  return bytes.slice(12).join('.');
}

/**
 * Why a node must not be sent to this address, or undefined when it is public unicast. `address` is a literal IP
 * (v4 or v6, no brackets); anything else is refused as "not an IP address".
 */
export function blockedAddressReason(address: string): string | undefined {
  if (isIPv4(address)) {
    return V4.find(([list]) => list.check(address, 'ipv4'))?.[1];
  }
  if (!isIPv6(address)) return 'not an IP address';
  const v4 = embeddedIpv4(address);
  if (v4 !== undefined) {
    const inner = blockedAddressReason(v4);
    return inner ? `${inner}, as an IPv4 address inside IPv6` : undefined;
  }
  const named = V6_NAMED.find(([list]) => list.check(address, 'ipv6'))?.[1];
  if (named) return named;
  if (!GLOBAL_UNICAST.check(address, 'ipv6')) return 'reserved (not global unicast)';
  return V6.find(([list]) => list.check(address, 'ipv6'))?.[1];
}
