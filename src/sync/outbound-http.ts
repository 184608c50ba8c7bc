/**
 * Requests the app sends to addresses an admin typed (the SLA and API budget alert target): only
 * to public addresses, so a target cannot make the app reach its own network (Redis on loopback,
 * a cloud metadata service on 169.254.169.254, a database on 10.x). The host is resolved, every
 * address it resolves to is checked, and the connection goes to the address that was checked (the
 * name is not resolved a second time, so DNS cannot answer differently between check and connect);
 * TLS still verifies the certificate for the host name, and the Host header names it.
 *
 * Operators who run a receiver on their own network allow its range with OUTBOUND_ALLOW_PRIVATE.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { Result } from '../domain/result.ts';

/** An address range the operator allows although it is not public (`127.0.0.1/32`). */
export interface AddressRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** A resolved address of a host. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Where outbound requests may go. */
export interface OutboundPolicy {
  /** Ranges allowed although private (OUTBOUND_ALLOW_PRIVATE); empty by default. */
  allowPrivate: readonly AddressRange[];
  /** Resolves a host name to all its addresses (DNS by default; tests pass their own). */
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>;
}

/** The address classes no outbound request goes to, each named for the refusal message. */
const REFUSED_RANGES: readonly { label: string; ranges: readonly [string, number, 'ipv4' | 'ipv6'][] }[] = [
  {
    label: 'a loopback address',
    ranges: [
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ],
  },
  {
    label: 'an unspecified address',
    ranges: [
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ],
  },
  {
    label: 'a private address (RFC 1918)',
    ranges: [
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
    ],
  },
  {
    label: 'a link-local address',
    ranges: [
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ],
  },
  { label: 'a shared (carrier-grade NAT) address', ranges: [['100.64.0.0', 10, 'ipv4']] },
  {
    label: 'a unique-local address',
    ranges: [
      ['fc00::', 7, 'ipv6'],
      ['fec0::', 10, 'ipv6'],
    ],
  },
  {
    label: 'a reserved address',
    ranges: [
      ['192.0.0.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['224.0.0.0', 4, 'ipv4'],
      ['240.0.0.0', 4, 'ipv4'],
      // IPv4-compatible (deprecated), discard-only, local-use NAT64 and multicast IPv6.
      ['::', 96, 'ipv6'],
      ['100::', 64, 'ipv6'],
      ['64:ff9b:1::', 48, 'ipv6'],
      ['ff00::', 8, 'ipv6'],
    ],
  },
];

// BlockList matches an IPv4-mapped IPv6 address (::ffff:127.0.0.1) against the IPv4 rules too.
const refusedLists = REFUSED_RANGES.map(({ label, ranges }) => {
  const list = new BlockList();
  for (const [address, prefix, family] of ranges) list.addSubnet(address, prefix, family);
  return { label, list };
});

function allowList(ranges: readonly AddressRange[]): BlockList {
  const list = new BlockList();
  for (const range of ranges) list.addSubnet(range.address, range.prefix, range.family);
  return list;
}

/** The IPv4 address an IPv6 address carries by translation (NAT64 64:ff9b::/96, 6to4 2002::/16), or null. */
function embeddedIpv4(address: string): string | null {
  const groups = expandIpv6(address);
  if (!groups) return null;
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return v4(groups[6] ?? 0, groups[7] ?? 0);
  if (groups[0] === 0x2002) return v4(groups[1] ?? 0, groups[2] ?? 0);
  return null;
}

/** The eight 16-bit groups of an IPv6 address (dotted IPv4 tail included), or null when it is not one. */
function expandIpv6(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.split('%')[0] ?? address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const part = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const missing = 8 - left.length - right.length;
  return [...left, ...Array<number>(Math.max(0, missing)).fill(0), ...right];
}

/** Why an address is refused (`a loopback address`), or null when requests may go to it. */
export function refusedAddressClass(address: string, policy: Pick<OutboundPolicy, 'allowPrivate'>): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (policy.allowPrivate.length > 0 && allowList(policy.allowPrivate).check(address, type)) return null;
  for (const { label, list } of refusedLists) if (list.check(address, type)) return label;
  const inner = family === 6 ? embeddedIpv4(address) : null;
  return inner === null ? null : refusedAddressClass(inner, policy);
}

