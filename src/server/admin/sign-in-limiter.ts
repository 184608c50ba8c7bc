/**
 * Failed credential presentations (the admin token as a bearer or in the sign-in form, an
 * invitation link), counted in Redis so every web process shares one count.
 *
 * The rule:
 * - **Per client address** (an IPv6 client counts by its /64, which one subscriber usually holds
 *   whole): 10 failures within a 15-minute window lock that address until the window ends. While
 *   locked, even the right token is refused (429 with Retry-After), so guessing cannot continue.
 * - **Overall**: 100 failures within a 15-minute window, from all addresses together, lock out
 *   every address that has not presented a valid credential in the last 30 days. One address can
 *   add at most 10 failures per window, so it takes at least 10 attacking addresses to trip this;
 *   and an address the operator has signed in from keeps working (with its own per-address
 *   limit), as do sessions that already exist.
 * - Windows are fixed (they start at the first failure and end 15 minutes later) and refused
 *   attempts while locked are not counted, so a lockout always ends by itself at most 15 minutes
 *   after it began; a success does not reset the address's count (a valid client behind the same
 *   address as an attacker would otherwise reopen the window for the attacker).
 */
import type { RedisConnection } from '../../queue/redis.ts';
import { isIP } from 'node:net';

export const LOCKOUT_WINDOW_MS = 15 * 60_000;
export const ADDRESS_MAX_FAILURES = 10;
export const OVERALL_MAX_FAILURES = 100;
/** How long an address that presented a valid credential stays exempt from the overall lock. */
const KNOWN_ADDRESS_MS = 30 * 24 * 3600_000;

// KEYS: address counter, overall counter, known-address marker. ARGV: now, window, address max,
// overall max, mode ('check' | 'fail'). Each counter is a hash {start, count}; a window that has
// ended (on the injected clock) counts as empty. Returns how many ms the address must wait (0: free).
const ATTEMPT_SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local function read(key)
  local v = redis.call('HMGET', key, 'start', 'count')
  local start = tonumber(v[1])
  local count = tonumber(v[2])
  if start == nil or count == nil or now >= start + window or now < start then return now, 0 end
  return start, count
end
local aStart, aCount = read(KEYS[1])
local oStart, oCount = read(KEYS[2])
local known = redis.call('EXISTS', KEYS[3]) == 1
local function wait()
  local w = 0
  if aCount >= tonumber(ARGV[3]) then w = aStart + window - now end
  if not known and oCount >= tonumber(ARGV[4]) then w = math.max(w, oStart + window - now) end
  return w
end
if ARGV[5] == 'fail' then
  if wait() > 0 then return wait() end
  aCount = aCount + 1
  oCount = oCount + 1
  redis.call('HSET', KEYS[1], 'start', aStart, 'count', aCount)
  redis.call('PEXPIRE', KEYS[1], window * 2)
  redis.call('HSET', KEYS[2], 'start', oStart, 'count', oCount)
  redis.call('PEXPIRE', KEYS[2], window * 2)
end
return wait()
`;

/** The key a client address counts under: IPv4 as is, IPv6 by its /64, IPv4-mapped IPv6 as IPv4. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (isIP(address) !== 6) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Whether an address may present a credential now, and how failures and successes are recorded. */
export class SignInLimiter {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly now: () => number,
  ) {}

  private keys(address: string): [string, string, string] {
    const key = addressKey(address);
    return [`${this.prefix}:admin-auth:failures:${key}`, `${this.prefix}:admin-auth:failures`, `${this.prefix}:admin-auth:known:${key}`];
  }

  private async run(address: string, mode: 'check' | 'fail'): Promise<number> {
    const reply = await this.redis.eval(
      ATTEMPT_SCRIPT,
      3,
      ...this.keys(address),
      String(this.now()),
      String(LOCKOUT_WINDOW_MS),
      String(ADDRESS_MAX_FAILURES),
      String(OVERALL_MAX_FAILURES),
      mode,
    );
    return Math.max(0, Number(reply));
  }

  /** Milliseconds this address must wait before a credential is even looked at (0: it may try). */
  waitBefore(address: string): Promise<number> {
    return this.run(address, 'check');
  }

  /** Counts a failure; returns how long the address is now locked (0: not locked). */
  recordFailure(address: string): Promise<number> {
    return this.run(address, 'fail');
  }

  /** Remembers an address that presented a valid credential (exempt from the overall lock). */
  async recordSuccess(address: string): Promise<void> {
    await this.redis.set(this.keys(address)[2], '1', 'PX', KNOWN_ADDRESS_MS);
  }
}
