/**
 * The values the app itself wrote, per record and field, kept for a day. A change event that
 * reports one of them is the app's own write coming back (an echo) and is not synced again.
 */
import type { RedisConnection } from '../queue/redis.ts';

const TTL_S = 24 * 60 * 60;

export class ValueLedger {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  private key(installationId: string, system: 'hubspot' | 'salesforce', recordId: string): string {
    return `${this.prefix}:ledger:${installationId}:${system}:${recordId}`;
  }

  /** Remembers the values written to each record. */
  async remember(
    installationId: string,
    system: 'hubspot' | 'salesforce',
    writes: readonly { recordId: string; values: Record<string, string> }[],
  ): Promise<void> {
    if (writes.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const write of writes) {
      if (Object.keys(write.values).length === 0) continue;
      const key = this.key(installationId, system, write.recordId);
      pipeline.hset(key, write.values);
      pipeline.expire(key, TTL_S);
    }
    await pipeline.exec();
  }

  /** True when every field has the value the ledger holds for it (false when any is unknown). */
  async matches(
    installationId: string,
    system: 'hubspot' | 'salesforce',
    recordId: string,
    values: Record<string, string>,
  ): Promise<boolean> {
    const fields = Object.keys(values);
    if (fields.length === 0) return false;
    const known = await this.redis.hmget(this.key(installationId, system, recordId), ...fields);
    return fields.every((field, i) => known[i] === values[field]);
  }

  /** Forgets what the app wrote to a record (a GDPR erasure: the values may be personal). */
  async forget(installationId: string, system: 'hubspot' | 'salesforce', recordIds: readonly string[]): Promise<void> {
    if (recordIds.length > 0) await this.redis.del(...recordIds.map((id) => this.key(installationId, system, id)));
  }

  /** True when `value` is what the app last wrote to this field. */
  async wroteIt(
    installationId: string,
    system: 'hubspot' | 'salesforce',
    recordId: string,
    field: string,
    value: string,
  ): Promise<boolean> {
    return (await this.redis.hget(this.key(installationId, system, recordId), field)) === value;
  }
}
