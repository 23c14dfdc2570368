import type { PrivilegeCheck, PrivilegeRequirement } from '../../common/tools/pve-privileges.js';

/** GET /access/permissions: path → (privilege → 1 when it propagates to the paths below, 0 when not). */
export type EffectivePermissions = Record<string, Record<string, number>>;

/** What the token lacks for one requirement: `partialOn` = granted only on these paths below `path`. */
export interface PrivilegeGap {
  /** Stable text that names the requirement, e.g. `VM.PowerMgmt on /vms`. */
  label: string;
  path: string;
  privs: string[];
  partialOn: string[];
  /** What to grant to close the gap: one privilege of an `any` check, the narrowest alternative of a `oneOf`. */
  grant: { path: string; privs: string[] };
}

const isUnder = (path: string, parent: string) =>
  parent === '/' ? path !== '/' : path.startsWith(`${parent}/`);

/**
 * Whether the token holds `priv` on `path`. PVE reports effective privileges per listed path, already inherited,
 * so the nearest listed path at or above `path` decides; above it, only a privilege that propagates counts.
 */
export function holds(perms: EffectivePermissions, path: string, priv: string): boolean {
  let nearest: string | undefined;
  for (const listed of Object.keys(perms)) {
    if ((listed === path || isUnder(path, listed)) && (!nearest || listed.length > nearest.length)) {
      nearest = listed;
    }
  }
  if (nearest === undefined) return false;
  const value = perms[nearest][priv];
  return nearest === path ? value !== undefined : value === 1;
}

/** Paths below `path` where the token holds `priv` (an ACL on single guests, storages or nodes). */
function grantedBelow(perms: EffectivePermissions, path: string, priv: string): string[] {
  return Object.keys(perms)
    .filter((listed) => isUnder(listed, path) && perms[listed][priv] !== undefined)
    .sort();
}

function checkOne(perms: EffectivePermissions, check: PrivilegeCheck): PrivilegeGap | undefined {
  const missing = check.privs.filter((p) => !holds(perms, check.path, p));
  if (check.any ? missing.length < check.privs.length : missing.length === 0) return undefined;
  const privs = check.any ? [...check.privs] : missing;
  const partialOn = [...new Set(privs.flatMap((p) => grantedBelow(perms, check.path, p)))].sort();
  return {
    label: `${privs.join(check.any ? ' or ' : ' + ')} on ${check.path}`,
    path: check.path,
    privs,
    partialOn,
    grant: { path: check.path, privs: check.any ? [privs[0]] : privs },
  };
}

/** The requirements of one tool the token does not meet (empty = the tool has what it needs). */
export function privilegeGaps(
  perms: EffectivePermissions,
  requirements: readonly PrivilegeRequirement[],
): PrivilegeGap[] {
  const gaps: PrivilegeGap[] = [];
  for (const requirement of requirements) {
    if ('oneOf' in requirement) {
      const alternatives = requirement.oneOf.map((c) => checkOne(perms, c));
      if (alternatives.some((gap) => gap === undefined)) continue;
      const found = alternatives as PrivilegeGap[];
      const narrowest = [...found].sort((a, b) => a.grant.privs.length - b.grant.privs.length)[0];
      gaps.push({
        label: found.map((g) => g.label).join(', or '),
        path: found[0].path,
        privs: found.flatMap((g) => g.privs),
        // alternatives on different paths: "granted below" would mix them up, so it is not reported
        partialOn: [],
        grant: narrowest.grant,
      });
    } else {
      const gap = checkOne(perms, requirement);
      if (gap) gaps.push(gap);
    }
  }
  return gaps;
}

/** A built-in PVE role that grants the privilege, to name in the fix (undefined: a custom role is needed). */
export function roleFor(priv: string): string | undefined {
  if (priv.startsWith('VM.')) return 'PVEVMAdmin';
  if (priv === 'Datastore.Audit' || priv === 'Datastore.AllocateSpace') return 'PVEDatastoreUser';
  if (priv.startsWith('Datastore.')) return 'PVEDatastoreAdmin';
  if (priv === 'Sys.Audit') return 'PVEAuditor';
  if (priv === 'SDN.Use') return 'PVESDNUser';
  return undefined;
}
