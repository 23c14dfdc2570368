import { isIPv6 } from 'node:net';
import { DomainError } from '../../common/errors/domain-error.js';

/**
 * A container network device as PVE stores it (`name=eth0,bridge=vmbr0,hwaddr=…,ip=dhcp,type=veth`): its pairs in
 * order, so an edit changes only the keys it means to (MAC, VLAN tag, firewall flag, rate and MTU are kept).
 */
export function parseCtNet(value: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) pairs.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return pairs;
}

export const formatCtNet = (pairs: Map<string, string>): string =>
  [...pairs.entries()].map(([k, v]) => `${k}=${v}`).join(',');

/** A static address (an IPv4/IPv6 CIDR), as opposed to dhcp, auto (SLAAC) or manual. */
export const isStaticIp = (ip: string | undefined): boolean =>
  ip !== undefined && ip !== '' && !['dhcp', 'manual', 'auto'].includes(ip);

/** The DTO pattern for IPv6 is loose; node:net decides whether the address is one. */
export function assertIpv6(field: string, value: string | undefined): void {
  if (value === undefined || value === '' || !value.includes(':')) {
    if (value !== undefined && value !== '' && !['auto', 'dhcp', 'manual'].includes(value)) {
      throw new DomainError('VALIDATION', `${field}: '${value}' is not an IPv6 address`);
    }
    return;
  }
  const address = value.split('/')[0];
  if (!isIPv6(address)) {
    throw new DomainError('VALIDATION', `${field}: '${address}' is not an IPv6 address`, {
      hint: `Give an address such as fd00::5${field.startsWith('gw') ? '' : '/64'}.`,
    });
  }
}

/** A gateway needs a static address of its family (PVE would keep a gateway nothing uses). */
export function assertGateway(
  field: string,
  gateway: string | undefined,
  ip: string | undefined,
  ipField: string,
) {
  if (gateway && !isStaticIp(ip)) {
    throw new DomainError(
      'VALIDATION',
      `${field} needs a static ${ipField} (e.g. ${ipField === 'ip' ? '10.0.0.5/24' : 'fd00::5/64'})`,
      {
        hint: `Set ${ipField} to a static address with it, or leave ${field} out with ${ipField} ${ip ?? 'unset'}.`,
      },
    );
  }
}
