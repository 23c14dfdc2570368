import { Inject, Injectable } from '@nestjs/common';
import { approvalCheckpoint } from '../../common/context/call-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { InventoryService } from '../../proxmox/inventory.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath } from '../../proxmox/pve-path.js';
import {
  allowedGuestPath,
  compileFilePolicy,
  type CompiledFilePolicy,
  type FileAccess,
  type GuestPath,
} from '../../security/policy/file-path.js';
import { asVmNotFound, upstreamSays, VmStateReader } from '../guests/guest-state.js';
import type {
  FileEncoding,
  ReadVmFileBodyDto,
  VmFileContentDto,
  VmFileWrittenDto,
  WriteVmFileBodyDto,
} from './dto/guest-files.dto.js';

/** PVE's own file-read limit per call. */
const PVE_READ_MAX = 16 * 1024 * 1024;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface PveFileRead {
  content?: unknown;
  truncated?: unknown;
}

/**
 * Files inside a VM through its QEMU guest agent (PVE's agent file-read / file-write). Before anything reaches the
 * guest (and before an approval is asked): the path is normalised and judged by the `files` rules (the policy
 * guard did it first, by the same rule), the size is checked, and the VM must be a VM (not a container), have the
 * agent on, run, and its agent must answer (get-osinfo, which also tells a Windows guest from a POSIX one).
 * Content is never put into a log, an audit row or an error message.
 */
