import type { FilesConfig } from './app-config.js';

/**
 * Defaults of the `files` section (read_vm_file / write_vm_file through the QEMU guest agent). Globs, matched against
 * the normalised absolute path (src/security/policy/file-path.ts): `*` and `?` stay inside one path segment, `**`
 * spans segments (`/proc/**` is /proc and everything below it). A pattern starting with a drive (`C:/…`, any drive:
 * `?:/…`) is a Windows rule, matched without case; every other pattern is a POSIX rule, matched with case.
 *
 * The lists are a safety net for the obvious, not a sandbox: the agent runs as root / SYSTEM and follows symlinks
 * inside the guest, which this server cannot see.
 */

/** Everywhere (both kinds of guest); the deny lists carve out what must not be touched. */
export const DEFAULT_FILE_ALLOW_PATHS: readonly string[] = Object.freeze(['/**', '?:/**']);

/** Secrets and kernel/device trees: never read. */
export const DEFAULT_FILE_READ_DENY_PATHS: readonly string[] = Object.freeze([
  '/etc/shadow*',
  '/etc/gshadow*',
  '/etc/security/opasswd',
  '/etc/ssh/ssh_host_*_key',
  '/etc/pve/priv/**',
  '/root/.ssh/id_*',
  '/home/*/.ssh/id_*',
  '/proc/**',
  '/sys/**',
  '/dev/**',
  '?:/Windows/System32/config/**',
  '?:/ProgramData/ssh/ssh_host_*_key',
  '?:/Users/*/.ssh/id_*',
]);

/**
 * Never written: everything never read, plus what decides who logs in and what boots or runs as a system
 * program (accounts, sudo, PAM, SSH keys and authorized_keys, the preload list, /boot, binaries and libraries,
 * the cluster file system of a nested PVE, and the Windows system folders).
 */
export const DEFAULT_FILE_WRITE_DENY_PATHS: readonly string[] = Object.freeze([
  ...DEFAULT_FILE_READ_DENY_PATHS,
  '/etc/passwd*',
  '/etc/group*',
  '/etc/sudoers',
  '/etc/sudoers.d/**',
  '/etc/pam.d/**',
  '/etc/ld.so.preload',
  '/etc/ssh/ssh_host_*',
  '/etc/pve/**',
  '/root/.ssh/**',
  '/home/*/.ssh/**',
  '/boot/**',
  '/bin/**',
  '/sbin/**',
  '/lib/**',
  '/lib64/**',
  '/usr/bin/**',
  '/usr/sbin/**',
  '/usr/lib/**',
  '/usr/lib64/**',
  '?:/Windows/**',
  '?:/Boot/**',
  '?:/EFI/**',
  '?:/bootmgr',
  '?:/ProgramData/ssh/**',
  '?:/Users/*/.ssh/**',
]);

/** PVE's file-read limit (16 MiB) would be a 22 MiB base64 answer, over the client's 16 MiB response cap. */
export const MAX_FILE_READ_BYTES = 8 * 1024 * 1024;
export const DEFAULT_FILE_READ_BYTES = 1024 * 1024;
/** file-write takes at most 61440 characters of base64 (the 9.1 schema's maxLength): 46080 bytes. */
export const MAX_FILE_WRITE_BYTES = (61440 / 4) * 3;

/** The `files` section when the configuration has none (hand-built configs, tests). */
export function defaultFilesConfig(): FilesConfig {
  return {
    readAllowPaths: [...DEFAULT_FILE_ALLOW_PATHS],
    readDenyPaths: [...DEFAULT_FILE_READ_DENY_PATHS],
    writeAllowPaths: [...DEFAULT_FILE_ALLOW_PATHS],
    writeDenyPaths: [...DEFAULT_FILE_WRITE_DENY_PATHS],
    maxReadBytes: DEFAULT_FILE_READ_BYTES,
    maxWriteBytes: MAX_FILE_WRITE_BYTES,
  };
}
