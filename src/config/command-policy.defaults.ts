/**
 * Defaults of the `command_policy` section. Patterns are matched like the reference does: case-insensitive,
 * unanchored search (`new RegExp(p, 'i').test(command)`).
 *
 * The reference's own defaults never matched anything (doubled backslashes in raw strings), and even the
 * corrected ones missed `rm -fr /`, `rm -r -f /`, `/bin/rm -rf /` and the spaced fork bomb. These are written
 * against those variants and are tested with them (test/config/deny-patterns.test.ts). A deny list is a safety net,
 * not a sandbox: `r''m -rf /` or `$(printf rm)` still get through, which is why the default mode is deny_all.
 */

/** Start of a command word: line start or any character that cannot be part of a name (space ; & | ( ` / $ …). */
const CMD = '(?:^|[^\\w.-])';
/** End of a command word. */
const END = '(?![\\w.-])';

export const DEFAULT_DENY_PATTERNS: readonly string[] = Object.freeze([
  // Recursive rm in any spelling: -rf, -fr, -Rf, -r -f, --recursive, options after operands (rm / -rf),
  // /bin/rm, sudo rm. Skipped tokens cannot contain ; & | so `rm a; ls -r` is not a match.
  `${CMD}rm\\s+(?:[^\\s;&|]+\\s+)*?(?:-[a-z]*r[a-z]*|--recursive)${END}`,
  // Fork bombs: a function that pipes itself into itself, `:(){ :|:& };:` with or without spaces, any name.
  '([\\w:.-]+)\\s*\\(\\s*\\)\\s*\\{[^}]*?\\1\\s*\\|\\s*&?\\s*\\1',
  // Creating or wiping file systems.
  `${CMD}(?:mkfs(?:\\.\\w+)?|mke2fs|mkswap|wipefs)${END}`,
  // dd writing to a device, and shell redirection onto a disk device.
  `${CMD}dd\\s(?:[^;&|]*\\s)?of=/dev/`,
  '>\\s*/dev/(?:sd|hd|vd|xvd|nvme|mmcblk|dm-|mapper/|disk/)',
  // Shutting the machine down.
  `${CMD}(?:shutdown|reboot|poweroff|halt)${END}`,
  `${CMD}(?:systemctl\\s+(?:reboot|poweroff|halt|kexec)|(?:tel)?init\\s+[06])${END}`,
]);

/** The reference's eight hard-coded high-risk tools (seed §2.8); command_policy.high_risk_operations replaces the list. */
export const DEFAULT_HIGH_RISK_OPERATIONS: readonly string[] = Object.freeze([
  'delete_vm',
  'delete_container',
  'delete_snapshot',
  'rollback_snapshot',
  'restore_backup',
  'delete_backup',
  'delete_iso',
  'update_container_ssh_keys',
]);
