import { createHash } from 'node:crypto';
import { isFileStorage } from '../guest-volumes.js';
import { PveError } from '../pve-error.js';
import type { RouteContext, Router } from '../router.js';
import { checkEnabled, contentDir, findVolume, requireStorage } from './storage-content.js';

/**
 * POST /nodes/{node}/storage/{storage}/download-url after pve-storage API2/Storage/Status.pm download_url and
 * PVE::Tools::download_file_from_url. Nothing is fetched: the "downloaded file" is invented. Its bytes are, by
 * definition, the URL's text (so a test can compute the checksum that matches, or give one that does not), and its
 * size is derived from the URL. A fetch that fails (DNS, HTTP 404, TLS) is played with
 * `sim.tasks.script({ match: { type: 'download' }, exitstatus: 'download failed: …' })`.
 */
export function registerDownloadRoutes(router: Router): void {
  router.post('/nodes/{node}/storage/{storage}/download-url', downloadUrl);
}

/** PVE::Storage::normalize_content_filename: the part after the last / or \, other characters become `_`. */
export function normalizeContentFilename(filename: string): string {
  return filename
    .replace(/\n$/, '')
    .replace(/^.*[/\\]/, '')
    .replace(/[^a-zA-Z0-9_.-]/g, '_');
}

/** PVE::Tools::encode_text: the task id must not carry `:` (or control and high-bit characters, or `%`). */
function encodeText(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what encode_text escapes
  return text.replace(/[\x00-\x1f\x7f-\xff:%]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** $ISO_EXT_RE_0, $VZTMPL_EXT_RE_1 and the import extensions, case-insensitive as in Storage.pm. */
const EXTENSIONS: Record<string, RegExp> = {
  iso: /[^/]+\.(?:iso|img)$/i,
  vztmpl: /[^/]+\.(?:tar|tar\.(?:gz|xz|zst|bz2))$/i,
  import: /[a-zA-Z0-9_.+=-]+\.(?:ova|ovf|qcow2|raw|vmdk)$/i,
};

/** The `format` a listing shows for a template (Plugin.pm: tzst, tgz, txz, tbz2, tar). */
function templateFormat(filename: string): string {
  const ext = /\.tar(?:\.(gz|xz|zst|bz2))?$/i.exec(filename)?.[1]?.toLowerCase();
  return ext ? { gz: 'tgz', xz: 'txz', zst: 'tzst', bz2: 'tbz2' }[ext]! : 'tar';
}

function downloadUrl(ctx: RouteContext): string {
  const node = ctx.node().name;
  const storage = requireStorage(ctx, ctx.str('storage') ?? '');
  checkEnabled(ctx, storage, node);
  if (!isFileStorage(storage.type)) {
    throw PveError.internal(`can't upload to storage type '${storage.type}', not a file based storage!`);
  }
  const content = ctx.str('content') ?? '';
  const url = ctx.str('url') ?? '';
  if (!storage.content.includes(content)) {
    throw PveError.internal(`storage '${storage.storage}' is not configured for content-type '${content}'`);
  }
  const filename = normalizeContentFilename(ctx.str('filename') ?? '');
  const pattern = EXTENSIONS[content];
  if (!pattern) throw PveError.params({ content: `upload content-type '${content}' is not allowed` });
  if (!pattern.test(filename)) {
    throw PveError.params({
      filename: content === 'import' ? 'invalid filename or wrong extension' : 'wrong file extension',
    });
  }
  const compression = ctx.str('compression');
  const algorithm = ctx.str('checksum-algorithm');
  const expected = ctx.str('checksum');
  const dest = `${contentDir(storage, content)}/${filename}`;
  const volid = `${storage.storage}:${content}/${filename}`;
  const digest = createHash('sha256').update(url).digest();
  const size = (content === 'iso' ? 64 : 8) * 1024 * 1024 + (digest.readUInt32BE(0) % (512 * 1024 * 1024));
  const got = algorithm ? createHash(algorithm).update(url).digest('hex') : '';

  return ctx.tasks.start({
    node,
    type: 'download',
    id: encodeText(filename),
    user: ctx.authUser,
    log: [`downloading ${url} to ${dest}`],
    progress: (pct) =>
      `${String(Math.round((size * pct) / 100 / 1024)).padStart(8)}K ........ ........ ........ ........ ${String(pct).padStart(3)}% 96.4M ${pct === 100 ? '0s' : '4s'}`,
    run: (task) => {
      if (compression && content !== 'iso') return `decompression not supported for ${content}`;
      if (findVolume(ctx, node, storage, volid)) {
        if (!algorithm) return `refusing to override existing file '${dest}'`;
        if (got === expected?.toLowerCase()) {
          task.log.push(
            'calculating checksum of existing file...OK, got correct file already, no need to download',
          );
          return undefined;
        }
        return `checksum mismatch: got '${got}' != expect '${expected ?? ''}', aborting`;
      }
      task.log.push(
        `--${new Date().toISOString().replace('T', ' ').slice(0, 19)}--  ${url}`,
        'HTTP request sent, awaiting response... 200 OK',
        `Length: ${size} (${Math.round(size / 1024 / 1024)}M) [application/octet-stream]`,
        `Saving to: '${dest}.tmp.${task.pid}'`,
      );
      if (algorithm) {
        if (got !== expected?.toLowerCase())
          return `checksum mismatch: got '${got}' != expect '${expected ?? ''}'`;
        task.log.push('calculating checksum...OK, checksum verified');
      }
      ctx.cluster.addVolume(node, storage, {
        volid,
        content,
        format:
          content === 'iso'
            ? 'iso'
            : content === 'vztmpl'
              ? templateFormat(filename)
              : filename.replace(/^.*\./, ''),
        size,
        ctime: Math.floor(Date.now() / 1000),
      });
      task.log.push(`download of '${url}' to '${dest}' finished`);
      return undefined;
    },
  }).upid;
}