/** A URL whose host was checked, with the address the request must connect to. */
export interface CheckedTarget {
  url: URL;
  address: ResolvedAddress;
}

/** Why a URL is refused: `policy` (the app will not send there) or `unresolved` (no address now). */
export interface OutboundRefusal {
  kind: 'policy' | 'unresolved';
  message: string;
}

async function systemResolve(hostname: string): Promise<ResolvedAddress[]> {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
}

/**
 * Checks where a URL leads: an http(s) URL whose host (an address, or every address its name
 * resolves to) is public or allowed. The message names the class of address, never the URL's
 * path (a chat webhook's path is its secret).
 */
export async function checkOutboundUrl(raw: string, policy: OutboundPolicy): Promise<Result<CheckedTarget, OutboundRefusal>> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, error: { kind: 'policy', message: 'not a URL' } };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return {
      ok: false,
      error: { kind: 'policy', message: `the ${url.protocol.replace(/:$/, '')} scheme is not allowed: use an http(s) URL` },
    };
  // WHATWG parsing already turned 0x7f.1 or 2130706433 into 127.0.0.1; IPv6 comes in brackets.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  if (isIP(hostname) !== 0) addresses = [{ address: hostname, family: isIP(hostname) === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await (policy.resolve ?? systemResolve)(hostname);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) return { ok: false, error: { kind: 'unresolved', message: `${hostname} does not resolve to an address` } };
  }
  // Every address must pass: a name that also resolves to a private address is refused, whichever a connection would pick.
  for (const { address } of addresses) {
    const refused = refusedAddressClass(address, policy);
    if (refused !== null) {
      const named =
        hostname === address
          ? address
          : `${hostname} resolves to ${refused === 'not an IP address' ? 'something that is not an address' : address}`;
      return {
        ok: false,
        error: {
          kind: 'policy',
          message: `${named}, ${refused}: alerts go only to public addresses (an operator can allow a private range with OUTBOUND_ALLOW_PRIVATE)`,
        },
      };
    }
  }
  return { ok: true, value: { url, address: addresses[0] as ResolvedAddress } };
}

/** What one outbound POST came to; no status code or port leaves this module in a message. */
export type OutboundAnswer =
  { kind: 'answered'; status: number } | { kind: 'refused_by_policy'; message: string } | { kind: 'unreachable' };

/**
 * POSTs a body to a checked URL, connected to the address that was checked (a pinned lookup):
 * redirects are not followed, the answer's body is discarded.
 */
export async function postToPublicUrl(
  raw: string,
  request: { headers: Record<string, string>; body: string; timeoutMs: number },
  policy: OutboundPolicy,
): Promise<OutboundAnswer> {
  const checked = await checkOutboundUrl(raw, policy);
  if (!checked.ok)
    return checked.error.kind === 'policy' ? { kind: 'refused_by_policy', message: checked.error.message } : { kind: 'unreachable' };
  const { url, address } = checked.value;
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: address.address, family: address.family }]);
    else callback(null, address.address, address.family);
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<OutboundAnswer>((resolve) => {
    const outgoing = client.request(
      url,
      {
        method: 'POST',
        lookup: pinned,
        agent: false,
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        signal: AbortSignal.timeout(request.timeoutMs),
      },
      (response) => {
        response.resume();
        response.on('error', () => undefined);
        resolve({ kind: 'answered', status: response.statusCode ?? 0 });
      },
    );
    outgoing.on('error', () => resolve({ kind: 'unreachable' }));
    outgoing.end(request.body);
  });
}

/** Parses OUTBOUND_ALLOW_PRIVATE entries (`127.0.0.1/32`, `10.0.0.0/8`, `::1`); the problem of the first bad one otherwise. */
export function parseAddressRanges(entries: readonly string[]): Result<AddressRange[], string> {
  const ranges: AddressRange[] = [];
  for (const entry of entries) {
    const [address = '', prefixText, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (family === 0 || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
      return { ok: false, error: `"${entry}" is not an address or an address/prefix range (e.g. 127.0.0.1/32 or fd00::/8)` };
    }
    ranges.push({ address, prefix, family: family === 6 ? 'ipv6' : 'ipv4' });
  }
  return { ok: true, value: ranges };
}
