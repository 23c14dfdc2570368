import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { num } from '../../common/format/human.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import type { JobDto } from '../../jobs/dto/job.dto.js';
import { JobsService } from '../../jobs/jobs.service.js';
import { ProxmoxGateway } from '../../proxmox/proxmox.gateway.js';
import { pvePath, volumeSegment } from '../../proxmox/pve-path.js';
import { checkDownloadUrl } from '../../common/url-guard/url-guard.js';
import type { ContentListQueryDto, VolumeLocationDto } from '../guests/dto/storage-content.dto.js';
import type { DeleteIsoQueryDto, DownloadIsoBodyDto, DownloadTemplateBodyDto } from './dto/isos.dto.js';
import { checksumParams } from './download-names.js';
import {
  createdAt,
  fileNameOf,
  listingMeta,
  StorageContentService,
  type PveContentItem,
} from '../guests/storage-content.service.js';

/** The two content types these tools handle, with the words used in messages. */
export type MediaContent = 'iso' | 'vztmpl';
const WHAT: Record<MediaContent, { one: string; many: string; tool: string }> = {
  iso: { one: 'ISO image', many: 'ISO images', tool: 'download_iso' },
  vztmpl: { one: 'container template', many: 'container templates', tool: 'download_template' },
};

const DEFAULT_LIMIT = 1000;

/** Node storage rows (GET /nodes/{node}/storage). */
interface NodeStorageRow {
  storage: string;
  type: string;
  content: string;
  active?: number | boolean;
  enabled?: number | boolean;
}

/** list_isos, list_templates, download_iso, download_template and delete_iso. */
@Injectable()
export class IsosService {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly jobs: JobsService,
    private readonly content: StorageContentService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(content: MediaContent, q: ContentListQueryDto) {
    const listing = await this.content.list(content, { node: q.node, storage: q.storage }, q.target);
    const items = listing.items
      .map((item): VolumeLocationDto => ({
        volid: item.volid,
        name: fileNameOf(item.volid),
        storage: item.storage,
        node: item.node,
        shared: item.shared,
        format: String(item.format ?? ''),
        size_bytes: num(item.size),
        ...(createdAt(item.ctime) ? { created_at: createdAt(item.ctime) } : {}),
      }))
      .sort(
        (a, b) =>
          a.name.localeCompare(b.name) || a.volid.localeCompare(b.volid) || a.node.localeCompare(b.node),
      );
    const limit = q.limit ?? DEFAULT_LIMIT;
    return { ...listingMeta(listing, items.length, limit), items: items.slice(0, limit) };
  }

  /**
   * download-url, after the URL guard (SSRF) and with the name checked the way PVE would take it. The storage must
   * hold this content type on that node, and a file of that name must not exist yet (PVE would refuse to overwrite it
   * only at the end of the task). PVE gets the normalised URL, the checksum if any, and always verifies TLS
   * certificates (verify-certificates is not a caller's choice).
   */
  async download(
    content: MediaContent,
    node: string,
    storage: string,
    dto: DownloadIsoBodyDto | DownloadTemplateBodyDto,
    target?: string,
  ): Promise<JobDto> {
    const what = WHAT[content];
    const checksum = checksumParams(dto.checksum, dto.checksum_algorithm);
    const url = await checkDownloadUrl(dto.url, { allowedHosts: this.config.downloads?.allowedHosts ?? [] });
    await this.assertStorageHolds(node, storage, content, target);
    const volid = `${storage}:${content}/${dto.filename}`;
    const existing = await this.content.on(node, storage, content, target);
    if (existing.some((item) => item.volid === volid)) {
      throw new DomainError('CONFLICT', `${volid} already exists on node ${node}; nothing was downloaded`, {
        hint: `Use the existing ${what.one}, pick another filename, or delete it first with delete_iso.`,
      });
    }
    return this.jobs.track(
      {
        toolName: what.tool,
        summary: `Download ${what.one} ${dto.filename} to ${storage} on ${node}`,
        target,
        node,
        request: {
          method: 'POST',
          path: pvePath`/nodes/${node}/storage/${storage}/download-url`,
          params: { url: url.href, filename: dto.filename, content, ...checksum },
        },
        metadata: {
          volid,
          filename: dto.filename,
          storage,
          url: url.href,
          url_host: url.hostname,
          ...(checksum['checksum-algorithm'] ? { checksum_algorithm: checksum['checksum-algorithm'] } : {}),
        },
        recipeKind: content === 'iso' ? 'iso.download' : 'template.download',
        // download tasks are named after the file (PVE's encode_text leaves a validated name as it is)
        expectedTask: { type: 'download', id: dto.filename },
      },
      { wait: dto.wait, timeoutSeconds: dto.wait_timeout_seconds },
    );
  }

