/** The drain scheduler: one drain job per installation, direction and coalescing window. */
import { describe, expect, it } from 'vitest';
import type { Producer } from '../../src/queue/producer.ts';
import type { PendingSet } from '../../src/sync/pending-set.ts';
import { SyncScheduler } from '../../src/sync/scheduler.ts';

interface Enqueued {
  queue: string;
  jobId: string;
  delayMs: number | undefined;
}

function schedulerAt(clock: { now: number }, coalesceMs?: number): { scheduler: SyncScheduler; enqueued: Enqueued[]; marked: string[] } {
  const enqueued: Enqueued[] = [];
  const marked: string[] = [];
  const producer = {
    enqueue: async (queue: string, jobs: { jobId: string; delayMs?: number }[]) =>
      void enqueued.push(...jobs.map((job) => ({ queue, jobId: job.jobId, delayMs: job.delayMs }))),
  };
  const pending = {
    mark: async (_installation: string, direction: string, keys: readonly string[]) =>
      void marked.push(...keys.map((key) => `${direction}:${key}`)),
  };
  const scheduler = new SyncScheduler(pending as unknown as PendingSet, producer as unknown as Producer, coalesceMs, () => clock.now);
  return { scheduler, enqueued, marked };
}

describe('drain scheduler', () => {
  it('gathers HubSpot-bound changes over 500 ms and Salesforce-bound ones over 250 ms', async () => {
    const clock = { now: 1_000_000 };
    const { scheduler, enqueued, marked } = schedulerAt(clock);
    await scheduler.markAndSchedule('inst', 'to-hubspot', ['Lead:00Q1']);
    clock.now += 300;
    await scheduler.markAndSchedule('inst', 'to-hubspot', ['Lead:00Q2']);
    await scheduler.markAndSchedule('inst', 'to-salesforce', ['101']);
    clock.now += 300;
    await scheduler.markAndSchedule('inst', 'to-salesforce', ['102']);
    expect(marked).toEqual(['to-hubspot:Lead:00Q1', 'to-hubspot:Lead:00Q2', 'to-salesforce:101', 'to-salesforce:102']);
    // Both HubSpot-bound changes fall in one 500-ms window: one drain. The Salesforce-bound ones, 300 ms apart, two.
    expect(enqueued).toEqual([
      { queue: 'syncToHubSpot', jobId: 'drain-to-hubspot-inst-2000', delayMs: 500 },
      { queue: 'syncToHubSpot', jobId: 'drain-to-hubspot-inst-2000', delayMs: 500 },
      { queue: 'syncToSalesforce', jobId: 'drain-to-salesforce-inst-4001', delayMs: 250 },
      { queue: 'syncToSalesforce', jobId: 'drain-to-salesforce-inst-4002', delayMs: 250 },
    ]);
  });

  it('takes one window for both directions when given a number', async () => {
    const { scheduler, enqueued } = schedulerAt({ now: 1_000 }, 50);
    await scheduler.markAndSchedule('inst', 'to-hubspot', ['Lead:00Q1']);
    await scheduler.markAndSchedule('inst', 'to-salesforce', ['101']);
    expect(enqueued.map((job) => job.delayMs)).toEqual([50, 50]);
  });
});
