import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import type { PveParams, ProxmoxClient } from '../../proxmox/proxmox-client.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { assertBridgeExists } from '../guests/bridge-check.js';
import { asUnknownNode, rethrowVmNotFound, upstreamSays } from '../guests/guest-state.js';

/** Devices a boot order may name (qemu-server `pve-qm-bootdev`: disks, NICs, PCI and USB passthrough). */
export const BOOT_DEVICE_RE =
  /^(?:ide[0-3]|sata[0-5]|scsi(?:[12]?\d|30)|virtio(?:1[0-5]|\d)|net(?:[12]?\d|3[01])|hostpci(?:1[0-5]|\d)|usb[0-4])$/;
/** `order=scsi0;ide2;net0` as the caller writes it: the devices separated by `;` (or `,`/spaces). */
export const BOOT_ORDER_RE = /^(?:order=)?[a-z]+\d+(?:[;, ]+[a-z]+\d+)*$/;
/** Where a CD-ROM can sit (qemu-server drive keys; SCSI and VirtIO CD-ROMs are unusual, so IDE and SATA). */
export const CDROM_DEVICE_RE = /^(?:ide[0-3]|sata[0-5])$/;

export interface VmDeviceRequest {
  iso_volume?: string;
  cdrom_device?: string;
  boot_order?: string;
  network_bridge?: string;
}

/** The devices of `order=…`, or a VALIDATION error naming the first bad one. */
export function bootDevices(order: string): string[] {
  const devices = order
    .replace(/^order=/, '')
    .split(/[;, ]+/)
    .filter(Boolean);
  const bad = devices.find((d) => !BOOT_DEVICE_RE.test(d));
  if (bad) {
    throw new DomainError('VALIDATION', `boot_order: '${bad}' is not a boot device`, {
      hint: 'Name disks, CD-ROMs and NICs of the VM, e.g. scsi0;ide2;net0 (get_vm_config shows them).',
    });
  }
  if (new Set(devices).size !== devices.length) {
    throw new DomainError('VALIDATION', `boot_order: a device is listed twice (${devices.join(';')})`);
  }
  return devices;
}

/** The devices a boot order names must exist (PVE: "invalid bootorder: device … does not exist"). */
export function assertBootDevicesExist(devices: string[], existing: Iterable<string>, vm: string): string {
  const have = new Set(existing);
  const missing = devices.filter((d) => !have.has(d));
  if (missing.length) {
    const list = [...have].filter((k) => BOOT_DEVICE_RE.test(k)).sort();
    throw new DomainError(
      'VALIDATION',
      `boot_order: ${vm} has no ${missing.join(', ')}; its devices are ${list.join(', ') || 'none'}`,
      { hint: 'Name only devices the VM has (get_vm_config shows them).' },
    );
  }
  return `order=${devices.join(';')}`;
}

/**
 * create_vm's installer ISO: `iso` (ours) or `iso_volume` (the reference's name), on `cdrom_device` (default ide2;
 * ide0 is the cloud-init drive when there is one).
 */
export function installerIso(
  dto: { iso?: string; iso_volume?: string; cdrom_device?: string },
  cloudInit: boolean,
): { iso?: string; drive: string } {
  if (dto.iso !== undefined && dto.iso_volume !== undefined && dto.iso !== dto.iso_volume) {
    throw new DomainError('VALIDATION', 'iso and iso_volume are the same setting; pass one of them');
  }
  const iso = dto.iso ?? dto.iso_volume;
  if (dto.cdrom_device !== undefined && iso === undefined) {
    throw new DomainError('VALIDATION', 'cdrom_device goes with iso (or iso_volume): the ISO to attach');
  }
  const drive = dto.cdrom_device ?? 'ide2';
  if (cloudInit && drive === 'ide0') {
    throw new DomainError(
      'VALIDATION',
      'cdrom_device: ide0 holds the cloud-init drive of the new VM; pick another slot',
    );
  }
  return { iso, drive };
}

const isCdrom = (value: unknown) => /(?:^|,)media=cdrom(?:,|$)/.test(String(value));
const isCloudInit = (value: unknown) => /:(?:vm-\d+-)?cloudinit/.test(String(value));

/**
 * update_vm_config's device changes (the reference's 0.6 arguments): attach or eject an ISO on the CD-ROM drive,
 * the boot order, and the bridge of net0. Each is checked against the VM's config and the node before anything
 * is sent, and returned as the PVE keys to set.
 */
@Injectable()
export class VmDevicesService {
  constructor(private readonly gateway: ProxmoxGateway) {}

  static wanted(dto: VmDeviceRequest): boolean {
    return (
      dto.iso_volume !== undefined ||
      dto.boot_order !== undefined ||
      dto.network_bridge !== undefined ||
      dto.cdrom_device !== undefined
    );
  }

