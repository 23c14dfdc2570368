import { capText, num } from '../../common/format/human.js';
import type { ExecResultDto, VmInterfaceDto, VmIpAddressesDto } from './dto/vm-agent.dto.js';

/** GET …/agent/exec-status (PVE has already base64-decoded out-data/err-data; booleans may be 0/1). */
export interface AgentExecStatus {
  exited?: boolean | number;
  exitcode?: number;
  signal?: number;
  'out-data'?: string;
  'err-data'?: string;
  'out-truncated'?: boolean | number;
  'err-truncated'?: boolean | number;
}

/** One entry of the agent's network-get-interfaces result (qemu-ga JSON, passed through by PVE). */
export interface AgentInterface {
  name?: string;
  'hardware-address'?: string;
  'ip-addresses'?: Array<{ 'ip-address'?: string; 'ip-address-type'?: string; prefix?: number }>;
}

const flag = (v: unknown) => v === true || num(v) === 1;

export function toExecResult(
  pid: number,
  status: AgentExecStatus,
  limit: number,
): Omit<ExecResultDto, 'target' | 'node' | 'vmid'> {
  const exited = flag(status.exited);
  const stdout = capText(status['out-data'] ?? '', limit);
  const stderr = capText(status['err-data'] ?? '', limit);
  return {
    pid,
    exited,
    ...(exited && status.exitcode !== undefined ? { exit_code: num(status.exitcode) } : {}),
    ...(exited && status.signal !== undefined ? { signal: num(status.signal) } : {}),
    stdout: stdout.text,
    stderr: stderr.text,
    stdout_truncated: stdout.cut || flag(status['out-truncated']),
    stderr_truncated: stderr.cut || flag(status['err-truncated']),
    timed_out: !exited,
    output_limit_bytes: limit,
  };
}

const isLoopback = (address: string) => /^127\./.test(address) || address === '::1';
const isLinkLocal = (address: string) => /^169\.254\./.test(address) || /^fe80:/i.test(address);

/** The guest's interfaces with their addresses (CIDR), loopback left out, and the address to connect to. */
export function toIpAddresses(
  ifaces: AgentInterface[],
): Pick<VmIpAddressesDto, 'interfaces' | 'primary_ipv4'> {
  const interfaces: VmInterfaceDto[] = [];
  for (const iface of ifaces) {
    const all = (iface['ip-addresses'] ?? []).filter((a) => typeof a['ip-address'] === 'string');
    const addresses = all.filter((a) => !isLoopback(String(a['ip-address'])));
    // `lo`, Windows' "Loopback Pseudo-Interface 1": only loopback addresses
    if (iface.name === 'lo' || (all.length > 0 && addresses.length === 0)) continue;
    const cidr = (a: (typeof addresses)[number]) =>
      a.prefix === undefined ? String(a['ip-address']) : `${a['ip-address']}/${num(a.prefix)}`;
    interfaces.push({
      name: iface.name ?? '',
      ...(iface['hardware-address'] ? { mac_address: iface['hardware-address'].toLowerCase() } : {}),
      ipv4: addresses.filter((a) => a['ip-address-type'] === 'ipv4').map(cidr),
      ipv6: addresses.filter((a) => a['ip-address-type'] === 'ipv6').map(cidr),
    });
  }
  const primary = interfaces
    .flatMap((i) => i.ipv4)
    .map((a) => a.split('/')[0])
    .find((a) => !isLinkLocal(a));
  return { interfaces, ...(primary ? { primary_ipv4: primary } : {}) };
}
