import type { TargetConfig } from '../../config/app-config.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ProxmoxClient } from '../../proxmox/proxmox-client.js';
import { tlsModeOf } from '../../proxmox/tls.js';
import { peerCertificate, pinAdvice, untrustedCertificate } from '../../proxmox/tls-advice.js';
import { answeredWithoutVersion } from '../../proxmox/version-probe.js';
import { privilegeGaps, roleFor, type EffectivePermissions, type PrivilegeGap } from './privilege-check.js';
import type { DoctorRow } from './report.js';
import type { PrivilegeRequirement } from '../../common/tools/pve-privileges.js';

/** The oldest Proxmox VE release this server is built and tested against. */
export const MIN_PVE_MAJOR = 8;

/** A tool the server exposes, as the doctor needs it. */
export interface EnabledTool {
  name: string;
  risk: string;
  requirements: readonly PrivilegeRequirement[];
}

const TLS_TEXT = {
  pinned: 'TLS: pinned certificate fingerprint',
  'ca-file': 'TLS: verified with proxmox.ca_file',
  'system-ca': 'TLS: verified with the system CAs',
  insecure: 'TLS: NOT verified (verify_ssl=false)',
} as const;

/**
 * Connection, version and token privileges of one target. The client is the server's own (TLS pinning, error
 * normalisation), with GET retries off so an unreachable target is reported at once.
 */
export async function checkTarget(
  target: TargetConfig,
  tools: readonly EnabledTool[],
): Promise<{ rows: DoctorRow[]; client?: ProxmoxClient }> {
  const client = new ProxmoxClient(target, { getRetries: 0 });
  const row = (status: DoctorRow['status'], check: string, message: string, fix?: string): DoctorRow => ({
    status,
    check,
    target: target.name,
    message,
    ...(fix ? { fix } : {}),
  });
  const rows: DoctorRow[] = [];
  const where = `${target.host}:${target.port}`;

  let version: { version?: string; release?: string };
  try {
    version = await client.get<{ version?: string; release?: string }>('/version');
  } catch (error) {
    if (answeredWithoutVersion(error)) return versionlessTarget(client, target, tools, rows, error);
    const untrusted = await untrustedCertificate(error, target);
    rows.push(
      untrusted
        ? row(
            'fail',
            'connection',
            `${messageOf(error)} (the server presented SHA-256 ${untrusted.fingerprint})`,
            pinAdvice(target, untrusted),
          )
        : row('fail', 'connection', messageOf(error), connectionFix(error, target)),
    );
    await client.close();
    return { rows };
  }
  const mode = tlsModeOf(target);
  // unverified: name the certificate it presents and the line that pins it
  const seen =
    mode === 'insecure'
      ? await peerCertificate(target.host, target.port, Math.min(target.timeoutMs, 10_000))
      : undefined;
  rows.push(
    row(
      mode === 'insecure' ? 'warn' : 'pass',
      'connection',
      `Proxmox VE API at ${where} answers, the API token is accepted (${TLS_TEXT[mode]})`,
      mode === 'insecure'
        ? seen
          ? `${pinAdvice(target, seen)} Then remove verify_ssl=false.`
          : 'Pin the certificate: set proxmox.fingerprint (pvenode cert info, SHA-256) or proxmox.ca_file (/etc/pve/pve-root-ca.pem), then verify_ssl=true.'
        : undefined,
    ),
  );

  const shown = version.version ?? 'unknown';
  const major = Number.parseInt(shown, 10);
  if (!Number.isFinite(major)) {
    rows.push(
      row('warn', 'version', `Proxmox VE version not reported (${JSON.stringify(shown)})`, upgradeFix()),
    );
  } else if (major < MIN_PVE_MAJOR) {
    rows.push(
      row(
        'warn',
        'version',
        `Proxmox VE ${shown} is older than ${MIN_PVE_MAJOR}.0, the oldest release this server supports: some tools will fail`,
        upgradeFix(),
      ),
    );
  } else {
    rows.push(
      row('pass', 'version', `Proxmox VE ${shown}${version.release ? ` (release ${version.release})` : ''}`),
    );
  }

  rows.push(...(await checkPrivileges(client, target, tools)));
  return { rows, client };
}

/**
 * The target answers but serves no /version (a PVE-compatible emulator): reachable, version unknown. The token is
 * proven by the privilege read that follows (an unknown token fails it).
 */
async function versionlessTarget(
  client: ProxmoxClient,
  target: TargetConfig,
  tools: readonly EnabledTool[],
  rows: DoctorRow[],
  error: unknown,
): Promise<{ rows: DoctorRow[]; client: ProxmoxClient }> {
  const base = { target: target.name };
  rows.push(
    {
      ...base,
      status: 'pass',
      check: 'connection',
      message: `The API at ${target.host}:${target.port} answers (${TLS_TEXT[tlsModeOf(target)]})`,
    },
    {
      ...base,
      status: 'warn',
      check: 'version',
      message: `Proxmox VE version unknown: GET /version is not served (${messageOf(error)})`,
      fix: 'A PVE-compatible server that implements only part of the API: tools that need an endpoint it lacks will fail with UPSTREAM_REJECTED.',
    },
  );
  rows.push(...(await checkPrivileges(client, target, tools)));
  return { rows, client };
}

