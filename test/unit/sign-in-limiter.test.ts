import { describe, expect, it } from 'vitest';
import { addressKey } from '../../src/server/admin/sign-in-limiter.ts';

describe('the address a failed sign-in counts under', () => {
  it('counts an IPv4 address as itself, also when the socket reports it IPv4-mapped', () => {
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
  });

  it('counts every address of one IPv6 /64 together, however it is written', () => {
    expect(addressKey('2001:db8:aa:1::1')).toBe('2001:db8:aa:1::/64');
    expect(addressKey('2001:0db8:00aa:0001:ffff:eeee:dddd:cccc')).toBe('2001:db8:aa:1::/64');
    expect(addressKey('2001:db8::7')).toBe('2001:db8:0:0::/64');
    expect(addressKey('2001:db8:aa:2::1')).not.toBe(addressKey('2001:db8:aa:1::1'));
  });
});
