import {
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { stacked } from '../../../common/validation/stacked.js';
import { IsStorageId, IsVmid } from '../../../common/validation/proxmox.validators.js';
import { WaitOptionsDto } from '../../../jobs/dto/job.dto.js';
import {
  BRIDGE_RE,
  DNS_NAME_MAX,
  DNS_NAME_RE,
  IsOptionalPoolId,
  IsTagList,
} from '../../guests/dto/guest-formats.js';
import { IsOpenSshPublicKeys } from '../../../common/validation/ssh-public-keys.js';

/** A container template volume: `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`. */
export const VZTMPL_VOLID_RE = /^[a-zA-Z][a-zA-Z0-9\-_.]*[a-zA-Z0-9]:vztmpl\/[^/\\\s]+$/;

const IPV4 = '(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** `dhcp`, `manual` or an IPv4 address with prefix length (PVE `pve-ipv4-config`). */
export const CT_IPV4_CONFIG_RE = new RegExp(`^(?:dhcp|manual|${IPV4}/(?:3[0-2]|[12]?\\d))$`);
export const IPV4_RE = new RegExp(`^${IPV4}$`);
export const IPV4_OR_EMPTY_RE = new RegExp(`^(?:${IPV4})?$`);
/** Loose here (hex digits, ':' and a dotted tail); the service checks the address with node:net isIPv6. */
const IPV6 = '[0-9a-fA-F:]*:[0-9a-fA-F:.]*';
/** `auto`, `dhcp`, `manual` or an IPv6 address with prefix length (PVE `pve-ipv6-config`). */
export const CT_IPV6_CONFIG_RE = new RegExp(`^(?:auto|dhcp|manual|${IPV6}/(?:12[0-8]|1[01]\\d|[1-9]?\\d))$`);
export const IPV6_RE = new RegExp(`^${IPV6}$`);
export const IPV6_OR_EMPTY_RE = new RegExp(`^(?:${IPV6})?$`);

/** A container NIC's optional IPv4 setting (create_container, update_container_network). */
export const IsOptionalCtIpv4Config = (description: string) =>
  stacked(
    IsOptional(),
    IsString(),
    Matches(CT_IPV4_CONFIG_RE, {
      message: '$property must be dhcp, manual or an IPv4 address with prefix length such as 10.0.0.5/24',
    }),
    JSONSchema({ description }),
  );

/** A container NIC's optional IPv6 setting (create_container, update_container_network). */
export const IsOptionalCtIpv6Config = (description: string) =>
  stacked(
    IsOptional(),
    IsString(),
    Matches(CT_IPV6_CONFIG_RE, {
      message:
        '$property must be auto (SLAAC), dhcp, manual or an IPv6 address with prefix length such as fd00::5/64',
    }),
    JSONSchema({ description }),
  );

export const CT_DEFAULTS = {
  cores: 1,
  memory: 512,
  swap: 512,
  diskSize: 8,
  bridge: 'vmbr0',
  ip: 'dhcp',
} as const;

export class CreateContainerBodyDto extends WaitOptionsDto {
  @IsOptional()
  @IsVmid()
  @JSONSchema({
    description:
      'ID for the new container (100-999999999); must be free among VMs and containers. Default: the next free ID (/cluster/nextid)',
  })
  vmid?: number;

  @IsString()
  @MaxLength(255)
  @Matches(VZTMPL_VOLID_RE, {
    message:
      '$property must be a template volume id such as local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
  })
  @JSONSchema({
    description:
      'OS template volume, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst (list_templates shows them); it must be on a storage the node can read',
  })
  ostemplate: string;

  @IsOptional()
  @IsString()
  @MaxLength(DNS_NAME_MAX)
  @Matches(DNS_NAME_RE, {
    message: "$property must be a DNS name: letters, digits and '-' (labels separated by '.')",
  })
  @JSONSchema({ description: 'Host name (a DNS name); default ct-<vmid>' })
  hostname?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(8192)
  @JSONSchema({ description: 'CPU cores (default 1)', default: CT_DEFAULTS.cores })
  cores?: number;

  @IsOptional()
  @IsInt()
  @Min(16)
  @Max(4194304)
  @JSONSchema({ description: 'Memory in MiB (at least 16, default 512)', default: CT_DEFAULTS.memory })
  memory?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(4194304)
  @JSONSchema({ description: 'Swap in MiB (default 512)', default: CT_DEFAULTS.swap })
  swap?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65536)
  @JSONSchema({ description: 'Root disk size in GiB (default 8)', default: CT_DEFAULTS.diskSize })
  disk_size?: number;

  @IsOptional()
  @IsStorageId()
  @JSONSchema({
    description:
      "Storage for the root disk; must hold container directories (content 'rootdir') on the node and have room. Default: the usable one with the most free space",
  })
  storage?: string;

  @IsOptional()
  @IsString()
  @MinLength(5)
  @MaxLength(256)
  @JSONSchema({
    description:
      "root's password in the container (at least 5 characters). A secret: sent to Proxmox, never stored in jobs or logs. Prefer ssh_public_keys.",
  })
  password?: string;

  @IsOpenSshPublicKeys(
    "OpenSSH public keys for root's authorized_keys, one per line or one per array item (sent, never stored)",
  )
  ssh_public_keys?: string | string[];

  @IsOptional()
  @IsString()
  @Matches(BRIDGE_RE, { message: '$property must be a bridge name such as vmbr0' })
  @JSONSchema({ description: 'Bridge for eth0 (default vmbr0); it must exist on the node', default: 'vmbr0' })
  network_bridge?: string;

  @IsOptionalCtIpv4Config('IPv4 of eth0: dhcp (default), manual, or an address such as 10.0.0.5/24')
  ip?: string;

  @IsOptional()
  @IsString()
  @Matches(IPV4_RE, { message: '$property must be an IPv4 address' })
  @JSONSchema({ description: 'IPv4 default gateway (with a static ip)' })
  gateway?: string;

  @IsOptional()
  @IsString()
  @Matches(IPV4_RE, { message: '$property must be an IPv4 address' })
  @JSONSchema({ description: "IPv4 default gateway (with a static ip); the reference's name for gateway" })
  gw?: string;

  @IsOptionalCtIpv6Config(
    'IPv6 of eth0: auto (SLAAC), dhcp, manual or an address such as fd00::5/64; default none',
  )
  ip6?: string;

  @IsOptional()
  @IsString()
  @Matches(IPV6_RE, { message: '$property must be an IPv6 address' })
  @JSONSchema({ description: 'IPv6 default gateway (with a static ip6)' })
  gw6?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(4094)
  @JSONSchema({ description: 'VLAN tag of eth0' })
  vlan_tag?: number;

  @IsOptionalPoolId('Resource pool to add the container to; it must exist')
  pool?: string;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description: 'Unprivileged container (default true; privileged ones are far less isolated)',
    default: true,
  })
  unprivileged?: boolean;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description: 'Allow nested containers (Docker, systemd services that need it); default false',
    default: false,
  })
  nesting?: boolean;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({ description: 'Start the container when the create finished (default false)', default: false })
  start_after_create?: boolean;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({ description: 'Start the container when the node boots (default false)', default: false })
  onboot?: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(8192)
  @JSONSchema({ description: 'Notes shown in the container summary' })
  description?: string;

  @IsTagList('Tags, as an array or one string separated by ";"')
  tags?: string | string[];
}
