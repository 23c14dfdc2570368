import { posix } from 'node:path';
import type { SimGuest } from './cluster-model.js';
import { hostName, isWindows, KERNEL, OS_RELEASE } from './guest-os-info.js';
import { PveError } from './pve-error.js';

/**
 * The files inside a simulated VM, as qemu-ga's guest-file-open/-read/-write see them (PVE's agent file-read and
 * file-write, qemu-server API2/Qemu/Agent.pm). Seeded per guest on first use (Debian or Windows), kept for the
 * simulator's lifetime (the agent checks are the handler's, handlers/agent-files.ts); `cat` and friends in guest-os.ts read the same files, so what file-write stored shows up in
 * execute_vm_command too. A file is opened in a directory that must exist (qemu-ga opens with fopen: no mkdir).
 */

/** PVE's file-read cap ($MAX_READ_SIZE). */
export const AGENT_FILE_READ_MAX = 16 * 1024 * 1024;

interface GuestFiles {
  windows: boolean;
  files: Map<string, Buffer>;
  dirs: Set<string>;
}

const stores = new WeakMap<SimGuest, GuestFiles>();

/** Every byte value, then a PNG-like header: a file that is not text. */
const BINARY = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
]);

function syslog(host: string): string {
  const lines: string[] = [];
  for (let i = 0; i < 200; i++) {
    const s = String(i % 60).padStart(2, '0');
    lines.push(
      `2026-12-07T03:${String(Math.floor(i / 60)).padStart(2, '0')}:${s}+00:00 ${host} systemd[1]: tick ${i}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function seed(guest: SimGuest): GuestFiles {
  const host = hostName(guest);
  if (isWindows(guest)) {
    const store: GuestFiles = { windows: true, files: new Map(), dirs: new Set() };
    const put = (path: string, data: string | Buffer) => setFile(store, path, Buffer.from(data));
    put(
      'C:\\Windows\\System32\\drivers\\etc\\hosts',
      '# Copyright (c) 1993-2009 Microsoft Corp.\r\n127.0.0.1 localhost\r\n',
    );
    put('C:\\Windows\\System32\\config\\SAM', BINARY);
    put('C:\\Users\\Administrator\\Documents\\notes.txt', `Notes of ${host}\r\n`);
    for (const dir of ['C:\\Temp', 'C:\\Users\\Public', 'C:\\ProgramData']) addDir(store, key(store, dir));
    return store;
  }
  const store: GuestFiles = { windows: false, files: new Map(), dirs: new Set() };
  const put = (path: string, data: string | Buffer) => setFile(store, path, Buffer.from(data));
  put('/etc/os-release', OS_RELEASE);
  put('/usr/lib/os-release', OS_RELEASE);
  put('/etc/hostname', `${host}\n`);
  put('/etc/debian_version', '12.8\n');
  put('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n');
  put('/etc/shadow', 'root:$y$j9T$simulated$hash:20000:0:99999:7:::\n');
  put(
    '/root/.ssh/id_ed25519',
    '-----BEGIN OPENSSH PRIVATE KEY-----\nc2ltdWxhdGVk\n-----END OPENSSH PRIVATE KEY-----\n',
  );
  put(
    '/proc/version',
    `Linux version ${KERNEL.release} (debian-kernel@lists.debian.org) ${KERNEL.version}\n`,
  );
  put('/var/log/syslog', syslog(host));
  put('/var/lib/misc/random-seed', BINARY);
  for (const dir of ['/tmp', '/var/tmp', '/home', '/root', '/boot', '/opt', '/srv']) addDir(store, dir);
  return store;
}

function filesOf(guest: SimGuest): GuestFiles {
  let store = stores.get(guest);
  if (!store) {
    store = seed(guest);
    stores.set(guest, store);
  }
  return store;
}

/** The lookup key: a POSIX path resolved as the kernel would; Windows paths without case, with `\`. */
function key(store: GuestFiles, path: string): string {
  if (!store.windows)
    return posix.normalize(path.startsWith('/') ? path : `/${path}`).replace(/(.)\/$/, '$1');
  return path.replace(/\//g, '\\').replace(/\\+$/, '').toLowerCase();
}

function parentOf(store: GuestFiles, k: string): string | undefined {
  const sep = store.windows ? '\\' : '/';
  const at = k.lastIndexOf(sep);
  if (at < 0) return undefined;
  if (!store.windows && at === 0) return k === '/' ? undefined : '/';
  return k.slice(0, at);
}

function addDir(store: GuestFiles, k: string): void {
  for (
    let dir: string | undefined = k;
    dir !== undefined && !store.dirs.has(dir);
    dir = parentOf(store, dir)
  ) {
    store.dirs.add(dir);
  }
}

function setFile(store: GuestFiles, path: string, data: Buffer): void {
  const k = key(store, path);
  store.files.set(k, data);
  const parent = parentOf(store, k);
  if (parent !== undefined) addDir(store, parent);
}

/** A file's bytes as the guest has them (guest-os.ts's `cat`), or undefined. */
export function guestFile(guest: SimGuest, path: string): Buffer | undefined {
  const store = filesOf(guest);
  return store.files.get(key(store, path));
}

/** Puts a file into the guest as if something inside it wrote one (tests). */
export function putGuestFile(guest: SimGuest, path: string, data: Buffer | string): void {
  setFile(filesOf(guest), path, Buffer.from(data));
}

const openError = (file: string, mode: string, why: string) =>
  PveError.internal(`Agent error: failed to open file '${file}' (mode: '${mode}'): ${why}`);

/**
 * file-read: reads up to `count` bytes from `offset`. Like qemu-ga, end of file is seen only by a read that comes
 * back short, so a file that ends exactly at `count` is still reported `truncated` (PVE's own behaviour).
 */
export function readFile(
  guest: SimGuest,
  file: string,
  options: { count?: number; offset?: number; decode: boolean },
): Record<string, unknown> {
  const store = filesOf(guest);
  const k = key(store, file);
  const data = store.files.get(k);
  if (data === undefined) {
    if (store.dirs.has(k)) {
      throw PveError.internal(`Agent error: failed to read file '${file}': Is a directory`);
    }
    throw openError(file, 'r', 'No such file or directory');
  }
  const count = options.count ?? AGENT_FILE_READ_MAX;
  const offset = options.offset ?? 0;
  const chunk = data.subarray(offset, offset + count);
  const result: Record<string, unknown> = {
    // decode: Perl's JSON encoder shows the decoded bytes one character per byte
    content: options.decode ? chunk.toString('latin1') : chunk.toString('base64'),
    'bytes-read': chunk.length,
  };
  if (data.length - offset >= count) result.truncated = 1;
  return result;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** file-write: opens with mode "w" (creates or truncates) in an existing directory; answers null. */
export function writeFile(guest: SimGuest, file: string, content: string, encode: boolean): null {
  const store = filesOf(guest);
  let bytes: Buffer;
  if (encode) bytes = Buffer.from(content, 'utf8');
  else {
    if (!BASE64.test(content))
      throw PveError.internal("Agent error: Invalid parameter 'buf-b64': not valid base64");
    bytes = Buffer.from(content, 'base64');
  }
  const k = key(store, file);
  if (store.dirs.has(k)) throw openError(file, 'w', 'Is a directory');
  const parent = parentOf(store, k);
  if (parent !== undefined && !store.dirs.has(parent))
    throw openError(file, 'w', 'No such file or directory');
  if (!store.windows && /^\/(?:proc|sys)(?:\/|$)/.test(k)) throw openError(file, 'w', 'Permission denied');
  store.files.set(k, bytes);
  return null;
}
