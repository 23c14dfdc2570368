import { calendarEventProblem } from '../common/validation/calendar-event.js';

/**
 * Named parameter formats of the PVE schema (`pve-node`, `pve-vmid`, `dns-name`, …), restated loosely from the
 * validators PVE registers (pve-common JSONSchema.pm, pve-storage, pve-access-control). Messages use PVE's wording,
 * so the simulator's 400 `errors` read like the real ones. Formats not listed here are accepted.
 */
type FormatCheck = (value: string) => string | null;

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const DNS_LABEL = '[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?';
const DNS_NAME = new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`);
const STORAGE_ID = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
const VOLUME_ID = /^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$/i;
const CONTENT_TYPES = new Set(['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import']);

const looksIPv6 = (v: string): boolean =>
  /^[0-9a-fA-F:.]+$/.test(v) && v.includes(':') && v.split('::').length <= 2;

const NAMED_FORMATS: Record<string, FormatCheck> = {
  'pve-node': (v) =>
    /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(v) ? null : 'value does not look like a valid node name',
  'pve-vmid': (v) => (/^[1-9][0-9]{2,8}$/.test(v) ? null : 'value does not look like a valid VM ID'),
  'pve-configid': (v) => (/^[a-z][a-z0-9_-]+$/i.test(v) ? null : `invalid configuration ID '${v}'`),
  'pve-storage-id': (v) =>
    v.length < 2
      ? `storage ID '${v}' cannot be shorter than 2 characters`
      : STORAGE_ID.test(v)
        ? null
        : `storage ID '${v}' contains illegal characters`,
  'pve-bridge-id': (v) => (/^[-_.\w]+$/.test(v) ? null : `invalid bridge ID '${v}'`),
  'pve-volume-id': (v) => (VOLUME_ID.test(v) ? null : `unable to parse volume ID '${v}'`),
  'pve-volume-id-or-qm-path': (v) =>
    v.startsWith('/') || VOLUME_ID.test(v) || v === 'none' || v === 'cdrom'
      ? null
      : `unable to parse volume ID '${v}'`,
  'pve-userid': (v) =>
    /^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/.test(v)
      ? null
      : `value '${v}' does not look like a valid user name`,
  'pve-realm': (v) =>
    /^[A-Za-z][A-Za-z0-9.\-_]+$/.test(v) ? null : `realm '${v}' contains invalid characters`,
  'pve-poolid': (v) =>
    /^[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+){0,2}$/.test(v)
      ? null
      : `pool name '${v}' contains invalid characters`,
  'pve-tag': (v) => (/^[a-z0-9_][a-z0-9_\-+.]*$/i.test(v) ? null : 'invalid characters in tag'),
  'pve-iface': (v) =>
    /^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/i.test(v) ? null : `invalid network interface name '${v}'`,
  'dns-name': (v) => (DNS_NAME.test(v) ? null : 'value does not look like a valid DNS name'),
  'mac-addr': (v) =>
    /^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i.test(v)
      ? null
      : 'value does not look like a valid unicast MAC address',
  ipv4: (v) => (IPV4.test(v) ? null : 'value does not look like a valid IPv4 address'),
  ipv6: (v) => (looksIPv6(v) ? null : 'value does not look like a valid IPv6 address'),
  ip: (v) => (IPV4.test(v) || looksIPv6(v) ? null : 'value does not look like a valid IP address'),
  CIDR: (v) => {
    const [address, mask, extra] = v.split('/');
    return extra === undefined &&
      mask !== undefined &&
      /^\d+$/.test(mask) &&
      (IPV4.test(address) || looksIPv6(address))
      ? null
      : 'value does not look like a valid CIDR network';
  },
  email: (v) => (/^[^\s@]+@[^\s@]+$/.test(v) ? null : 'value does not look like a valid email address'),
  urlencoded: (v) => (/^[-%a-zA-Z0-9_.!~*'()]*$/.test(v) ? null : `invalid urlencoded string: ${v}`),
  'pve-storage-content': (v) => (CONTENT_TYPES.has(v) ? null : `invalid content type '${v}'`),
  'pve-calendar-event': (v) => {
    const problem = calendarEventProblem(v);
    return problem ? `invalid calendar event '${v}' - ${problem}` : null;
  },
  'disk-size': (v) =>
    /^\d+(\.\d+)?[KMGT]?$/.test(v) ? null : `value does not look like a valid disk size: ${v}`,
};

/** PVE splits `-list` values on `,`, `;` and whitespace (or on NUL when present). */
function splitList(text: string): string[] {
  if (text.includes('\0')) return text.split('\0');
  return text.replace(/[,;]/g, ' ').trim().split(/\s+/).filter(Boolean);
}

/**
 * Checks `value` against a named format; `foo-list` checks every item with `foo` and `foo-opt` also accepts ''.
 * Returns PVE's message with its trailing newline (validators `die` with "…\n"), or null when the value fits.
 */
export function checkNamedFormat(format: string, value: string): string | null {
  if (format === 'regex' || format === 'string' || format === 'string-list') return null;
  const exact = NAMED_FORMATS[format];
  let message: string | null;
  if (exact) {
    message = exact(value);
  } else {
    const m = /^(.*?)(?:-(list|opt))?$/.exec(format);
    const base = m ? NAMED_FORMATS[m[1]] : undefined;
    if (!base || !m) return null; // unknown to the simulator: accept
    if (m[2] === 'list') {
      message = null;
      for (const item of splitList(value)) {
        message = base(item);
        if (message) break;
      }
    } else if (m[2] === 'opt' && value === '') {
      message = null;
    } else {
      message = base(value);
    }
  }
  return message ? `${message}\n` : null;
}
