import { applyDecorators } from '@nestjs/common';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { POOL_ID_PATTERN } from '../../../common/validation/proxmox-formats.js';
import { IsVmid } from '../../../common/validation/proxmox.validators.js';
import { stacked } from '../../../common/validation/stacked.js';
import { StringOrStringsSchema } from '../../../common/validation/string-or-strings.js';

/**
 * PVE value formats the VM, container and snapshot tools check before anything is sent (pve-common JSONSchema.pm and
 * qemu-server's cloud-init formats, restated). Checked here so a bad value is a VALIDATION error naming the field,
 * not a Proxmox 400 after a half-done sequence of calls.
 */
/** The two kinds of guest, as PVE names them in paths and the tools take them (`vm_type`). */
export const VM_TYPES = ['qemu', 'lxc'] as const;
export type VmType = (typeof VM_TYPES)[number];

const DNS_LABEL = '[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?';

/** PVE `dns-name`: the VM name. */
export const DNS_NAME_RE = new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`);
export const DNS_NAME_MAX = 253;

/** PVE `pve-configid` (snapshot names): a letter, then letters, digits, `_` or `-`; at least 2, at most 40. */
export const SNAPNAME_RE = /^[a-zA-Z][a-zA-Z0-9_-]+$/;
export const SNAPNAME_MAX = 40;

/** PVE `pve-tag`; a list may separate tags with `;`, `,` or spaces, as PVE's own list parser does. */
const TAG = '[a-zA-Z0-9_][a-zA-Z0-9_\\-+.]*';
export const TAG_LIST_RE = new RegExp(`^${TAG}(?:[;, ]+${TAG})*$`);

/** Optional PVE tags, as an array or one string separated by `;`, `,` or spaces (VMs and containers alike). */
export const IsTagList = (description: string) =>
  applyDecorators(
    IsOptional(),
    IsString({ each: true }),
    Matches(TAG_LIST_RE, {
      each: true,
      message:
        "$property must be tags of letters, digits, '_', '-', '+', '.' (an array, or one string separated by ;)",
    }),
    StringOrStringsSchema(description, TAG_LIST_RE),
  );

/** An ISO volume on some storage: `local:iso/debian-12.iso`. */
export const ISO_VOLID_RE = /^[a-zA-Z][a-zA-Z0-9\-_.]*[a-zA-Z0-9]:iso\/[^/\\\s]+\.(?:iso|img)$/i;

/** An optional ISO volume (create_vm's iso and iso_volume). */
export const IsOptionalIsoVolume = (description: string) =>
  stacked(
    IsOptional(),
    IsString(),
    Matches(ISO_VOLID_RE, { message: '$property must be an ISO volume id such as local:iso/debian-12.iso' }),
    JSONSchema({ description }),
  );

/** A Linux bridge name (`vmbr0`, `vmbr10.20`). */
export const BRIDGE_RE = /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;

/** PVE `pve-poolid`. */
export const POOL_RE = new RegExp(POOL_ID_PATTERN);

/** Optional resource pool a new or cloned VM or container joins (create_vm, clone_vm, create/clone_container). */
export const IsOptionalPoolId = (description: string) =>
  stacked(
    IsOptional(),
    IsString(),
    Matches(POOL_RE, { message: "$property must be a pool id: letters, digits, '.', '-', '_'" }),
    JSONSchema({ description }),
  );

/** clone_vm / clone_container: the ID of the new guest. */
export const IsOptionalCloneTargetVmid = () =>
  stacked(
    IsOptional(),
    IsVmid(),
    JSONSchema({ description: 'ID for the clone (PVE newid); default: the next free ID (/cluster/nextid)' }),
  );

/** clone_vm / clone_container: clone the guest as it was in a snapshot. */
export const IsOptionalCloneSnapname = (description: string) =>
  stacked(
    IsOptional(),
    IsString(),
    MaxLength(SNAPNAME_MAX),
    Matches(SNAPNAME_RE, {
      message:
        "$property must be a snapshot name: a letter, then letters, digits, '_' or '-' (2-40 characters)",
    }),
    JSONSchema({ description }),
  );

/** clone_vm / clone_container: the clone's notes. */
export const IsOptionalCloneNotes = () =>
  stacked(IsOptional(), IsString(), MaxLength(8192), JSONSchema({ description: 'Notes for the clone' }));

/** A cloud-init user name (POSIX user name rules, loosely). */
export const CIUSER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/i;

const IPV4 = '(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV6 = '[0-9a-fA-F:]*:[0-9a-fA-F:.]*';
const IPCONFIG_ITEM =
  `(?:ip=(?:dhcp|${IPV4}/(?:3[0-2]|[12]?\\d))|gw=${IPV4}` +
  `|ip6=(?:dhcp|auto|${IPV6}/(?:12[0-8]|1[01]\\d|[1-9]?\\d))|gw6=${IPV6})`;
/** PVE `pve-qm-ipconfig`: `ip=dhcp`, `ip=10.0.0.5/24,gw=10.0.0.1`, `ip6=auto`, … */
export const IPCONFIG_RE = new RegExp(`^${IPCONFIG_ITEM}(?:,${IPCONFIG_ITEM})*$`);

/** PVE `address-list` for nameserver: IPs separated by spaces, commas or semicolons. */
export const NAMESERVER_RE = new RegExp(`^(?:${IPV4}|${IPV6})(?:[;, ]+(?:${IPV4}|${IPV6}))*$`);

/** DNS search domains, space separated. */
export const SEARCHDOMAIN_RE = new RegExp(
  `^(${DNS_LABEL}\\.)*${DNS_LABEL}(?: +(${DNS_LABEL}\\.)*${DNS_LABEL})*$`,
);

export const QEMU_OSTYPES = [
  'other',
  'wxp',
  'w2k',
  'w2k3',
  'w2k8',
  'wvista',
  'win7',
  'win8',
  'win10',
  'win11',
  'l24',
  'l26',
  'solaris',
] as const;

/** Tags as PVE stores them (`a;b`), from an array or any `;`/`,`/space separated text. */
export function tagList(tags: string | string[] | undefined): string | undefined {
  if (tags === undefined) return undefined;
  const all = (Array.isArray(tags) ? tags : [tags]).flatMap((t) => t.split(/[;, ]+/)).filter(Boolean);
  return [...new Set(all)].join(';');
}

/**
 * `sshkeys` as PVE wants it: URL-encoded (format `urlencoded`, checked with /^[-%a-zA-Z0-9_.!~*'()]*$/), which is
 * exactly what encodeURIComponent produces. The keys are one per line.
 */
export function encodeSshKeys(keys: string | string[] | undefined): string | undefined {
  if (keys === undefined) return undefined;
  const lines = (Array.isArray(keys) ? keys : [keys])
    .flatMap((k) => k.split(/\r?\n/))
    .map((k) => k.trim())
    .filter(Boolean);
  return encodeURIComponent(lines.join('\n'));
}