  async params(node: string, vmid: number, dto: VmDeviceRequest, target?: string): Promise<PveParams> {
    const client = this.gateway.client(target);
    let config: Record<string, string | number>;
    try {
      config =
        (await client.get<Record<string, string | number>>(pvePath`/nodes/${node}/qemu/${vmid}/config`)) ??
        {};
    } catch (error) {
      rethrowVmNotFound(error, node, vmid);
    }
    const vm = `VM ${vmid}`;
    const out: PveParams = {};
    if (dto.cdrom_device !== undefined && dto.iso_volume === undefined) {
      throw new DomainError(
        'VALIDATION',
        'cdrom_device goes with iso_volume (the ISO to attach, or none to eject)',
      );
    }
    if (dto.iso_volume !== undefined) {
      const drive = dto.cdrom_device ?? this.defaultCdrom(config);
      const current = config[drive];
      if (current !== undefined && (!isCdrom(current) || isCloudInit(current))) {
        throw new DomainError(
          'VALIDATION',
          `cdrom_device: ${drive} of ${vm} is ${isCloudInit(current) ? 'the cloud-init drive' : 'a disk'} (${String(current)}); it is not replaced by a CD-ROM`,
          { hint: "Pick a free IDE/SATA slot or the VM's CD-ROM drive (get_vm_config shows them)." },
        );
      }
      if (dto.iso_volume === 'none') {
        if (current === undefined) {
          throw new DomainError(
            'VALIDATION',
            `iso_volume: none ejects, but ${vm} has no CD-ROM drive ${drive}`,
            {
              hint: 'Pass cdrom_device with the CD-ROM drive to eject (get_vm_config shows it).',
            },
          );
        }
      } else {
        await this.assertIsoExists(client, node, dto.iso_volume);
      }
      out[drive] = `${dto.iso_volume},media=cdrom`;
    }
    if (dto.network_bridge !== undefined) {
      const net0 = config.net0;
      if (net0 === undefined) {
        throw new DomainError('VALIDATION', `network_bridge: ${vm} has no net0 to move`, {
          hint: 'network_bridge changes the bridge of an existing net0.',
        });
      }
      await assertBridgeExists(client, node, dto.network_bridge);
      const parts = String(net0).split(',');
      const at = parts.findIndex((p) => p.startsWith('bridge='));
      if (at >= 0) parts[at] = `bridge=${dto.network_bridge}`;
      else parts.splice(1, 0, `bridge=${dto.network_bridge}`);
      out.net0 = parts.join(',');
    }
    if (dto.boot_order !== undefined) {
      const devices = bootDevices(dto.boot_order);
      out.boot = assertBootDevicesExist(devices, [...Object.keys(config), ...Object.keys(out)], vm);
    }
    return out;
  }

  /** The VM's CD-ROM drive (not the cloud-init one); else ide2 when free, else the first free IDE/SATA slot. */
  private defaultCdrom(config: Record<string, string | number>): string {
    const cdrom = Object.keys(config)
      .filter((k) => CDROM_DEVICE_RE.test(k) && isCdrom(config[k]) && !isCloudInit(config[k]))
      .sort()[0];
    if (cdrom) return cdrom;
    const slots = ['ide2', 'ide3', 'ide1', 'ide0', 'sata0', 'sata1', 'sata2', 'sata3', 'sata4', 'sata5'];
    const free = slots.find((s) => config[s] === undefined);
    if (!free)
      throw new DomainError('VALIDATION', 'cdrom_device: the VM has no free IDE or SATA slot for a CD-ROM');
    return free;
  }

  /** The ISO must be on an ISO storage the node sees (a missing one would only fail at the next start). */
  async assertIsoExists(
    client: ProxmoxClient,
    node: string,
    iso: string,
    field = 'iso_volume',
  ): Promise<void> {
    const storage = iso.slice(0, iso.indexOf(':'));
    let volumes: Array<{ volid?: string }>;
    try {
      volumes =
        (await client.get(pvePath`/nodes/${node}/storage/${storage}/content`, { content: 'iso' })) ?? [];
    } catch (error) {
      if (upstreamSays(error, /does not exist/)) {
        throw new DomainError('NOT_FOUND', `${field}: storage '${storage}' does not exist`, {
          hint: 'get_storage lists the storages; list_isos the ISO images on them.',
        });
      }
      if (upstreamSays(error, /content type|does not support/)) {
        throw new DomainError('VALIDATION', `${field}: storage '${storage}' does not hold ISO images`, {
          hint: 'list_isos shows the ISO images and their storages.',
        });
      }
      throw asUnknownNode(error, node);
    }
    if (!volumes.some((v) => v.volid === iso)) {
      // a storage without ISO content lists none: say that, not only "not there"
      const isoStorages = (
        (await client
          .get<Array<{ storage?: string }>>(pvePath`/nodes/${node}/storage`, { content: 'iso' })
          .catch(() => null)) ?? []
      ).map((r) => String(r.storage));
      if (isoStorages.length && !isoStorages.includes(storage)) {
        throw new DomainError(
          'VALIDATION',
          `${field}: storage '${storage}' does not hold ISO images on node ${node}`,
          {
            hint: `ISO storages on ${node}: ${isoStorages.sort().join(', ')} (list_isos shows their images).`,
          },
        );
      }
      throw new DomainError(
        'NOT_FOUND',
        `${field}: ${iso} is not on storage '${storage}' as seen from node ${node}`,
        {
          hint: 'list_isos shows the ISO images; download_iso fetches one.',
        },
      );
    }
  }
}
