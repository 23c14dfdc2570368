import { DomainError } from '../common/errors/domain-error.js';

/**
 * Builds PVE API paths from caller-supplied values without letting any value change which endpoint is called:
 *
 *   pvePath`/nodes/${node}/qemu/${vmid}/config`
 *
 * Every interpolated value is one path segment, percent-encoded with encodeURIComponent. A value that is empty,
 * `.` or `..`, or that contains `/` or `\` (also after percent-decoding, in case some hop decodes twice) is refused
 * with a VALIDATION error, so `../../access/users` or `100%2F..%2F..` can never move a request elsewhere.
 *
 * The one PVE parameter that legitimately contains `/` is a storage volume id (`local:iso/debian.iso`), which the
 * delete-volume endpoint takes as a single encoded segment; wrap such a value in `volumeSegment()` to allow it.
 */
export function pvePath(strings: TemplateStringsArray, ...values: PathValue[]): string {
  let out = strings[0];
  values.forEach((value, i) => {
    out += encodeSegment(value) + strings[i + 1];
  });
  return out;
}

export type PathValue = string | number | VolumeSegment;

/** A value allowed to contain `/` (encoded as %2F); still one segment, still without `.`/`..` components. */
export class VolumeSegment {
  constructor(readonly value: string) {}
}

export const volumeSegment = (volid: string): VolumeSegment => new VolumeSegment(volid);

function encodeSegment(value: PathValue): string {
  const allowSlash = value instanceof VolumeSegment;
  const raw = allowSlash ? value.value : value;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw refuse(String(raw), 'is not a finite number');
    return encodeURIComponent(String(raw));
  }
  if (typeof raw !== 'string') throw refuse(String(raw), 'is not a string or number');
  for (const form of decodedForms(raw)) {
    if (form === '' || form === '.' || form === '..') throw refuse(raw, 'is empty, "." or ".."');
    if (form.includes('\\')) throw refuse(raw, 'contains "\\"');
    if (allowSlash) {
      if (form.split('/').some((part) => part === '.' || part === '..')) {
        throw refuse(raw, 'contains a "." or ".." path component');
      }
    } else if (form.includes('/')) {
      throw refuse(raw, 'contains "/"');
    }
  }
  return encodeURIComponent(raw);
}

/** The value itself plus every distinct result of repeatedly percent-decoding it (bounded). */
function decodedForms(value: string): string[] {
  const forms = [value];
  let current = value;
  for (let i = 0; i < 4; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      break; // not valid percent-encoding: a server cannot decode it further either
    }
    if (next === current) break;
    forms.push(next);
    current = next;
  }
  return forms;
}

function refuse(value: string, why: string): DomainError {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return new DomainError('VALIDATION', `Invalid path segment ${JSON.stringify(shown)}: it ${why}`, {
    hint: 'Node names, VM ids, storage ids and similar values are single path segments and cannot contain "/".',
  });
}
