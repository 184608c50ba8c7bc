/**
 * One drain per installation and direction, on one Redis and on a three-master Redis Cluster
 * (the lock, its mark and the pending set share the prefix's hash tag): a drain that finds the lock taken
 * leaves a mark the holder sees when it lets go (so it runs again for what arrived meanwhile), and
 * says who holds the lock and for how long (so one check covers a holder that died).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { drainPending, type DrainDeps } from '../../src/sync/drain.ts';
import { PendingSet } from '../../src/sync/pending-set.ts';
import { producerConnection, untilReady, type RedisConnection, type RedisTarget } from '../../src/queue/redis.ts';
import { eventually } from '../support/app-process.ts';

const REDIS: [string, () => RedisTarget][] = [
  ['one Redis', () => ({ url: inject('redisUrl') })],
  ['a Redis Cluster', () => ({ url: inject('redisClusterUrl'), cluster: true })],
];

describe.each(REDIS)('drain lock on %s', (_name, redisTarget) => {
  let redis: RedisConnection;
  const prefix = `{drain-test-${randomUUID()}}`;

  beforeAll(async () => {
    redis = producerConnection(redisTarget());
    await untilReady(redis);
  });

  afterAll(() => {
    redis.disconnect();
  });

  function deps(syncBatch: DrainDeps['syncBatch']): DrainDeps {
    return { redis, prefix, pending: new PendingSet(redis, prefix), syncBatch, batchSize: 10, maxBatches: 5, lockTtlMs: 5_000 };
  }

  it('tells the holder to run again when another drain wanted to run meanwhile, and syncs what arrived then', async () => {
    const installation = randomUUID();
    const pending = new PendingSet(redis, prefix);
    await pending.mark(installation, 'to-salesforce', ['c1']);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => undefined;
    const midBatch = new Promise<void>((resolve) => (entered = resolve));
    const synced: string[][] = [];
    const holder = drainPending(
      deps(async (_id, _dir, keys) => {
        synced.push(keys);
        entered();
        await gate;
      }),
      installation,
      'to-salesforce',
    );
    await midBatch;

    // A change arrives while the holder is mid-batch; its own drain finds the lock taken.
    await pending.mark(installation, 'to-salesforce', ['c2']);
    const busy = await drainPending(
      deps(async () => undefined),
      installation,
      'to-salesforce',
    );
    expect(busy.kind).toBe('busy');
    if (busy.kind === 'busy') {
      expect(busy.holder).toMatch(/^[0-9a-f-]{36}$/);
      expect(busy.lockExpiresInMs).toBeGreaterThan(4_000);
      expect(busy.lockExpiresInMs).toBeLessThanOrEqual(5_000);
    }
    release();
    const first = await holder;
    // The holder took c2 in its next batch (it was pending before the holder looked again)…
    expect(synced.flat().sort()).toEqual(['c1', 'c2']);
    // …and reports that a drain was wanted, so the worker schedules a continuation.
    expect(first).toMatchObject({ kind: 'drained', remaining: 0, rerunWanted: true });

    // The mark is taken once: the next drain starts clean.
    const next = await drainPending(
      deps(async () => undefined),
      installation,
      'to-salesforce',
    );
    expect(next).toMatchObject({ kind: 'drained', records: 0, rerunWanted: false });
  });

  it('lets go of the lock when a batch fails, so the retried job can drain', async () => {
    const installation = randomUUID();
    const pending = new PendingSet(redis, prefix);
    await pending.mark(installation, 'to-hubspot', ['Lead:00Q1']);
    await expect(
      drainPending(
        deps(async () => {
          throw new Error('HubSpot 503');
        }),
        installation,
        'to-hubspot',
      ),
    ).rejects.toThrow('HubSpot 503');
    expect(await pending.size(installation, 'to-hubspot')).toBe(1);
    const retried = await drainPending(
      deps(async () => undefined),
      installation,
      'to-hubspot',
    );
    expect(retried).toMatchObject({ kind: 'drained', records: 1, remaining: 0 });
  });

  it('keeps the lock through a batch longer than its time to live, so no second drain reads the same records', async () => {
    const installation = randomUUID();
    const pending = new PendingSet(redis, prefix);
    await pending.mark(installation, 'to-salesforce', ['slow']);
    const lockTtlMs = 300;
    const short = (syncBatch: DrainDeps['syncBatch']): DrainDeps => ({ ...deps(syncBatch), lockTtlMs });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => undefined;
    const midBatch = new Promise<void>((resolve) => (entered = resolve));
    const holder = drainPending(
      short(async () => {
        entered();
        await gate;
      }),
      installation,
      'to-salesforce',
    );
    await midBatch;
    // The batch outlasts the lock's time to live: the holder's heartbeat has renewed the lock twice
    // (its time to live seen rising), and the lock was never seen gone.
    const lockKey = `${prefix}:drain-lock:${installation}:to-salesforce`;
    const firstSeen = Date.now();
    let lastTtl = lockTtlMs;
    let renewals = 0;
    await eventually(
      async () => {
        const ttl = await redis.pttl(lockKey);
        if (ttl < 0) throw new Error('the lock expired while its holder was still syncing');
        if (ttl > lastTtl) renewals += 1;
        lastTtl = ttl;
        return renewals >= 2 && Date.now() - firstSeen > lockTtlMs;
      },
      5_000,
      'the lock renewed past its time to live',
      10,
    );
    expect(
      (
        await drainPending(
          short(async () => undefined),
          installation,
          'to-salesforce',
        )
      ).kind,
    ).toBe('busy');
    release();
    expect(await holder).toMatchObject({ kind: 'drained', records: 1, rerunWanted: true });
  });

  it('starts the next batch as soon as one ends, and never puts a record in two batches at once, new versions included', async () => {
    const installation = randomUUID();
    const pending = new PendingSet(redis, prefix);
    const keys = Array.from({ length: 60 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    await pending.mark(installation, 'to-salesforce', keys);
    const held = new Set<string>();
    const overlaps: string[] = [];
    const batches: string[][] = [];
    const result = await drainPending(
      {
        ...deps(async (_id, _dir, batch) => {
          for (const key of batch) if (held.has(key)) overlaps.push(key);
          for (const key of batch) held.add(key);
          batches.push(batch);
          if (batches.length === 1) {
            // The first batch is slow; the others go on around it. A rep's change to one of its
            // records arrives meanwhile: that record stays out of every other batch until it ends.
            await pending.mark(installation, 'to-salesforce', [batch[0] ?? '']);
            await eventually(async () => batches.length >= 5, 5_000, 'four more batches while the first one syncs', 5);
          }
          for (const key of batch) held.delete(key);
        }),
        parallelBatches: 3,
        maxBatches: 20,
      },
      installation,
      'to-salesforce',
    );
    expect(overlaps).toEqual([]);
    // Six batches of ten, and the record changed mid-batch once more, on its own.
    expect(result).toMatchObject({ kind: 'drained', records: 61, remaining: 0 });
    expect(batches.slice(0, 6).flat().sort()).toEqual(keys);
    expect(batches[6]).toEqual([batches[0]?.[0]]);
  });

  it('syncs full disjoint batches at once and, when one fails, keeps exactly its records (and the unfilled rest) pending', async () => {
    const installation = randomUUID();
    const pending = new PendingSet(redis, prefix);
    const keys = Array.from({ length: 35 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    await pending.mark(installation, 'to-salesforce', keys);
    let running = 0;
    let most = 0;
    const seen: string[][] = [];
    const failing = drainPending(
      {
        ...deps(async (_id, _dir, batch) => {
          running += 1;
          most = Math.max(most, running);
          // Each batch stays open until three run at once (a drain that ran them one by one fails here).
          await eventually(async () => most >= 3, 5_000, 'three batches syncing at once', 5);
          running -= 1;
          seen.push(batch);
          if (batch.includes('c12')) throw new Error('Salesforce 503');
        }),
        parallelBatches: 3,
      },
      installation,
      'to-salesforce',
    );
    await expect(failing).rejects.toThrow('Salesforce 503');
    // Three full batches at once; the five left over wait to fill a batch of their own, unless the
    // failing batch ends last: then they run as the one partial batch beside it.
    expect(most).toBe(3);
    const full = seen.filter((batch) => batch.length === 10);
    expect(full).toHaveLength(3);
    expect(new Set(full.flat()).size).toBe(30);
    const leftOver = keys.filter((key) => !full.flat().includes(key));
    expect(leftOver).toHaveLength(5);
    const partial = seen.filter((batch) => batch.length !== 10);
    expect(partial.map((batch) => [...batch].sort())).toEqual(partial.length === 0 ? [] : [leftOver]);
    const failed = seen.find((batch) => batch.includes('c12')) ?? [];
    expect((await pending.peek(installation, 'to-salesforce', 100)).map((r) => r.key).sort()).toEqual(
      [...failed, ...(partial.length === 0 ? leftOver : [])].sort(),
    );
  });

  it('runs a partial batch beside a slow one: a record arriving meanwhile does not wait for it, and never joins it', async () => {
    const installation = randomUUID();
    const pending = new PendingSet(redis, prefix);
    await pending.mark(installation, 'to-salesforce', ['early']);
    const batches: string[][] = [];
    let release: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const draining = drainPending(
      {
        ...deps(async (_id, _dir, batch) => {
          batches.push(batch);
          // The first batch syncs slowly; a marketer's next MQL arrives meanwhile.
          if (batches.length === 1) {
            await pending.mark(installation, 'to-salesforce', ['late', 'early']);
            await slow;
          }
        }),
        parallelBatches: 3,
      },
      installation,
      'to-salesforce',
    );
    // The late record syncs while the first batch still runs; the early one's newer version waits for it.
    await eventually(async () => batches.length >= 2, 5_000, 'a second batch beside the slow one', 5);
    expect(batches).toEqual([['early'], ['late']]);
    release();
    const result = await draining;
    expect(result).toMatchObject({ kind: 'drained', remaining: 0 });
    expect(batches).toEqual([['early'], ['late'], ['early']]);
  });

  it('reports how long a dead holder keeps the lock', async () => {
    const installation = randomUUID();
    await redis.set(`${prefix}:drain-lock:${installation}:to-salesforce`, 'dead-holder', 'PX', 1_500);
    const busy = await drainPending(
      deps(async () => undefined),
      installation,
      'to-salesforce',
    );
    expect(busy).toMatchObject({ kind: 'busy', holder: 'dead-holder' });
    if (busy.kind === 'busy') expect(busy.lockExpiresInMs).toBeLessThanOrEqual(1_500);
  });
});
