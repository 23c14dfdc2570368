import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, type AppConfig, type TargetConfig } from '../../src/config/app-config.js';
import { loadConfig } from '../../src/config/config.loader.js';

/**
 * Which cluster the live scenario suite (`npm run test:live`) may touch, and the refusals that keep it away from
 * every other one. The stories create, start, snapshot, roll back and delete guests of their own; a wrong target
 * is someone's production, so anything doubtful is refused before a single request is sent.
 */

/** The suite's own config file; the server's default `proxmox-config/config.json` is never read. */
export const LIVE_CONFIG_DEFAULT = 'proxmox-config/config.live.json';
export const LIVE_CONFIG_EXAMPLE = 'proxmox-config/config.live.example.json';
const SERVER_DEFAULT_CONFIG = 'proxmox-config/config.json';

/** Host names that only ever appear in examples (RFC 2606 names and the ones our example files use). */
const PLACEHOLDER_HOSTS = new Set(['your-proxmox-host', 'your-pve-host', 'proxmox.example', 'pve.example']);
const PLACEHOLDER_DOMAIN = /(^|\.)(example\.(com|net|org)|example|invalid)$/i;
const PLACEHOLDER_SECRET = /^(REPLACE|YOUR|CHANGE)[-_]|^x{8,}$|^<.*>$/i;

/** Why the suite will not run against a target; the message says what to change. */
export class E2eRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'E2eRefusal';
  }
}

/**
 * A target may host the stories only when its config says `allow_e2e: true`, it is not read-only and its host
 * and token are not an example's placeholders. Checked for the simulator too (simulatorTargetConfig allows it).
 */
export function assertE2eAllowed(target: TargetConfig): void {
  const where = `target '${target.name}'`;
  if (target.allowE2e !== true) {
    throw new E2eRefusal(
      `${where} does not say "allow_e2e": true. The scenario suite creates, changes and deletes test VMs, ` +
        `containers, backups and ISO files there (all tagged or named mcp-e2e); add "allow_e2e": true to ` +
        `targets.${target.name} only on a cluster where that is acceptable.`,
    );
  }
  if (target.readOnly) {
    throw new E2eRefusal(`${where} is read_only: the scenario suite needs to create and delete test guests`);
  }
  const host = target.host.toLowerCase();
  if (PLACEHOLDER_HOSTS.has(host) || PLACEHOLDER_DOMAIN.test(host)) {
    throw new E2eRefusal(
      `${where} has the placeholder host "${target.host}" from an example file: set proxmox.host to your ` +
        `Proxmox VE host (name or address)`,
    );
  }
  if (PLACEHOLDER_SECRET.test(target.tokenValue)) {
    throw new E2eRefusal(
      `${where} still has the example's token_value: set auth.token_value to the secret of the API token ` +
        `${target.user}!${target.tokenName}`,
    );
  }
}

export interface LiveTarget {
  configPath: string;
  config: AppConfig;
  target: TargetConfig;
}

/**
 * The live target from PROXMOX_MCP_E2E_CONFIG (default proxmox-config/config.live.json): the one target, or the
 * one named by PROXMOX_MCP_E2E_TARGET. Throws E2eRefusal with a message fit to print.
 */
export function resolveLiveTarget(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LiveTarget {
  const named = env.PROXMOX_MCP_E2E_CONFIG;
  const configPath = resolve(cwd, named || LIVE_CONFIG_DEFAULT);
  if (configPath === resolve(cwd, SERVER_DEFAULT_CONFIG)) {
    throw new E2eRefusal(
      `PROXMOX_MCP_E2E_CONFIG names ${SERVER_DEFAULT_CONFIG}, the server's own config. The scenario suite ` +
        `deletes guests: give it a file of its own (copy ${LIVE_CONFIG_EXAMPLE} to ${LIVE_CONFIG_DEFAULT}).`,
    );
  }
  if (!existsSync(configPath)) {
    throw new E2eRefusal(
      `${named ? `PROXMOX_MCP_E2E_CONFIG: ${configPath}` : LIVE_CONFIG_DEFAULT} does not exist. Copy ` +
        `${LIVE_CONFIG_EXAMPLE} to ${LIVE_CONFIG_DEFAULT} (or point PROXMOX_MCP_E2E_CONFIG at a file), fill in ` +
        `the host and an API token, and set "allow_e2e": true on the target (see docs/testing.md).`,
    );
  }
  let config: AppConfig;
  try {
    // only the file: the server's own PROXMOX_* variables of this shell must not redirect the suite
    config = loadConfig({ PROXMOX_MCP_CONFIG: configPath, HOME: env.HOME }, { cwd });
  } catch (error) {
    if (error instanceof ConfigError) throw new E2eRefusal(`${configPath}: ${error.message}`);
    throw error;
  }
  const wanted = env.PROXMOX_MCP_E2E_TARGET;
  const names = config.targets.map((t) => t.name);
  let target: TargetConfig | undefined;
  if (wanted) {
    target = config.targets.find((t) => t.name === wanted);
    if (!target) {
      throw new E2eRefusal(
        `PROXMOX_MCP_E2E_TARGET=${wanted}: ${configPath} has no such target (it has: ${names.join(', ')})`,
      );
    }
  } else if (config.targets.length === 1) {
    target = config.targets[0];
  } else {
    throw new E2eRefusal(
      `${configPath} has ${names.length} targets (${names.join(', ')}): name the one for the scenario suite ` +
        `with PROXMOX_MCP_E2E_TARGET`,
    );
  }
  assertE2eAllowed(target);
  return { configPath, config, target };
}
