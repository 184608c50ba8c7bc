/**
 * Drains an installation's pending records in batches: read both sides, decide, write, then
 * settle exactly the versions that were synced. One drain per installation and direction runs
 * at a time (a Redis lock); a drain that finds the lock taken waits and tries again.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Direction, PendingSet } from './pending-set.ts';

export interface DrainDeps {
  redis: Redis;
  prefix: string;
  pending: PendingSet;
  /** Syncs one batch of record keys. */
  syncBatch(installationId: string, direction: Direction, keys: string[]): Promise<void>;
  batchSize: number;
  /** Batches per job before handing over to a continuation job (keeps jobs short). */
  maxBatches: number;
  lockTtlMs: number;
  /**
   * A batch that is not full waits this long once; if records kept arriving meanwhile it waits
   * again (up to 10 times) so a burst fills whole batches instead of many small ones.
   */
  fillWaitMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits while a partial batch is still filling up (records still arriving). */
async function waitWhileFilling(deps: DrainDeps, installationId: string, direction: Direction): Promise<void> {
  const wait = deps.fillWaitMs ?? 0;
  if (wait <= 0) return;
  let size = await deps.pending.size(installationId, direction);
  for (let round = 0; round < 10 && size < deps.batchSize; round += 1) {
    await sleep(wait);
    const now = await deps.pending.size(installationId, direction);
    if (now <= size) return;
    size = now;
  }
}

export type DrainResult = { kind: 'drained'; batches: number; records: number; remaining: number } | { kind: 'busy' };

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** Drains pending records of one installation and direction. */
export async function drainPending(deps: DrainDeps, installationId: string, direction: Direction): Promise<DrainResult> {
  const lockKey = `${deps.prefix}:drain-lock:${installationId}:${direction}`;
  const token = randomUUID();
  if ((await deps.redis.set(lockKey, token, 'PX', deps.lockTtlMs, 'NX')) !== 'OK') return { kind: 'busy' };
  let batches = 0;
  let records = 0;
  try {
    while (batches < deps.maxBatches) {
      await waitWhileFilling(deps, installationId, direction);
      const batch = await deps.pending.peek(installationId, direction, deps.batchSize);
      if (batch.length === 0) break;
      await deps.redis.pexpire(lockKey, deps.lockTtlMs);
      await deps.syncBatch(installationId, direction, batch.map((r) => r.key));
      await deps.pending.settle(installationId, direction, batch);
      batches += 1;
      records += batch.length;
    }
    return { kind: 'drained', batches, records, remaining: await deps.pending.size(installationId, direction) };
  } finally {
    await deps.redis.eval(RELEASE, 1, lockKey, token);
  }
}
