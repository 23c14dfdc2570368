import { DomainError } from '../../common/errors/domain-error.js';

/**
 * File names and checksums for download-url, validated the way PVE would take them. PVE silently "normalises" a
 * name (drops everything up to the last / or \, turns other characters into `_`), so `../../etc/passwd.iso` would
 * become `passwd.iso`. Here a name must already be in normal form: what the caller asked for is exactly the file
 * that gets written, and a name with a path, `..`, spaces or shell characters is an error, not a surprise.
 */
export const MAX_FILENAME = 255;

/** A plain file name: letters, digits, `_` `.` `-`; not starting with `.` or `-`; no `..` anywhere. */
const PLAIN = '(?!.*\\.\\.)[A-Za-z0-9_][A-Za-z0-9_.-]*';

/** PVE's $ISO_EXT_RE_0 (case-insensitive, as PVE matches it). */
export const ISO_FILENAME_RE = new RegExp(`^${PLAIN}\\.(?:iso|img)$`, 'i');
/** PVE's $VZTMPL_EXT_RE_1: .tar, .tar.gz, .tar.xz, .tar.zst, .tar.bz2. */
export const TEMPLATE_FILENAME_RE = new RegExp(`^${PLAIN}\\.tar(?:\\.(?:gz|xz|zst|bz2))?$`, 'i');

const RULES = "letters, digits, '_', '.', '-' only, not starting with '.' or '-', no path and no '..'";
export const ISO_FILENAME_MESSAGE = `$property must be a plain file name ending in .iso or .img (${RULES}), at most ${MAX_FILENAME} characters`;
export const TEMPLATE_FILENAME_MESSAGE = `$property must be a plain file name ending in .tar, .tar.gz, .tar.xz, .tar.zst or .tar.bz2 (${RULES}), at most ${MAX_FILENAME} characters`;

/** delete_iso's reference: `storage:iso/name`, `storage:vztmpl/name`, or a bare file name (checked exactly later). */
export const VOLUME_REF_RE = new RegExp(
  `^(?:[a-zA-Z][a-zA-Z0-9\\-_.]*[a-zA-Z0-9]:(?:iso|vztmpl)/)?${PLAIN}$`,
);
export const VOLUME_REF_MESSAGE =
  '$property must be a volume ID such as local:iso/debian-12.iso (or local:vztmpl/…), or a plain file name such as debian-12.iso';

export const CHECKSUM_ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

const HEX_LENGTH: Record<ChecksumAlgorithm, number> = {
  md5: 32,
  sha1: 40,
  sha224: 56,
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

/**
 * The `checksum` + `checksum-algorithm` pair PVE gets, or none. An algorithm without a checksum, or a digest whose
 * length does not fit the algorithm (a sha1 given as sha256), is refused here: PVE would only fail after the whole
 * download.
 */
export function checksumParams(
  checksum: string | undefined,
  algorithm: ChecksumAlgorithm | undefined,
): { checksum?: string; 'checksum-algorithm'?: ChecksumAlgorithm } {
  if (checksum === undefined) {
    if (algorithm !== undefined) {
      throw new DomainError('VALIDATION', 'checksum_algorithm was given without a checksum', {
        hint: 'Pass checksum (the expected hex digest) too, or leave both out.',
        details: { field: 'checksum_algorithm' },
      });
    }
    return {};
  }
  const algo = algorithm ?? 'sha256';
  if (checksum.length !== HEX_LENGTH[algo]) {
    const fits = CHECKSUM_ALGORITHMS.filter((a) => HEX_LENGTH[a] === checksum.length);
    throw new DomainError(
      'VALIDATION',
      `checksum has ${checksum.length} hex digits, but a ${algo} digest has ${HEX_LENGTH[algo]}`,
      {
        hint: fits.length
          ? `A digest of that length is ${fits.join(' or ')}: set checksum_algorithm accordingly.`
          : 'Copy the whole digest from the publisher’s checksum file.',
        details: { field: 'checksum' },
      },
    );
  }
  return { checksum: checksum.toLowerCase(), 'checksum-algorithm': algo };
}