@Injectable()
export class GuestFilesService {
  private readonly policy: CompiledFilePolicy;

  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly inventory: InventoryService,
    private readonly state: VmStateReader,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.policy = compileFilePolicy(config.files);
  }

  async read(node: string, vmid: number, dto: ReadVmFileBodyDto, target?: string): Promise<VmFileContentDto> {
    const path = allowedGuestPath('read', dto.path, this.policy);
    const cap = this.policy.maxReadBytes;
    if (dto.max_bytes !== undefined && dto.max_bytes > cap) {
      throw new DomainError(
        'VALIDATION',
        `Invalid arguments: max_bytes: ${dto.max_bytes} is over this server's read limit of ${cap} bytes (files.max_read_bytes)`,
        { hint: `Read in pieces of at most ${cap} bytes with offset.` },
      );
    }
    const limit = dto.max_bytes ?? cap;
    const offset = dto.offset ?? 0;
    await this.assertUsable(node, vmid, path, 'read', target);
    // a GET changes nothing, so no checkpoint would settle a gated call before the guest is read: settle it here
    await approvalCheckpoint();
    let reply: PveFileRead;
    try {
      reply =
        (await this.gateway
          .client(target)
          .get<PveFileRead>(pvePath`/nodes/${node}/qemu/${vmid}/agent/file-read`, {
            file: path.path,
            // one byte past the cap tells "the file goes on" from "it ends exactly here"
            count: Math.min(limit + 1, PVE_READ_MAX),
            ...(offset ? { offset } : {}),
            decode: 0,
          })) ?? {};
    } catch (error) {
      throw fileError(error, node, vmid, path);
    }
    if (typeof reply.content !== 'string' || !BASE64.test(reply.content)) {
      throw new DomainError('UPSTREAM_PROTOCOL', 'The guest agent answered file-read without base64 content');
    }
    const all = Buffer.from(reply.content, 'base64');
    const truncated = all.length > limit;
    const bytes = truncated ? all.subarray(0, limit) : all;
    const shown = asContent(bytes, dto.encoding ?? 'utf8', truncated);
    return {
      target: this.gateway.targetConfig(target).name,
      node,
      vmid,
      path: path.path,
      encoding: shown.encoding,
      content: shown.content,
      offset,
      bytes_read: shown.bytes,
      truncated,
      ...(truncated ? { next_offset: offset + shown.bytes } : {}),
      max_bytes: limit,
    };
  }

  async write(
    node: string,
    vmid: number,
    dto: WriteVmFileBodyDto,
    target?: string,
  ): Promise<VmFileWrittenDto> {
    const path = allowedGuestPath('write', dto.path, this.policy);
    const bytes = contentBytes(dto.content, dto.encoding ?? 'utf8');
    const cap = this.policy.maxWriteBytes;
    if (bytes.length > cap) {
      throw new DomainError(
        'PAYLOAD_TOO_LARGE',
        `content: ${bytes.length} bytes is over this server's write limit of ${cap} bytes (files.max_write_bytes)`,
        {
          hint: 'PVE writes a whole file in one call (it truncates first), so a larger file cannot be written in pieces.',
        },
      );
    }
    await this.assertUsable(node, vmid, path, 'write', target);
    try {
      // encode: 0 — the content is base64 already, so binary files arrive byte for byte
      await this.gateway.client(target).post(pvePath`/nodes/${node}/qemu/${vmid}/agent/file-write`, {
        file: path.path,
        content: bytes.toString('base64'),
        encode: 0,
      });
    } catch (error) {
      throw fileError(error, node, vmid, path);
    }
    return {
      target: this.gateway.targetConfig(target).name,
      node,
      vmid,
      path: path.path,
      bytes_written: bytes.length,
    };
  }

  /**
   * Read-only checks, in the order a user fixes them: a container is not a VM; the VM exists with the agent on and
   * runs; the agent answers; the path is written for the guest's OS.
   */
  private async assertUsable(
    node: string,
    vmid: number,
    path: GuestPath,
    access: FileAccess,
    target?: string,
  ): Promise<void> {
    const guests = await this.inventory.clusterResources('vm', target);
    const row = guests.items.find((r) => Number(r.vmid) === vmid);
    if (row?.type === 'lxc') {
      throw new DomainError(
        'VALIDATION',
        `Invalid arguments: vmid: ${vmid} is a container; files in containers are not available through the QEMU guest agent (only VMs have one)`,
        {
          hint: `execute_container_command runs a command in the container (e.g. ["cat", "${path.path}"]${access === 'write' ? ' or a here-document with shell: true' : ''}).`,
        },
      );
    }
    const vm = `VM ${vmid} on node ${node}`;
    const { config } = await this.state.config(node, vmid, target);
    if (!agentEnabled(config.agent)) throw noAgentConfigured(vm);
    const { status } = await this.state.status(node, vmid, target);
    if (status !== 'running') {
      throw new DomainError(
        'CONFLICT',
        `${vm} is not running (status: ${status}), so its guest agent cannot answer`,
        {
          hint: 'start_vm starts it; the agent answers once the guest has booted.',
        },
      );
    }
    let os: { result?: { id?: unknown } } | null;
    try {
      os = await this.gateway.client(target).get(pvePath`/nodes/${node}/qemu/${vmid}/agent/get-osinfo`);
    } catch (error) {
      throw agentError(error, node, vmid);
    }
    const windows = os?.result?.id === 'mswindows';
    if (windows && path.kind === 'posix') {
      throw new DomainError(
        'VALIDATION',
        `Invalid arguments: path: ${vm} runs Windows; give a drive path such as C:\\Users\\Public\\file.txt`,
      );
    }
    if (!windows && path.kind === 'windows') {
      throw new DomainError(
        'VALIDATION',
        `Invalid arguments: path: ${vm} does not run Windows; give a POSIX path such as /etc/hostname`,
      );
    }
  }
}

/** The bytes to write; bad base64 is a VALIDATION error that never quotes the content. */
function contentBytes(content: string, encoding: FileEncoding): Buffer {
  if (encoding === 'utf8') return Buffer.from(content, 'utf8');
  const compact = content.replace(/\s+/g, '');
  if (!BASE64.test(compact)) {
    throw new DomainError(
      'VALIDATION',
      'Invalid arguments: content: not valid base64 (A-Z, a-z, 0-9, + and /, padded with = to a multiple of 4)',
      { hint: 'Send text with encoding: "utf8", or encode the bytes as standard base64.' },
    );
  }
  return Buffer.from(compact, 'base64');
}

