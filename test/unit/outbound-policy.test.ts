import { describe, expect, it } from 'vitest';
import {
  checkOutboundUrl,
  parseAddressRanges,
  refusedAddressClass,
  type OutboundPolicy,
  type ResolvedAddress,
} from '../../src/sync/outbound-http.ts';

/** A resolver answering from a table, as DNS would for these names. */
function resolving(table: Record<string, string[]>): NonNullable<OutboundPolicy['resolve']> {
  return async (hostname) =>
    (table[hostname] ?? []).map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
}

const names = resolving({
  'hooks.example.com': ['93.184.215.14'],
  'metadata.attacker.example': ['169.254.169.254'],
  'loopback.attacker.example': ['127.0.0.1'],
  'mixed.attacker.example': ['93.184.215.14', '10.1.2.3'],
  'v6-loopback.attacker.example': ['::1'],
});
const strict: OutboundPolicy = { allowPrivate: [], resolve: names };

async function refusal(url: string, policy: OutboundPolicy = strict): Promise<string | null> {
  const result = await checkOutboundUrl(url, policy);
  return result.ok ? null : result.error.message;
}

describe('outbound URL policy', () => {
  it.each([
    ['the cloud metadata service', 'http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254, a link-local address/],
    ['IPv6 loopback', 'http://[::1]:8080/hook', /::1, a loopback address/],
    ['a private 10.x address', 'https://10.0.0.5/hook', /10\.0\.0\.5, a private address \(RFC 1918\)/],
    ['a private 172.16/12 address', 'https://172.20.1.1/hook', /a private address \(RFC 1918\)/],
    ['a private 192.168/16 address', 'https://192.168.1.10/hook', /a private address \(RFC 1918\)/],
    [
      'a host name resolving to loopback',
      'https://loopback.attacker.example/hook',
      /loopback\.attacker\.example resolves to 127\.0\.0\.1, a loopback address/,
    ],
    ['a host name resolving to the metadata service', 'https://metadata.attacker.example/', /a link-local address/],
    ['a host name resolving to IPv6 loopback', 'https://v6-loopback.attacker.example/', /a loopback address/],
    ['a host name with one private address among public ones', 'https://mixed.attacker.example/', /10\.1\.2\.3, a private address/],
    ['IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]/', /a loopback address/],
    ['IPv4-mapped IPv6 metadata address', 'http://[::ffff:169.254.169.254]/', /a link-local address/],
    ['loopback written as one number', 'http://2130706433/', /127\.0\.0\.1, a loopback address/],
    ['loopback written in hex', 'http://0x7f.1/', /127\.0\.0\.1, a loopback address/],
    ['the unspecified address', 'http://0.0.0.0:6379/', /an unspecified address/],
    ['carrier-grade NAT', 'http://100.64.0.1/', /a shared \(carrier-grade NAT\) address/],
    ['IPv6 link-local', 'http://[fe80::1]/', /a link-local address/],
    ['IPv6 unique-local', 'http://[fd12:3456::1]/', /a unique-local address/],
    ['NAT64 of loopback', 'http://[64:ff9b::7f00:1]/', /a loopback address/],
    ['6to4 of a private address', 'http://[2002:a00:1::1]/', /a private address/],
  ])('refuses %s', async (_name, url, message) => {
    expect(await refusal(url)).toMatch(message);
  });

  it('refuses Redis on localhost, as the system resolver answers for it', async () => {
    expect(await refusal('http://localhost:6379/', { allowPrivate: [] })).toMatch(
      /localhost resolves to (127\.0\.0\.1|::1), a loopback address/,
    );
  });

  it.each([['ftp://hooks.example.com/x'], ['file:///etc/passwd'], ['gopher://127.0.0.1:6379/_INFO']])(
    'refuses the non-http scheme of %s',
    async (url) => {
      expect(await refusal(url)).toMatch(/scheme is not allowed/);
    },
  );

  it('accepts a host name that resolves to public addresses only, and connects to the address it checked', async () => {
    const result = await checkOutboundUrl('https://hooks.example.com/services/T0/B0/secret', strict);
    expect(result).toMatchObject({ ok: true, value: { address: { address: '93.184.215.14', family: 4 } } });
  });

  it('accepts public IPv4 and IPv6 addresses', async () => {
    expect(await refusal('https://93.184.215.14/hook')).toBeNull();
    expect(await refusal('https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook')).toBeNull();
  });

  it('never names the URL path (a chat webhook token) in a refusal', async () => {
    expect(await refusal('http://10.0.0.5/services/T0/B0/pathtoken42')).not.toContain('pathtoken42');
  });

  it('tells a name that does not resolve apart from one the policy refuses', async () => {
    const result = await checkOutboundUrl('https://nowhere.attacker.example/', strict);
    expect(result).toMatchObject({ ok: false, error: { kind: 'unresolved' } });
  });

  it('allows exactly the ranges of OUTBOUND_ALLOW_PRIVATE', async () => {
    const ranges = parseAddressRanges(['127.0.0.1/32']);
    if (!ranges.ok) throw new Error(ranges.error);
    const allowing: OutboundPolicy = { allowPrivate: ranges.value, resolve: names };
    expect(await refusal('http://127.0.0.1:4000/hook', allowing)).toBeNull();
    expect(await refusal('https://loopback.attacker.example/hook', allowing)).toBeNull();
    expect(await refusal('http://127.0.0.2:4000/hook', allowing)).toMatch(/a loopback address/);
    expect(await refusal('http://169.254.169.254/', allowing)).toMatch(/a link-local address/);
  });

  it('classifies an allowed IPv4 range for its IPv4-mapped IPv6 form too', () => {
    const ranges = parseAddressRanges(['10.0.0.0/8']);
    if (!ranges.ok) throw new Error(ranges.error);
    expect(refusedAddressClass('::ffff:10.1.1.1', { allowPrivate: ranges.value })).toBeNull();
    expect(refusedAddressClass('::ffff:10.1.1.1', { allowPrivate: [] })).toBe('a private address (RFC 1918)');
  });

  it.each([['127.0.0.1/33'], ['localhost'], ['10.0.0.0/8/1'], ['::1/129'], ['10.0.0.0/x']])('refuses the allow-list entry %s', (entry) => {
    expect(parseAddressRanges([entry])).toMatchObject({ ok: false });
  });

  it('reads addresses alone as single-address ranges', () => {
    expect(parseAddressRanges(['127.0.0.1', '::1'])).toEqual({
      ok: true,
      value: [
        { address: '127.0.0.1', prefix: 32, family: 'ipv4' },
        { address: '::1', prefix: 128, family: 'ipv6' },
      ],
    });
  });
});