  /**
   * Deletes one ISO image or container template, named by its exact volume ID or exact file name. Only `iso` and
   * `vztmpl` content of that storage is considered; there is no substring matching (the reference picked the first
   * volume of any type containing the text, so "100" could delete the disk vm-100-disk-0: its §9 #8).
   */
  async delete(node: string, storage: string, dto: DeleteIsoQueryDto): Promise<JobDto> {
    const ref = dto.filename;
    if (ref.includes(':') && !ref.startsWith(`${storage}:`)) {
      throw new DomainError(
        'VALIDATION',
        `filename ${ref} is a volume of another storage than '${storage}'`,
        {
          hint: `Pass storage '${ref.slice(0, ref.indexOf(':'))}', or the file name alone.`,
          details: { field: 'filename' },
        },
      );
    }
    const all = await this.content.on(node, storage, undefined, dto.target);
    const media = all.filter((item) => item.content === 'iso' || item.content === 'vztmpl');
    const matches = ref.includes(':')
      ? media.filter((item) => item.volid === ref)
      : media.filter((item) => fileNameOf(item.volid) === ref);
    if (!matches.length) {
      const other = all.find((item) => item.volid === ref);
      if (other) {
        throw new DomainError(
          'VALIDATION',
          `${ref} is ${other.content} content, not an ISO image or container template; delete_iso does not delete it`,
          { details: { field: 'filename' } },
        );
      }
      throw new DomainError(
        'NOT_FOUND',
        `No ISO image or container template named exactly '${ref}' on storage ${storage} (node ${node})`,
        {
          hint: 'list_isos and list_templates show the exact names and volume IDs; partial names are never matched.',
        },
      );
    }
    if (matches.length > 1) {
      throw new DomainError(
        'CONFLICT',
        `'${ref}' names ${matches.length} volumes on ${storage}: ${matches.map((m) => m.volid).join(', ')}`,
        {
          hint: 'Pass the exact volume ID of the one to delete.',
        },
      );
    }
    const [volume] = matches as [PveContentItem];
    const what = WHAT[volume.content as MediaContent];
    return this.jobs.track(
      {
        toolName: 'delete_iso',
        summary: `Delete ${what.one} ${volume.volid} on ${node}`,
        target: dto.target,
        node,
        request: {
          method: 'DELETE',
          path: pvePath`/nodes/${node}/storage/${storage}/content/${volumeSegment(volume.volid)}`,
        },
        metadata: { volid: volume.volid, content: volume.content, storage, size_bytes: num(volume.size) },
        recipeKind: 'iso.delete',
        expectedTask: { type: 'imgdel', id: storage },
      },
      { wait: dto.wait, timeoutSeconds: dto.wait_timeout_seconds },
    );
  }

  /** The storage must be configured for this content on the node, and enabled and active there. */
  private async assertStorageHolds(node: string, storage: string, content: MediaContent, target?: string) {
    const rows = await this.gateway
      .client(target)
      .get<NodeStorageRow[]>(pvePath`/nodes/${node}/storage`, { content });
    const row = (rows ?? []).find((r) => r.storage === storage);
    const names = (rows ?? []).map((r) => r.storage).join(', ') || 'none';
    if (!row) {
      throw new DomainError(
        'VALIDATION',
        `storage '${storage}' cannot hold ${WHAT[content].many} on node ${node}`,
        {
          hint: `Storages on ${node} that can: ${names}.`,
          details: { field: 'storage' },
        },
      );
    }
    if (num(row.active) !== 1 || (row.enabled !== undefined && num(row.enabled) !== 1)) {
      throw new DomainError('CONFLICT', `storage '${storage}' is disabled or not active on node ${node}`, {
        hint: `Storages on ${node} for ${WHAT[content].many}: ${names}.`,
      });
    }
  }
}