/**
 * Text when asked for utf8 and the bytes are UTF-8 without NUL bytes; a cut in the middle of a character (at the
 * cap) gives the bytes before it, so next_offset starts at the character. Otherwise base64.
 */
function asContent(
  bytes: Buffer,
  encoding: FileEncoding,
  truncated: boolean,
): { encoding: FileEncoding; content: string; bytes: number } {
  if (encoding === 'utf8' && !bytes.includes(0)) {
    const maxCut = truncated ? Math.min(3, bytes.length - 1) : 0;
    for (let cut = 0; cut <= maxCut; cut++) {
      try {
        const text = utf8.decode(bytes.subarray(0, bytes.length - cut));
        return { encoding: 'utf8', content: text, bytes: bytes.length - cut };
      } catch {
        // not valid (yet): try again without the last byte of a character cut at the cap
      }
    }
  }
  return { encoding: 'base64', content: bytes.toString('base64'), bytes: bytes.length };
}

/** `agent` in a VM config: `1`, `enabled=1,…`, `0` (absent: off). */
function agentEnabled(value: string | number | undefined): boolean {
  if (value === undefined) return false;
  const first = String(value).split(',')[0];
  return Number(first.replace(/^enabled=/, '')) === 1;
}

function noAgentConfigured(vm: string): DomainError {
  return new DomainError(
    'CONFLICT',
    `${vm} has no QEMU guest agent configured (agent is off in its config)`,
    {
      hint: 'Enable it in Proxmox (Options → QEMU Guest Agent, or `qm set <vmid> --agent 1`), install qemu-guest-agent in the guest, then restart the VM.',
    },
  );
}

/** PVE's agent failures as CONFLICT with the fix; everything else unchanged. */
function agentError(error: unknown, node: string, vmid: number): unknown {
  const vm = `VM ${vmid} on node ${node}`;
  if (upstreamSays(error, /No QEMU guest agent configured/)) return noAgentConfigured(vm);
  if (upstreamSays(error, /QEMU guest agent is not running/)) {
    return new DomainError('CONFLICT', `The QEMU guest agent of ${vm} is not answering`, {
      hint: 'Install and start qemu-guest-agent inside the guest (e.g. `systemctl enable --now qemu-guest-agent`); right after a boot, wait until the guest is up.',
    });
  }
  if (upstreamSays(error, /VM \d+ is not running/)) {
    return new DomainError('CONFLICT', `${vm} is not running, so its guest agent cannot answer`, {
      hint: 'start_vm starts it; the agent answers once the guest has booted.',
    });
  }
  return asVmNotFound(error, node, vmid);
}

/** What the guest said about the file (qemu-ga's open/read errors), named by path; never the content. */
function fileError(error: unknown, node: string, vmid: number, path: GuestPath): unknown {
  const vm = `VM ${vmid} on node ${node}`;
  if (upstreamSays(error, /No such file or directory/)) {
    return new DomainError('NOT_FOUND', `${path.path} does not exist in ${vm} (or its folder does not)`, {
      hint: 'The agent creates files but not folders; check the path (execute_vm_command can list a folder).',
    });
  }
  if (upstreamSays(error, /Is a directory/)) {
    return new DomainError(
      'VALIDATION',
      `Invalid arguments: path: ${path.path} is a folder in ${vm}, not a file`,
    );
  }
  if (upstreamSays(error, /Permission denied|Access is denied/)) {
    return new DomainError(
      'CONFLICT',
      `The guest refused access to ${path.path} in ${vm} (permission denied)`,
      {
        hint: 'The agent runs as root / SYSTEM; the file system or the guest itself refuses this file.',
      },
    );
  }
  return agentError(error, node, vmid);
}
