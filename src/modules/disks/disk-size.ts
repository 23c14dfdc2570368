import { DomainError } from '../../common/errors/domain-error.js';

/** PVE's size units (K, M, G, T, powers of 1024); no unit is bytes. */
const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** The resize `size` argument as PVE's schema accepts it: `32G` (the new size) or `+8G` (added). */
export const RESIZE_SIZE_RE = /^\+?\d+(\.\d+)?[KMGT]?$/;

/** `32G`, `512M`, `1.5T`, `4194304` in bytes; undefined for anything else. */
export function parsePveSize(text: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text ?? '');
  return m ? Math.round(Number(m[1]) * UNITS[m[2]]) : undefined;
}

/** The `size=` of a drive or mount point string (`local-lvm:vm-100-disk-0,iothread=1,size=32G`). */
export function configuredSize(drive: string): number | undefined {
  return parsePveSize(/(?:^|,)size=([^,]+)/.exec(drive)?.[1]);
}

/** The volume id of a drive or mount point string: its first part, or `file=`/`volume=`. */
export function driveVolume(drive: string): string {
  const parts = drive.split(',');
  const named = parts.find((p) => /^(?:file|volume)=/.test(p));
  return named ? named.slice(named.indexOf('=') + 1) : (parts[0] ?? '');
}

/** `local-lvm:vm-100-disk-0` → `local-lvm`; paths and `none` have no storage. */
export function volumeStorageId(volid: string): string | undefined {
  return /^([a-z][a-z0-9\-_.]*[a-z0-9]):./i.exec(volid)?.[1];
}

/** Bytes as PVE prints sizes: the largest unit that divides them exactly (`34359738368` → `32G`). */
export function formatPveSize(bytes: number): string {
  for (const unit of ['T', 'G', 'M', 'K'] as const) {
    if (bytes >= UNITS[unit] && bytes % UNITS[unit] === 0) return `${bytes / UNITS[unit]}${unit}`;
  }
  return String(bytes);
}

/**
 * The size a resize ends at, refused before anything is sent when it would shrink the disk (PVE cannot: "shrinking
 * disks is not supported") or leave it as it is.
 */
export function plannedSize(what: string, current: number, size: string): number {
  const grow = size.startsWith('+');
  const amount = parsePveSize(grow ? size.slice(1) : size);
  if (amount === undefined) {
    throw new DomainError('VALIDATION', `size '${size}' is not a size like 40G or +8G`, {
      details: { field: 'size' },
    });
  }
  const target = grow ? current + amount : amount;
  if (target < current) {
    throw new DomainError(
      'VALIDATION',
      `Shrinking is not supported: ${what} is ${formatPveSize(current)} and size ${size} would make it smaller`,
      {
        hint: `Give a size above ${formatPveSize(current)} (e.g. ${formatPveSize(current + 1024 ** 3)}) or grow it with +<n>G. Proxmox never shrinks a disk.`,
        details: { field: 'size', current_bytes: current, requested_bytes: target },
      },
    );
  }
  if (target === current) {
    throw new DomainError('VALIDATION', `${what} is already ${formatPveSize(current)}: nothing to resize`, {
      hint: 'Give a larger size, or +<n>G to grow it.',
      details: { field: 'size', current_bytes: current },
    });
  }
  return target;
}

/** A config `lock` (backup, snapshot, migrate, …): PVE refuses disk and template changes while it is held. */
export function assertNotLocked(label: string, config: Record<string, string | number>): void {
  if (config.lock === undefined) return;
  throw new DomainError('CONFLICT', `${label} is locked (${String(config.lock)})`, {
    hint: 'Another task holds the guest (list_tasks shows it); retry once it has finished.',
    details: { lock: config.lock },
  });
}
