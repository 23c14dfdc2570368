import { resolve } from 'node:path';
import type { SafetyConfig } from './app-config.js';

/** `safety.freeze_file` when unset: this file in the working directory (next to the default job database). */
export const DEFAULT_FREEZE_FILE = 'proxmox-mcp-plus.freeze';

/** `safety.protected_tag` when unset. */
export const DEFAULT_PROTECTED_TAG = 'protected';

/** A PVE tag (pve-tag format): letters, digits, `_`, then also `-`, `+` and `.`. */
export const PVE_TAG_RE = /^[a-z0-9_][a-z0-9_\-+.]*$/i;

/** The `safety` section when a config has none (hand-built configs, tests): nothing frozen, tag `protected`. */
export function safetyDefaults(cwd: string = process.cwd()): SafetyConfig {
  return {
    freeze: false,
    freezeFile: resolve(cwd, DEFAULT_FREEZE_FILE),
    protectedTag: DEFAULT_PROTECTED_TAG,
    protectedVmids: [],
    protectAllMutations: false,
  };
}
