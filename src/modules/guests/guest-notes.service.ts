import { Injectable } from '@nestjs/common';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import type { GuestNotesResultDto, SetDescriptionBodyDto } from './dto/guest-notes.dto.js';
import { DomainError, isDomainError } from '../../common/errors/domain-error.js';

const KIND = { qemu: 'VM', lxc: 'Container' } as const;
const LIST_TOOL = { qemu: 'get_vms', lxc: 'get_containers' } as const;
const CONFIG_TOOL = { qemu: 'get_vm_config', lxc: 'get_container_config' } as const;

const says = (error: unknown, pattern: RegExp) =>
  isDomainError(error) && error.code.startsWith('UPSTREAM_') && pattern.test(error.message);

/**
 * The notes of a VM or container (PVE `description`, the Notes panel): set_vm_description and
 * set_container_description. A synchronous config PUT guarded by the digest; an empty text deletes the key.
 */
@Injectable()
export class GuestNotesService {
  constructor(private readonly gateway: ProxmoxGateway) {}

  async set(
    type: 'qemu' | 'lxc',
    node: string,
    vmid: number,
    dto: SetDescriptionBodyDto,
    target?: string,
  ): Promise<GuestNotesResultDto> {
    const client = this.gateway.client(target);
    const path =
      type === 'qemu'
        ? pvePath`/nodes/${node}/qemu/${vmid}/config`
        : pvePath`/nodes/${node}/lxc/${vmid}/config`;
    let digest = dto.digest;
    try {
      if (digest === undefined) {
        digest = String((await client.get<{ digest?: string }>(path))?.digest ?? '');
      }
      const cleared = dto.description === '';
      await client.put<null>(path, {
        ...(cleared ? { delete: 'description' } : { description: dto.description }),
        ...(digest ? { digest } : {}),
      });
      return {
        target: this.gateway.targetConfig(target).name,
        node,
        vmid,
        type,
        description: dto.description,
        cleared,
        digest_checked: digest,
      };
    } catch (error) {
      if (says(error, /Configuration file .* does not exist/)) {
        throw new DomainError('NOT_FOUND', `${KIND[type]} ${vmid} not found on node ${node}`, {
          hint: `${LIST_TOOL[type]} lists them with the node each is on.`,
        });
      }
      if (says(error, /hostname lookup '.*' failed/)) {
        throw new DomainError('NOT_FOUND', `Node '${node}' is not part of the cluster`, {
          hint: 'get_nodes lists the nodes.',
        });
      }
      if (says(error, /checksum mis+match|detected modified configuration/)) {
        throw new DomainError(
          'CONFLICT',
          `The configuration of ${KIND[type]} ${vmid} on node ${node} changed since the digest was read (a concurrent edit); the notes were not changed`,
          { hint: `Read the config again with ${CONFIG_TOOL[type]} and retry with its digest.` },
        );
      }
      if (says(error, /is locked/)) {
        throw new DomainError(
          'CONFLICT',
          `${KIND[type]} ${vmid} on node ${node} is locked by a running task`,
          {
            hint: 'Wait until that task finished (list_tasks), then try again.',
          },
        );
      }
      throw error;
    }
  }
}
