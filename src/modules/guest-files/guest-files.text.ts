import type { VmFileContentDto, VmFileWrittenDto } from './dto/guest-files.dto.js';

/** The summary line, then the content itself (text, or base64 for binary content) for clients that show text only. */
export function fileContentText(r: VmFileContentDto): string[] {
  const range = r.offset ? ` from offset ${r.offset}` : '';
  const cut = r.truncated
    ? `; truncated at ${r.max_bytes} bytes, read the rest with offset ${r.next_offset}`
    : '';
  const head = `${r.path} in VM ${r.vmid} on ${r.node}: ${r.bytes_read} bytes${range} (${r.encoding === 'base64' ? 'base64' : 'text'})${cut}`;
  return [head, r.content];
}

export function fileWrittenText(r: VmFileWrittenDto): string {
  return `Wrote ${r.bytes_written} bytes to ${r.path} in VM ${r.vmid} on ${r.node}`;
}
