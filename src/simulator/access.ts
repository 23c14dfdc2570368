import { PveError } from './pve-error.js';

/**
 * The privileges of the simulator's API token: an ACL of path → privileges (every entry propagates to the paths
 * below it, like `pveum acl modify PATH --roles ROLE --propagate 1`). The default is what `root@pam` (and a token
 * of it without privilege separation) has: every privilege on `/`. GET /access/permissions answers from it in
 * PVE's shape; other endpoints do not enforce it (the simulator plays an administrator's token there).
 */
export type TokenAcl = Record<string, readonly string[]>;

/** Every privilege of PVE 9's built-in Administrator role (pveum role list). */
export const ALL_PRIVILEGES: readonly string[] = [
  'Datastore.Allocate',
  'Datastore.AllocateSpace',
  'Datastore.AllocateTemplate',
  'Datastore.Audit',
  'Group.Allocate',
  'Mapping.Audit',
  'Mapping.Modify',
  'Mapping.Use',
  'Permissions.Modify',
  'Pool.Allocate',
  'Pool.Audit',
  'Realm.Allocate',
  'Realm.AllocateUser',
  'SDN.Allocate',
  'SDN.Audit',
  'SDN.Use',
  'Sys.AccessNetwork',
  'Sys.Audit',
  'Sys.Console',
  'Sys.Incoming',
  'Sys.Modify',
  'Sys.PowerMgmt',
  'Sys.Syslog',
  'User.Modify',
  'VM.Allocate',
  'VM.Audit',
  'VM.Backup',
  'VM.Clone',
  'VM.Config.CDROM',
  'VM.Config.CPU',
  'VM.Config.Cloudinit',
  'VM.Config.Disk',
  'VM.Config.HWType',
  'VM.Config.Memory',
  'VM.Config.Network',
  'VM.Config.Options',
  'VM.Console',
  'VM.GuestAgent.Audit',
  'VM.GuestAgent.FileRead',
  'VM.GuestAgent.FileSystemMgmt',
  'VM.GuestAgent.FileWrite',
  'VM.GuestAgent.Unrestricted',
  'VM.Migrate',
  'VM.PowerMgmt',
  'VM.Replicate',
  'VM.Snapshot',
  'VM.Snapshot.Rollback',
];

/** The paths PVE's get_effective_permissions always reports (when something is granted there). */
const BASE_PATHS = ['/', '/access', '/access/groups', '/nodes', '/pool', '/sdn', '/storage', '/vms'];

export class TokenAccess {
  private acl: TokenAcl = { '/': ALL_PRIVILEGES };

  constructor(acl?: TokenAcl) {
    if (acl) this.set(acl);
  }

  /** Replaces the ACL (tests restrict the token between cases). */
  set(acl: TokenAcl): void {
    const known = new Set(ALL_PRIVILEGES);
    for (const [path, privileges] of Object.entries(acl)) {
      if (!/^\/([^/\s]+(\/[^/\s]+)*)?$/.test(path)) {
        throw new RangeError(`simulator acl: path "${path}" must look like / or /vms/100`);
      }
      const unknown = privileges.filter((p) => !known.has(p));
      if (unknown.length) {
        throw new RangeError(`simulator acl ${path}: unknown privilege(s) ${unknown.join(', ')}`);
      }
    }
    this.acl = Object.fromEntries(Object.entries(acl).map(([path, privs]) => [path, [...privs]]));
  }

  /** The token's privileges on one path: the entries on it and on every path above it. */
  privilegesAt(path: string): string[] {
    const found = new Set<string>();
    for (const [aclPath, privileges] of Object.entries(this.acl)) {
      if (aclPath === '/' || path === aclPath || path.startsWith(`${aclPath}/`)) {
        for (const p of privileges) found.add(p);
      }
    }
    return [...found].sort();
  }

  /**
   * GET /access/permissions: `{path: {privilege: 1}}` (1 = propagates) for the standard paths and every ACL path,
   * or for `path` alone. PVE lets a token dump its own permissions; another user's need Sys.Audit on /access,
   * and the simulator knows no other users.
   */
  permissions(
    authUser: string,
    params: { path?: unknown; userid?: unknown },
  ): Record<string, Record<string, 1>> {
    if (typeof params.userid === 'string' && params.userid !== authUser) {
      if (!this.privilegesAt('/access').includes('Sys.Audit')) {
        throw new PveError(403, 'Permission check failed (/access, Sys.Audit)');
      }
      throw PveError.internal(`no such user ('${params.userid}')`);
    }
    const paths = typeof params.path === 'string' ? [params.path] : [...BASE_PATHS, ...Object.keys(this.acl)];
    const result: Record<string, Record<string, 1>> = {};
    for (const path of new Set(paths)) {
      const privileges = this.privilegesAt(path);
      if (privileges.length) result[path] = Object.fromEntries(privileges.map((p) => [p, 1 as const]));
    }
    return result;
  }
}
