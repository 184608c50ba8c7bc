/**
 * Drains an installation's pending records in batches: read both sides, decide, write, then
 * settle exactly the versions that were synced. One drain per installation and direction runs
 * at a time (a Redis lock). A drain that finds the lock taken leaves a "run again" mark for the
 * holder, which schedules a continuation when it lets go (taking the lock and leaving the mark are
 * one atomic step, releasing and reading it another, so no change falls between them); the caller
 * only keeps one check for when the holder's lock would expire, in case the holder died or failed
 * (a failing holder leaves the mark for that check).
 */
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../queue/redis.ts';
import type { Direction, PendingSet } from './pending-set.ts';

export interface DrainDeps {
  redis: RedisConnection;
  prefix: string;
  pending: PendingSet;
  /** Syncs one batch of record keys. */
  syncBatch(installationId: string, direction: Direction, keys: string[]): Promise<void>;
  batchSize: number;
  /** Batches per job before handing over to a continuation job (keeps jobs short). */
  maxBatches: number;
  /**
   * Batches in flight at once, on disjoint records (default 1); the next starts as soon as one
   * ends. Only for a direction whose records never share a target: to Salesforce each record is
   * its own contact and its own Lead; to HubSpot a Lead and its Opportunity move the same contact,
   * so that drain stays one at a time.
   */
  parallelBatches?: number;
  lockTtlMs: number;
  /**
   * A batch that is not full waits this long once; if records kept arriving meanwhile it waits
   * again (up to 10 times) so a burst fills whole batches instead of many small ones.
   */
  fillWaitMs?: number;
  /**
   * True while the admin holds this direction (paused, or a side disconnected): asked before each
   * round, so a pause stops a running drain at its next batch and the rest stays pending.
   */
  held?: () => Promise<boolean>;
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

export type DrainResult =
  | { kind: 'drained'; batches: number; records: number; remaining: number; rerunWanted: boolean }
  | { kind: 'busy'; holder: string; lockExpiresInMs: number };

/** Takes the lock, or marks that a drain is wanted again and says who holds it and for how long. */
const TAKE_OR_MARK = `if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return {1, '', 0} end
redis.call('SET', KEYS[2], '1')
return {0, redis.call('GET', KEYS[1]) or '', redis.call('PTTL', KEYS[1])}`;
/** Releases the lock if still ours and leaves the "run again" mark for the check a waiting drain scheduled. */
export const RELEASE_ONLY = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
/** Extends the lock if still ours. */
export const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
/** Releases the lock if still ours and takes the "run again" mark: 1 when a drain was wanted meanwhile. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return redis.call('DEL', KEYS[2])
end
return 0`;

/**
 * With batches in parallel, a trickle's partial batch may run beside at most this many others (once
 * the fill wait saw no more records arrive): a record that comes in while a batch syncs waits for
 * the fill wait, not for that batch (the quiet installations' handoffs during another's import,
 * `npm run bench tenants`), while a trickle's batch rate at most doubles (each batch costs its
 * HubSpot read and update whatever its size).
 */
const PARTIAL_BESIDE = 1;
/**
 * A trickle: at most this share of a batch waiting. More waits for the running batch and fills a
 * batch of its own (a bulk split into partial batches cost 1.3× the HubSpot and 1.8× the Salesforce
 * writes of whole ones in `npm run bench lifecycle`).
 */
const TRICKLE_SHARE = 0.1;
/** How often a drain with one batch running looks for records that arrived meanwhile. */
const BESIDE_LOOK_MS = 100;

/**
 * Keeps up to `parallelBatches` batches of disjoint records in flight, starting the next as soon as
 * one ends (no round waits for its slowest batch), until nothing is pending, `maxBatches` have
 * started, the direction is held, or a batch failed. A record is in at most one batch in flight: a
 * newer version of it stays pending for a later batch. A batch starts full, unless nothing else is
 * in flight (then the partial one the fill wait left) or it is the one partial batch beside a
 * running one (PARTIAL_BESIDE).
 */
async function runBatches(
  deps: DrainDeps,
  installationId: string,
  direction: Direction,
  extend: () => Promise<unknown>,
): Promise<{ batches: number; records: number; failed: boolean; failure?: unknown }> {
  const parallel = Math.max(1, deps.parallelBatches ?? 1);
  const inFlight = new Set<string>();
  const running = new Set<Promise<void>>();
  const result: { batches: number; records: number; failed: boolean; failure?: unknown } = { batches: 0, records: 0, failed: false };
  let started = 0;
  // The fill wait before a partial batch beside a running one is done (until a batch starts).
  let filledBeside = false;
  while (!result.failed && started < deps.maxBatches) {
    if (deps.held && (await deps.held())) break;
    if (running.size === 0) await waitWhileFilling(deps, installationId, direction);
    // The records in flight when the peek starts stay out of its answer even if their batch ends
    // during it (the peek may have read them just before they were settled).
    const busy = new Set(inFlight);
    const peeked = await deps.pending.peek(installationId, direction, deps.batchSize + busy.size);
    // A batch that failed meanwhile ends the drain (its records, free again, wait for the retry).
    if (result.failed) break;
    const free = peeked.filter((r) => !busy.has(r.key));
    const partial = free.length < deps.batchSize;
    // A trickle beside the one running batch (PARTIAL_BESIDE) starts once the fill wait saw nothing more arrive.
    const trickle =
      running.size > 0 &&
      running.size <= Math.min(PARTIAL_BESIDE, parallel - 1) &&
      free.length <= Math.max(1, deps.batchSize * TRICKLE_SHARE);
    if (free.length > 0 && partial && trickle && !filledBeside) {
      await waitWhileFilling(deps, installationId, direction);
      filledBeside = true;
      continue;
    }
    if (free.length === 0 || (partial && running.size > 0 && !trickle)) {
      // More may arrive, or a batch in flight frees its records: look again once one ends (or,
      // where a trickle may start beside the running batch, shortly).
      if (running.size > 0) await Promise.race(trickle ? [...running, sleep(BESIDE_LOOK_MS)] : running);
      // Nothing in flight: done, unless a batch ended during the peek (its records may be pending again).
      else if (busy.size === 0) break;
      filledBeside = false;
      continue;
    }
    filledBeside = false;
    const batch = free.slice(0, deps.batchSize);
    await extend();
    started += 1;
    for (const record of batch) inFlight.add(record.key);
    const task: Promise<void> = (async () => {
      try {
        await deps.syncBatch(
          installationId,
          direction,
          batch.map((r) => r.key),
        );
        await deps.pending.settle(installationId, direction, batch);
        result.batches += 1;
        result.records += batch.length;
      } catch (error) {
        if (!result.failed) Object.assign(result, { failed: true, failure: error });
      } finally {
        for (const record of batch) inFlight.delete(record.key);
      }
    })().finally(() => running.delete(task));
    running.add(task);
    if (running.size >= parallel) await Promise.race(running);
  }
  await Promise.all(running);
  return result;
}

/** Drains pending records of one installation and direction. */
export async function drainPending(deps: DrainDeps, installationId: string, direction: Direction): Promise<DrainResult> {
  const lockKey = `${deps.prefix}:drain-lock:${installationId}:${direction}`;
  const wantedKey = `${deps.prefix}:drain-wanted:${installationId}:${direction}`;
  const token = randomUUID();
  const [taken, holder, ttl] = (await deps.redis.eval(TAKE_OR_MARK, 2, lockKey, wantedKey, token, String(deps.lockTtlMs))) as [
    number,
    string,
    number,
  ];
  if (taken !== 1) return { kind: 'busy', holder, lockExpiresInMs: Math.max(0, ttl) };
  let released = false;
  // The lock outlives a batch however long it waits on rate limits or slow answers: only a dead
  // process lets it expire (a second drain reading the same records meanwhile could write a
  // stale value over a rep's change — chaos suite).
  const extend = () => deps.redis.eval(EXTEND, 1, lockKey, token, String(deps.lockTtlMs));
  const heartbeat = setInterval(() => void extend().catch(() => undefined), Math.max(250, Math.floor(deps.lockTtlMs / 3)));
  heartbeat.unref();
  try {
    const { batches, records, failed, failure } = await runBatches(deps, installationId, direction, extend);
    // Every batch settled what it synced, also when another one failed; the first failure is
    // then thrown (a rate limit delays the job, the rest is still pending).
    if (failed) throw failure;
    const remaining = await deps.pending.size(installationId, direction);
    released = true;
    const rerunWanted = Number(await deps.redis.eval(RELEASE, 2, lockKey, wantedKey, token)) === 1;
    return { kind: 'drained', batches, records, remaining, rerunWanted };
  } finally {
    clearInterval(heartbeat);
    // A failed batch lets go too, but leaves the mark: the drain that found the lock taken
    // scheduled a check for when it would expire, and that check runs then (not after this job's
    // growing retry backoff).
    if (!released) await deps.redis.eval(RELEASE_ONLY, 1, lockKey, token);
  }
}

/** How long the drain lock lives without a heartbeat (a dead holder frees it within this). */
export const DRAIN_LOCK_TTL_MS = 15_000;

/**
 * Runs `work` holding an installation's drain lock for one direction, so it never interleaves with
 * a drain batch (a merge or deletion applied while a handoff that read the merged-away contact is
 * still writing would see no link yet, and the handoff would then link the merged-away id — chaos
 * suite). Busy: the caller retries after `lockExpiresInMs` at the latest.
 */
export async function underDrainLock<T>(
  deps: { redis: RedisConnection; prefix: string },
  installationId: string,
  direction: Direction,
  work: () => Promise<T>,
): Promise<{ kind: 'done'; value: T } | { kind: 'busy'; lockExpiresInMs: number }> {
  const lockKey = `${deps.prefix}:drain-lock:${installationId}:${direction}`;
  const token = randomUUID();
  if ((await deps.redis.set(lockKey, token, 'PX', DRAIN_LOCK_TTL_MS, 'NX')) !== 'OK') {
    return { kind: 'busy', lockExpiresInMs: Math.max(0, await deps.redis.pttl(lockKey)) };
  }
  const heartbeat = setInterval(
    () => void deps.redis.eval(EXTEND, 1, lockKey, token, String(DRAIN_LOCK_TTL_MS)).catch(() => undefined),
    DRAIN_LOCK_TTL_MS / 3,
  );
  heartbeat.unref();
  try {
    return { kind: 'done', value: await work() };
  } finally {
    clearInterval(heartbeat);
    await deps.redis.eval(RELEASE_ONLY, 1, lockKey, token);
  }
}
