/**
 * Records waiting to be synced, per installation and direction, kept in Redis. Marking a record
 * twice before it is synced keeps one entry (a burst of changes becomes one write). A record is
 * removed only after the sync that read it succeeded, and only if it was not marked again since,
 * so a crash or a failed batch loses nothing and a change during a sync is synced again.
 */
import type { RedisConnection } from '../queue/redis.ts';

export type Direction = 'to-salesforce' | 'to-hubspot';

export interface PendingRecord {
  key: string;
  version: number;
}

// KEYS: zset, versions hash. ARGV: now, key1, key2, … — ZADD NX keeps the first-marked time.
const MARK = `
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[i])
  redis.call('HINCRBY', KEYS[2], ARGV[i], 1)
end
return #ARGV - 1`;

// KEYS: zset, versions hash. ARGV: key1, version1, key2, version2, … — remove when unchanged.
const SETTLE = `
local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[i + 1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    removed = removed + 1
  end
end
return removed`;

export class PendingSet {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  private keys(installationId: string, direction: Direction): [string, string] {
    const base = `${this.prefix}:pending:${installationId}:${direction}`;
    return [base, `${base}:v`];
  }

  /** Marks records as needing a sync; returns how many were marked. */
  async mark(installationId: string, direction: Direction, keys: readonly string[], now = Date.now()): Promise<number> {
    if (keys.length === 0) return 0;
    return (await this.redis.eval(MARK, 2, ...this.keys(installationId, direction), now, ...keys)) as number;
  }

  /** The oldest-marked records, up to `limit`, with their versions (they stay pending until settled). */
  async peek(installationId: string, direction: Direction, limit: number): Promise<PendingRecord[]> {
    const [zset, versions] = this.keys(installationId, direction);
    const keys = await this.redis.zrange(zset, 0, limit - 1);
    if (keys.length === 0) return [];
    const values = await this.redis.hmget(versions, ...keys);
    return keys.map((key, i) => ({ key, version: Number(values[i] ?? 0) }));
  }

  /** Removes the records whose version is still the one that was synced. */
  async settle(installationId: string, direction: Direction, records: readonly PendingRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const args = records.flatMap((r) => [r.key, String(r.version)]);
    return (await this.redis.eval(SETTLE, 2, ...this.keys(installationId, direction), ...args)) as number;
  }

  /** How many records wait. */
  async size(installationId: string, direction: Direction): Promise<number> {
    return this.redis.zcard(this.keys(installationId, direction)[0]);
  }
}
