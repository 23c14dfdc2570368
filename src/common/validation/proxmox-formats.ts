/**
 * PVE's own identifier formats (pve-common JSONSchema.pm), used to validate every argument before it can reach a
 * URL path: a value that passes one of these can never contain '/', '?', '%' or whitespace.
 */
export const VMID_MIN = 100;
export const VMID_MAX = 999_999_999;
export const VMID_PATTERN = '^[1-9][0-9]{2,8}$';
export const NODE_NAME_PATTERN = '^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$';
export const NODE_NAME_MAX = 63;
export const STORAGE_ID_PATTERN = '^[a-zA-Z][a-zA-Z0-9\\-_.]*[a-zA-Z0-9]$';
export const STORAGE_ID_MAX = 100;
/**
 * PVE `pve-poolid` (pve-access-control verify_poolname): up to three levels `parent/child/grandchild`. The one
 * format here that may hold '/': PVE 9 takes a pool id in the query or body (`/pools?poolid=`), never in a path.
 */
export const POOL_ID_PATTERN = '^[A-Za-z0-9.\\-_]+(?:/[A-Za-z0-9.\\-_]+){0,2}$';
export const TARGET_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';

const vmidRe = new RegExp(VMID_PATTERN);
const nodeRe = new RegExp(NODE_NAME_PATTERN);
const storageRe = new RegExp(STORAGE_ID_PATTERN);
const targetRe = new RegExp(TARGET_NAME_PATTERN);
const poolRe = new RegExp(POOL_ID_PATTERN);

/** A VM/CT id as PVE accepts it: an integer 100..999999999, or the same digits as a string (no sign, no padding). */
export function isVmid(value: unknown): value is number | string {
  if (typeof value === 'number') return Number.isInteger(value) && value >= VMID_MIN && value <= VMID_MAX;
  return typeof value === 'string' && vmidRe.test(value);
}

export const isNodeName = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= NODE_NAME_MAX && nodeRe.test(v);

export const isStorageId = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= 2 && v.length <= STORAGE_ID_MAX && storageRe.test(v);

export const isPoolId = (v: unknown): v is string => typeof v === 'string' && poolRe.test(v);

export const isTargetName = (v: unknown): v is string => typeof v === 'string' && targetRe.test(v);
