import {
  IsArray,
  IsBoolean,
  IsIn,
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
import { IsOpenSshPublicKeys } from '../../../common/validation/ssh-public-keys.js';
import { IsTagList } from '../../guests/dto/guest-formats.js';
import { NodeParamDto } from '../../../common/dto/target.dto.js';
import {
  IsBooleanFlag,
  IsNodeName,
  IsStorageId,
  IsVmid,
} from '../../../common/validation/proxmox.validators.js';
import { WaitOptionsDto } from '../../../jobs/dto/job.dto.js';
import {
  BRIDGE_RE,
  CIUSER_RE,
  DNS_NAME_MAX,
  DNS_NAME_RE,
  IPCONFIG_RE,
  ISO_VOLID_RE,
  IsOptionalCloneNotes,
  IsOptionalCloneSnapname,
  IsOptionalCloneTargetVmid,
  IsOptionalIsoVolume,
  IsOptionalPoolId,
  NAMESERVER_RE,
  QEMU_OSTYPES,
  SEARCHDOMAIN_RE,
} from '../../guests/dto/guest-formats.js';
import { WaitQueryDto } from '../../guests/dto/wait-query.dto.js';
import { stacked } from '../../../common/validation/stacked.js';
import { BOOT_ORDER_RE, CDROM_DEVICE_RE } from '../vm-devices.js';

const BOOT_ORDER_MESSAGE =
  '$property must be devices separated by ";", such as scsi0;ide2;net0 (disks, CD-ROMs, NICs)';
/** create_vm / update_vm_config: an optional boot order. */
const IsOptionalBootOrder = (description: string) =>
  stacked(
    IsOptional(),
    IsString(),
    Matches(BOOT_ORDER_RE, { message: BOOT_ORDER_MESSAGE }),
    JSONSchema({ description }),
  );
/** create_vm / update_vm_config: an optional CD-ROM slot. */
const IsOptionalCdromDevice = (description: string) =>
  stacked(
    IsOptional(),
    IsString(),
    Matches(CDROM_DEVICE_RE, { message: '$property must be an IDE or SATA slot: ide0-ide3, sata0-sata5' }),
    JSONSchema({ description }),
  );
/** An ISO volume id, or `none` (eject). */
const ISO_OR_NONE_RE = new RegExp(`^(?:none|${ISO_VOLID_RE.source.slice(1, -1)})$`, 'i');

const DNS_NAME_MESSAGE =
  "$property must be a DNS name: letters, digits and '-' (labels separated by '.'), not starting or ending with '-'";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- TypeScript requires any[] for a mixin base
type DtoBase = new (...args: any[]) => object;

/**
 * The cloud-init and descriptive fields of create_vm (a job, so on top of WaitOptionsDto) and update_vm_config
 * (synchronous, no wait options). A mixin rather than a shared base class because the two need different bases;
 * plain subclassing keeps every decorator (validation and @JSONSchema) visible to both schemas.
 */
function withCloudInitFields<B extends DtoBase>(Base: B, name: string) {
  class CloudInitFields extends Base {
    @IsOptional()
    @IsString()
    @Matches(CIUSER_RE, {
      message: '$property must be a user name: a letter or _, then letters, digits, _ . -',
    })
    @JSONSchema({
      description: "cloud-init: the user to create/configure instead of the image's default user",
    })
    ciuser?: string;

    @IsOptional()
    @IsString()
    @MinLength(1)
    @MaxLength(256)
    @JSONSchema({
      description:
        'cloud-init: password for ciuser. A secret: sent to Proxmox, never stored in jobs or logs. SSH keys are preferred.',
    })
    cipassword?: string;

    @IsOpenSshPublicKeys(
      'cloud-init: OpenSSH public keys for ciuser, one per line or one per array item (URL-encoded for Proxmox by the server)',
    )
    sshkeys?: string | string[];

    @IsOptional()
    @IsString()
    @Matches(IPCONFIG_RE, {
      message:
        '$property must be like ip=dhcp, or ip=10.0.0.5/24,gw=10.0.0.1 (ip6=auto|dhcp|CIDR, gw6= also allowed)',
    })
    @JSONSchema({
      description: 'cloud-init: address of the first NIC, e.g. ip=dhcp or ip=10.0.0.5/24,gw=10.0.0.1',
    })
    ipconfig0?: string;

    @IsOptional()
    @IsString()
    @Matches(NAMESERVER_RE, { message: '$property must be one or more IP addresses separated by spaces' })
    @JSONSchema({ description: 'cloud-init: DNS server address(es)' })
    nameserver?: string;

    @IsOptional()
    @IsString()
    @Matches(SEARCHDOMAIN_RE, { message: '$property must be DNS domain names separated by spaces' })
    @JSONSchema({ description: 'cloud-init: DNS search domain(s)' })
    searchdomain?: string;

    @IsTagList('Tags, as an array or one string separated by ";" (e.g. ["web","prod"] or "web;prod")')
    tags?: string | string[];

    @IsOptional()
    @IsString()
    @MaxLength(8192)
    @JSONSchema({ description: 'Notes shown in the VM summary (at most 8192 characters)' })
    description?: string;
  }
  // DTO classes are known by name to the schema factory: each use gets its own
  Object.defineProperty(CloudInitFields, 'name', { value: name });
  return CloudInitFields;
}

/** create_vm is a job: the cloud-init fields plus wait / wait_timeout_seconds. */
export class CreateVmBodyDto extends withCloudInitFields(WaitOptionsDto, 'CreateVmCloudInitFields') {
  @IsOptional()
  @IsVmid()
  @JSONSchema({
    description: 'ID for the new VM (100-999999999); default: the next free ID (/cluster/nextid)',
  })
  vmid?: number;

  @IsString()
  @MaxLength(DNS_NAME_MAX)
  @Matches(DNS_NAME_RE, { message: DNS_NAME_MESSAGE })
  @JSONSchema({ description: 'VM name (a DNS name), e.g. web01' })
  name: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(32)
  @JSONSchema({ description: 'CPU cores (1-32, default 1)', default: 1 })
  cpus?: number;

  @IsOptional()
  @IsInt()
  @Min(512)
  @Max(131072)
  @JSONSchema({ description: 'Memory in MiB (512-131072, default 2048)', default: 2048 })
  memory?: number;

  @IsOptional()
  @IsInt()
  @Min(5)
  @Max(1000)
  @JSONSchema({ description: 'Size of the system disk scsi0 in GiB (5-1000, default 32)', default: 32 })
  disk_size?: number;

  @IsOptional()
  @IsStorageId()
  @JSONSchema({
    description:
      'Storage for the disk (and cloud-init drive). Default: the enabled, active storage on the node that holds VM images and has the most free space',
  })
  storage?: string;

  @IsOptional()
  @IsIn(QEMU_OSTYPES)
  @JSONSchema({
    description: 'Guest OS type (default l26 = Linux 2.6+ kernel; win11, win10, other, …)',
    default: 'l26',
  })
  ostype?: (typeof QEMU_OSTYPES)[number];

  @IsOptional()
  @IsString()
  @Matches(BRIDGE_RE, { message: '$property must be a bridge name such as vmbr0' })
  @JSONSchema({ description: 'Bridge for net0 (virtio NIC), default vmbr0', default: 'vmbr0' })
  network_bridge?: string;

  @IsOptionalIsoVolume(
    'Installer ISO to attach as CD-ROM (ide2) and boot after the empty disk, e.g. local:iso/debian-12.7.0-amd64-netinst.iso',
  )
  iso?: string;

  @IsOptionalIsoVolume("The reference's name for iso (the same setting; pass one of them)")
  iso_volume?: string;

  @IsOptionalCdromDevice(
    'The CD-ROM slot for the ISO (default ide2; ide0 holds the cloud-init drive when there is one)',
  )
  cdrom_device?: string;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({ description: 'Start the VM once it is created (default false)' })
  start?: boolean;

  @IsOptionalBootOrder(
    'Boot order, devices separated by ";" (e.g. ide2;scsi0;net0 to boot the ISO first). The VM has scsi0 and net0, the CD-ROM (ide2 or cdrom_device) with an ISO, ide0 with cloud-init. Default: scsi0, then the ISO, then net0',
  )
  boot_order?: string;

  @IsOptionalPoolId('Resource pool to add the VM to; it must exist')
  pool?: string;
}

/** clone_vm keeps the reference's argument name `source_vmid` for the VM being copied. */
export class CloneVmParamDto extends NodeParamDto {
  @IsVmid()
  @JSONSchema({ description: 'ID of the VM (or template) to clone' })
  source_vmid: number;
}

export class CloneVmBodyDto extends WaitOptionsDto {
  @IsOptionalCloneTargetVmid()
  target_vmid?: number;

  @IsOptional()
  @IsString()
  @MaxLength(DNS_NAME_MAX)
  @Matches(DNS_NAME_RE, { message: DNS_NAME_MESSAGE })
  @JSONSchema({ description: 'Name of the clone (a DNS name)' })
  name?: string;

  @IsOptional()
  @IsNodeName()
  @JSONSchema({
    description: 'Node for the clone (only when the source uses shared storage); default: the same node',
  })
  target_node?: string;

  @IsOptional()
  @IsBoolean()
  @JSONSchema({
    description:
      'Full copy of every disk (default true). false = linked clone, which only a template can give; a normal VM is always copied in full',
    default: true,
  })
  full?: boolean;

  @IsOptional()
  @IsStorageId()
  @JSONSchema({ description: 'Target storage for the disks of a full clone (not allowed for linked clones)' })
  storage?: string;

  @IsOptionalPoolId('Resource pool to add the clone to; it must exist')
  pool?: string;

  @IsOptionalCloneSnapname('Clone the VM as it was in this snapshot instead of its current state')
  snapname?: string;

  @IsOptionalCloneNotes()
  description?: string;
}

/**
 * update_vm_config: PUT is synchronous in PVE (it returns null, never a task), so this tool is not a job and has
 * no wait options; it answers with what was changed and which changes wait for the next VM start.
 */
export class UpdateVmConfigBodyDto extends withCloudInitFields(class {}, 'UpdateVmCloudInitFields') {
  @IsOptional()
  @IsInt()
  @Min(16)
  @Max(4194304)
  @JSONSchema({ description: 'Memory in MiB (at least 16)' })
  memory?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024)
  @JSONSchema({ description: 'CPU cores per socket' })
  cores?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(4)
  @JSONSchema({ description: 'CPU sockets (1-4)' })
  sockets?: number;

  @IsOptional()
  @IsString()
  @MaxLength(DNS_NAME_MAX)
  @Matches(DNS_NAME_RE, { message: DNS_NAME_MESSAGE })
  @JSONSchema({ description: 'New VM name (a DNS name)' })
  name?: string;

  @IsOptional()
  @IsString()
  @Matches(ISO_OR_NONE_RE, {
    message: '$property must be an ISO volume id such as local:iso/debian-12.iso, or none to eject',
  })
  @JSONSchema({
    description:
      'Put this ISO in the CD-ROM drive (it must be on an ISO storage the node sees: list_isos), or none to eject (the drive stays, empty)',
  })
  iso_volume?: string;

  @IsOptionalCdromDevice(
    "The CD-ROM drive for iso_volume. Default: the VM's CD-ROM drive, else ide2 (ide3, … when taken). A disk or the cloud-init drive is never replaced",
  )
  cdrom_device?: string;

  @IsOptionalBootOrder(
    'Boot order: devices of the VM separated by ";", e.g. scsi0;ide2;net0 (order=… also accepted); each must exist',
  )
  boot_order?: string;

  @IsOptional()
  @IsString()
  @Matches(BRIDGE_RE, { message: '$property must be a bridge name such as vmbr0' })
  @JSONSchema({
    description:
      'Move net0 to this bridge (it must exist on the node); MAC, model, VLAN and firewall are kept',
  })
  network_bridge?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[0-9a-f]{40}$/, { message: '$property must be the 40-hex-digit digest get_vm_config returned' })
  @JSONSchema({
    description:
      'The config digest from get_vm_config. Proxmox refuses the edit (CONFLICT) if the config changed since; default: the digest read just before the update',
  })
  digest?: string;
}

export class DeleteVmQueryDto extends WaitQueryDto {
  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({
    description:
      'If the VM runs: stop it first (hard stop), wait until the stop task finished, then delete (default false)',
  })
  force?: boolean;

  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({
    description: 'Also remove the VM from backup jobs, replication, HA and ACLs (PVE purge; default false)',
  })
  purge?: boolean;

  @IsOptional()
  @IsBooleanFlag()
  @JSONSchema({
    description:
      'Also destroy disks on enabled storages that carry this VM ID but are not in its config (default false)',
  })
  destroy_unreferenced_disks?: boolean;
}

export class UpdateVmConfigResultDto {
  @IsString() target: string;
  @IsString() node: string;
  @IsInt() vmid: number;

  @IsArray()
  @IsString({ each: true })
  @JSONSchema({ description: 'Config keys that were set' })
  updated: string[];

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @JSONSchema({
    description:
      'Keys whose new value waits for the next VM start (PVE [PENDING]: not hot-pluggable while the VM runs); absent if Proxmox could not say',
  })
  pending?: string[];

  @IsString()
  @JSONSchema({ description: 'The digest the update was checked against' })
  digest_checked: string;
}