async function checkPrivileges(
  client: ProxmoxClient,
  target: TargetConfig,
  tools: readonly EnabledTool[],
): Promise<DoctorRow[]> {
  const tokenId = `${target.user}!${target.tokenName}`;
  const base = { target: target.name, check: 'privileges' };
  let perms: EffectivePermissions;
  try {
    perms = (await client.get<EffectivePermissions | null>('/access/permissions')) ?? {};
  } catch (error) {
    return [
      {
        ...base,
        status: 'warn',
        message: `The token's privileges could not be read (GET /access/permissions): ${messageOf(error)}`,
        fix: 'Nothing to grant for this endpoint (every token may read its own permissions); check the message above.',
      },
    ];
  }

  // requirement label → the tools it blocks; one row per missing privilege keeps the output short
  const missing = new Map<string, { gap: PrivilegeGap; tools: string[] }>();
  for (const tool of tools) {
    for (const gap of privilegeGaps(perms, tool.requirements)) {
      const entry = missing.get(gap.label) ?? { gap, tools: [] };
      entry.tools.push(tool.name);
      missing.set(gap.label, entry);
    }
  }
  const blocked = new Set([...missing.values()].flatMap((m) => m.tools));
  const scope = target.readOnly ? ' (read-only target: read tools only)' : '';
  const rows: DoctorRow[] = [
    {
      ...base,
      status: 'pass',
      message: `${tools.length - blocked.size} of ${tools.length} enabled tools have every privilege they need${scope}`,
    },
  ];
  for (const { gap, tools: names } of [...missing.values()].sort((a, b) =>
    a.gap.label.localeCompare(b.gap.label),
  )) {
    const list = names.sort().join(', ');
    const message = gap.partialOn.length
      ? `${gap.label}: granted only on ${gap.partialOn.join(', ')}; elsewhere these tools fail: ${list}`
      : `missing ${gap.label}: these tools will fail: ${list}`;
    rows.push({ ...base, status: 'warn', message, fix: grantFix(gap, tokenId) });
  }
  return rows;
}

function grantFix(gap: PrivilegeGap, tokenId: string): string {
  const { path, privs } = gap.grant;
  const roles = new Set(privs.map(roleFor));
  const builtIn = roles.size === 1 ? [...roles][0] : undefined;
  const custom = `MCP-${privs.map((p) => p.replace(/\./g, '')).join('-')}`;
  const grant = builtIn
    ? `pveum acl modify ${path} --tokens '${tokenId}' --roles ${builtIn}`
    : `pveum role add ${custom} --privs "${privs.join(' ')}" && pveum acl modify ${path} --tokens '${tokenId}' --roles ${custom}`;
  return (
    `Grant ${privs.join(' + ')} on ${path} to the token (with privilege separation its user needs it too), e.g.:\n` +
    `${grant}\nor turn the tools off with mcp.tool_denylist if they are not wanted.`
  );
}

function upgradeFix(): string {
  return `Upgrade the cluster to Proxmox VE ${MIN_PVE_MAJOR}.x or later (pve${MIN_PVE_MAJOR - 1}to${MIN_PVE_MAJOR} checklist).`;
}

/** The fix for a failed GET /version, by what went wrong. */
function connectionFix(error: unknown, target: TargetConfig): string {
  if (!(error instanceof DomainError)) return 'Unexpected error; run with LOG_LEVEL=debug and report it.';
  const details = (error.details ?? {}) as { network_error?: string; status?: number };
  if (error.code === 'UPSTREAM_TLS') {
    return /fingerprint mismatch/.test(error.message)
      ? "The certificate is not the pinned one. If the node's certificate was renewed on purpose, set proxmox.fingerprint to the fingerprint shown above (check it on the node: pvenode cert info); otherwise something is intercepting the connection."
      : (error.hint ?? 'Set proxmox.fingerprint or proxmox.ca_file.');
  }
  if (error.code === 'UPSTREAM_AUTH') {
    return (
      `Check auth.user (${target.user}), auth.token_name (${target.tokenName}) and auth.token_value of this target: ` +
      `the token must exist (pveum user token list ${target.user}), not be expired, and its user must be enabled.`
    );
  }
  if (details.network_error === 'ENOTFOUND' || details.network_error === 'EAI_AGAIN') {
    return `The host name ${target.host} does not resolve: fix proxmox.host (or DNS / /etc/hosts on this machine).`;
  }
  if (details.network_error === 'ECONNREFUSED') {
    return `Nothing listens on ${target.host}:${target.port}: check proxmox.port (configured: ${target.port}) and that pveproxy runs (systemctl status pveproxy).`;
  }
  return (
    error.hint ?? 'Check proxmox.host and proxmox.port, and the network between this machine and Proxmox.'
  );
}

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
