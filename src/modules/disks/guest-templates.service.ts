import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';
import type { JobDto, WaitOptionsDto } from '../../jobs/dto/job.dto.js';
import { JobsService } from '../../jobs/jobs.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import { ContainerStateReader, ctLabel, VmStateReader } from '../guests/guest-state.js';
import { assertNotLocked } from './disk-size.js';
import type { ContainerTemplateResultDto } from './dto/disks.dto.js';

/**
 * convert_vm_to_template and convert_container_to_template. A template cannot be started again, so both are
 * `destroy` tools; a running guest or one that already is a template is refused before an approval is asked.
 */
@Injectable()
export class GuestTemplatesService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly jobs: JobsService,
    private readonly vms: VmStateReader,
    private readonly cts: ContainerStateReader,
  ) {}

  async convertVm(node: string, vmid: number, wait: WaitOptionsDto, target?: string): Promise<JobDto> {
    const [{ config }, status] = await Promise.all([
      this.vms.config(node, vmid, target),
      this.vms.status(node, vmid, target),
    ]);
    const label = this.vms.label(node, vmid, status.name);
    assertConvertible(label, config, status.status, 'stop_vm or shutdown_vm');
    await this.assertNoSnapshots('qemu', node, vmid, label, target);
    return this.jobs.track(
      {
        toolName: 'convert_vm_to_template',
        summary: `Convert VM ${vmid} on ${node} to a template`,
        target,
        node,
        request: { method: 'POST', path: pvePath`/nodes/${node}/qemu/${vmid}/template` },
        metadata: { vmid, ...(status.name ? { name: status.name } : {}) },
        expectedTask: { type: 'qmtemplate', id: String(vmid) },
      },
      { wait: wait.wait, timeoutSeconds: wait.wait_timeout_seconds },
    );
  }

  /** PVE converts a container synchronously (the endpoint returns null, no task): no job to track. */
  async convertContainer(node: string, vmid: number, target?: string): Promise<ContainerTemplateResultDto> {
    const [{ config }, status] = await Promise.all([
      this.cts.config(node, vmid, target),
      this.cts.status(node, vmid, target),
    ]);
    const label = ctLabel(node, vmid, status.name);
    assertConvertible(label, config, status.status, 'stop_container');
    await this.assertNoSnapshots('lxc', node, vmid, label, target);
    await this.gateway.client(target).post<null>(pvePath`/nodes/${node}/lxc/${vmid}/template`);
    return { node, vmid, template: true };
  }

  /** PVE: "unable to create template, because VM contains snapshots" (the list always holds `current`). */
  private async assertNoSnapshots(
    type: 'qemu' | 'lxc',
    node: string,
    vmid: number,
    label: string,
    target?: string,
  ): Promise<void> {
    const list = await this.gateway
      .client(target)
      .get<Array<{ name: string }>>(pvePath`/nodes/${node}/${type}/${vmid}/snapshot`);
    const names = (list ?? []).map((s) => s.name).filter((name) => name !== 'current');
    if (!names.length) return;
    throw new DomainError(
      'CONFLICT',
      `${label} has snapshots (${names.join(', ')}): Proxmox cannot make it a template`,
      {
        hint: 'Delete its snapshots first (delete_snapshot), then convert it.',
        details: { snapshots: names },
      },
    );
  }
}

function assertConvertible(
  label: string,
  config: Record<string, string | number>,
  status: string,
  stopTools: string,
): void {
  if (num(config.template) === 1) {
    throw new DomainError('CONFLICT', `${label} is already a template`, {
      hint: 'Nothing to do: clone it to get a guest that can run.',
    });
  }
  if (status !== 'stopped') {
    throw new DomainError('CONFLICT', `${label} is ${status}: only a stopped guest can become a template`, {
      hint: `Stop it first (${stopTools}), then convert it.`,
      details: { status },
    });
  }
  assertNotLocked(label, config);
}
