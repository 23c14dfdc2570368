import { IsBoolean, IsInt, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { NodeParamDto } from '../../../common/dto/target.dto.js';
import { IsNodeName, IsStorageId, IsVmid } from '../../../common/validation/proxmox.validators.js';
import { JobDto, WaitOptionsDto } from '../../../jobs/dto/job.dto.js';
import {
  BRIDGE_RE,
  DNS_NAME_MAX,
  DNS_NAME_RE,
  IsOptionalCloneNotes,
  IsOptionalCloneSnapname,
  IsOptionalCloneTargetVmid,
  IsOptionalPoolId,
} from '../../guests/dto/guest-formats.js';
import {
  IPV4_OR_EMPTY_RE,
  IPV6_OR_EMPTY_RE,
  IsOptionalCtIpv4Config,
  IsOptionalCtIpv6Config,
} from './container-create.dto.js';

/** pve-container: net0 … net31. */
export const CT_NET_KEY_RE = /^net(?:[12]?\d|3[01])$/;

/** update_container_network: the reference's argument names (network_bridge, ip, gw, ip6, gw6, interface). */
export class UpdateContainerNetworkBodyDto {
  @IsOptional()
  @IsString()
  @Matches(CT_NET_KEY_RE, { message: '$property must be a container network device: net0 … net31' })
  @JSONSchema({ description: 'The existing network device to change (default net0)', default: 'net0' })
  interface?: string;

  @IsOptional()
  @IsString()
  @Matches(BRIDGE_RE, { message: '$property must be a bridge name such as vmbr0' })
  @JSONSchema({ description: 'Move the interface to this bridge; it must exist on the node (list_bridges)' })
  network_bridge?: string;

  @IsOptionalCtIpv4Config('IPv4: dhcp, manual (none configured) or a static address such as 10.0.0.5/24')
  ip?: string;

  @IsOptional()
  @IsString()
  @Matches(IPV4_OR_EMPTY_RE, { message: '$property must be an IPv4 address, or "" to remove the gateway' })
  @JSONSchema({ description: 'IPv4 default gateway (needs a static ip); "" removes it' })
  gw?: string;

  @IsOptionalCtIpv6Config('IPv6: auto (SLAAC), dhcp, manual or a static address such as fd00::5/64')
  ip6?: string;

  @IsOptional()
  @IsString()
  @Matches(IPV6_OR_EMPTY_RE, { message: '$property must be an IPv6 address, or "" to remove the gateway' })
  @JSONSchema({ description: 'IPv6 default gateway (needs a static ip6); "" removes it' })
  gw6?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[0-9a-f]{40}$/, {
    message: '$property must be the 40-hex-digit digest get_container_config returned',
  })
  @JSONSchema({
    description:
      'The config digest from get_container_config: a concurrent edit since then is refused (CONFLICT). Default: the digest read just before',
  })
  digest?: string;
}

export class ContainerNetworkResultDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;
  @IsString() interface: string;
  @IsString() @JSONSchema({ description: 'The device before the change (PVE format)' }) previous: string;
  @IsString()
  @JSONSchema({ description: 'The device as sent to Proxmox (MAC, VLAN, firewall kept)' })
  network: string;
  @IsBoolean()
  @JSONSchema({ description: 'True when the container runs: Proxmox applied the change to it at once' })
  running: boolean;
  @IsString()
  @JSONSchema({ description: 'The digest the update was checked against' })
  digest_checked: string;
}

/** clone_container: the source in the path, as clone_vm's `source_vmid`. */
export class CloneContainerParamDto extends NodeParamDto {
  @IsVmid()
  @JSONSchema({ description: 'ID of the container (or container template) to clone' })
  source_vmid: number;
}

export class CloneContainerBodyDto extends WaitOptionsDto {
  @IsOptionalCloneTargetVmid()
  target_vmid?: number;

  @IsOptional()
  @IsString()
  @MaxLength(DNS_NAME_MAX)
  @Matches(DNS_NAME_RE, {
    message: "$property must be a DNS name: letters, digits and '-' (labels separated by '.')",
  })
  @JSONSchema({ description: "Host name of the clone (a DNS name); default: the source's" })
  hostname?: string;

  @IsOptional()
  @IsNodeName()
  @JSONSchema({
    description:
      "Node for the clone (only when the clone's volumes are on shared storage); default: the same node",
  })
  target_node?: string;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'Full copy of every volume (default: true for a container, false for a template). false = linked clone, which only a template on a storage with the clone feature (LVM-thin, ZFS) can give',
  })
  full?: boolean;

  @IsOptional()
  @IsStorageId()
  @JSONSchema({
    description: 'Target storage for the volumes of a full clone (not allowed for linked clones)',
  })
  storage?: string;

  @IsOptionalPoolId('Resource pool to add the clone to; it must exist')
  pool?: string;

  @IsOptionalCloneSnapname(
    'Clone the container as it was in this snapshot (needed for a full clone of a running one)',
  )
  snapname?: string;

  @IsOptionalCloneNotes()
  description?: string;
}

/** clone_container's job, with the new container's ID at the top level. */
export class CloneContainerResultDto extends JobDto {
  @IsInt() @JSONSchema({ description: 'ID of the new container' }) override vmid: number;
}
