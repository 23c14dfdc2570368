import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DomainError } from '../../common/errors/domain-error.js';
import { blockedAddressReason } from './ip-ranges.js';

/**
 * The SSRF guard for download_iso / download_template. Proxmox fetches the URL itself, from the node's network:
 * its own API on 127.0.0.1:8006, the LAN, cloud metadata. So before a URL goes to PVE:
 *
 * 1. the raw text is refused if it has whitespace, control characters, a backslash or userinfo (`user@host`):
 *    parsers disagree on those (WHATWG reads `http://evil.com\@127.0.0.1/` as host evil.com, Perl's URI, which PVE
 *    uses, may read 127.0.0.1);
 * 2. it is parsed with WHATWG URL, which also normalises numeric hosts (2130706433, 0x7f.1, 127.1, ①②⑦.0.0.1 all
 *    become 127.0.0.1); only http and https pass; PVE is sent this normalised `href`, never the raw text;
 * 3. with `downloads.allowed_hosts` configured, the host must be on that list;
 * 4. the host is resolved (every address, IPv4 and IPv6) and each address must be public unicast (ip-ranges.ts).
 *
 * What it cannot close: PVE resolves the name again when it fetches, so a DNS answer that changes in between
 * (rebinding), or a redirect from an allowed host to a private address, is not seen here. The allowlist and the
 * PVE token's network privilege (Sys.AccessNetwork) are the controls for that; the README says so.
 */

/** node's dns.promises.lookup with `all: true` (configurable so tests can use a resolver without the network). */
export type LookupAll = (
  hostname: string,
  options: { all: true; verbatim: true },
) => Promise<Array<{ address: string; family: number }>>;

export interface UrlGuardOptions {
  /** Host names (exact, or `*.example.com` for its subdomains) a download may come from; empty = any public host. */
  allowedHosts: readonly string[];
  lookup?: LookupAll;
}

export interface CheckedUrl {
  /** The normalised URL: what PVE is sent. */
  href: string;
  hostname: string;
  /** The addresses the host resolved to when checked. */
  addresses: string[];
}

export const MAX_URL_LENGTH = 2048;

const defaultLookup: LookupAll = (hostname, options) => dnsLookup(hostname, options);

const invalid = (why: string, hint?: string) =>
  new DomainError('VALIDATION', `url ${why}`, {
    hint: hint ?? 'Give a plain http:// or https:// URL such as https://releases.example.org/images/x.iso.',
    details: { field: 'url' },
  });

const denied = (why: string, hint: string) =>
  new DomainError('POLICY_DENIED', `url refused: ${why}`, { hint, details: { field: 'url' } });

/** `*.example.com` matches sub.example.com (not example.com itself); other entries match exactly. */
export function hostAllowed(hostname: string, allowedHosts: readonly string[]): boolean {
  const host = hostname.toLowerCase();
  return allowedHosts.some((entry) => {
    const pattern = entry.toLowerCase();
    return pattern.startsWith('*.')
      ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1
      : host === pattern;
  });
}

/** An allowed_hosts entry as the config accepts it: a DNS name or IP literal, optionally `*.` + a DNS name. */
export function isAllowedHostEntry(entry: string): boolean {
  const name = entry.startsWith('*.') ? entry.slice(2) : entry;
  if (!entry.startsWith('*.') && isIP(name.replace(/^\[|\]$/g, ''))) return true;
  return /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(
    name,
  );
}

export async function checkDownloadUrl(raw: unknown, options: UrlGuardOptions): Promise<CheckedUrl> {
  if (typeof raw !== 'string' || raw === '') throw invalid('must be a non-empty string');
  if (raw.length > MAX_URL_LENGTH) throw invalid(`is longer than ${MAX_URL_LENGTH} characters`);
  // \s covers Unicode spaces too; control characters include DEL and the C1 range
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\s\x00-\x1f\x7f-\x9f]/.test(raw)) throw invalid('must not contain whitespace or control characters');
  if (raw.includes('\\')) throw invalid('must not contain a backslash (parsers disagree on what it means)');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    throw invalid(`scheme ${scheme ? `'${scheme}:'` : '(none)'} is not allowed; only http and https`);
  }
  const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(raw)?.[1];
  if (authority === undefined) throw invalid('must be an absolute URL (http://host/path)');
  if (authority.includes('@')) {
    throw invalid(
      'must not contain credentials (user@host)',
      'Proxmox would send them to the server; use a URL without a user name or password.',
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('is not a valid URL');
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (!hostname) throw invalid('has no host');
  if (options.allowedHosts.length && !hostAllowed(hostname, options.allowedHosts)) {
    throw denied(
      `host '${hostname}' is not in downloads.allowed_hosts`,
      `Allowed download hosts: ${options.allowedHosts.join(', ')}. An operator can extend the list in the server config.`,
    );
  }
  const addresses = isIP(hostname) ? [hostname] : await resolve(hostname, options.lookup ?? defaultLookup);
  for (const address of addresses) {
    const why = blockedAddressReason(address);
    if (why) {
      throw denied(
        `${hostname === address ? address : `${hostname} resolves to ${address}, which`} is ${why}`,
        'Proxmox downloads only from public addresses: the node must not be sent to itself, the LAN or cloud metadata.',
      );
    }
  }
  return { href: url.href, hostname, addresses };
}

async function resolve(hostname: string, lookup: LookupAll): Promise<string[]> {
  let answers: Array<{ address: string }>;
  try {
    answers = await lookup(hostname, { all: true, verbatim: true });
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    throw invalid(
      `host '${hostname}' could not be resolved${typeof code === 'string' ? ` (${code})` : ''}`,
      'Check the host name; it must resolve in DNS from this server.',
    );
  }
  if (!answers.length) throw invalid(`host '${hostname}' has no addresses`);
  return answers.map((a) => a.address);
}
