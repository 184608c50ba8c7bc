/**
 * Marks records pending and makes sure a drain job will run after a short coalescing window.
 * One drain job per installation, direction and time bucket: every change inside a bucket is
 * already pending when that bucket's job runs (it is delayed to the bucket's end or later).
 */
import type { Producer } from '../queue/producer.ts';
import type { Direction, PendingSet } from './pending-set.ts';

export const DEFAULT_COALESCE_MS = 250;

export class SyncScheduler {
  constructor(
    private readonly pending: PendingSet,
    private readonly producer: Producer,
    private readonly coalesceMs = DEFAULT_COALESCE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Marks records pending and schedules their drain. */
  async markAndSchedule(installationId: string, direction: Direction, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const now = this.now();
    await this.pending.mark(installationId, direction, keys, now);
    await this.schedule(installationId, direction, now);
  }

  /** Schedules a drain job for the current bucket (a no-op when one exists). */
  async schedule(installationId: string, direction: Direction, now = this.now(), continuation = false): Promise<void> {
    const bucket = Math.floor(now / this.coalesceMs);
    const key = direction === 'to-salesforce' ? 'syncToSalesforce' : 'syncToHubSpot';
    const jobId = `drain-${direction}-${installationId}-${bucket}${continuation ? `-c${now}` : ''}`;
    await this.producer.enqueue(key, [{ jobId, payload: { v: 1, installationId }, delayMs: continuation ? 0 : this.coalesceMs }]);
  }

  /**
   * Schedules one drain for when a holder's lock would expire (a holder that died never lets go
   * and never runs again); one job per holder, however many drains found it busy.
   */
  async afterLock(installationId: string, direction: Direction, holder: string, delayMs: number): Promise<void> {
    const key = direction === 'to-salesforce' ? 'syncToSalesforce' : 'syncToHubSpot';
    await this.producer.enqueue(key, [{ jobId: afterLockJobId(installationId, direction, holder), payload: { v: 1, installationId }, delayMs }]);
  }
}

/** The id of the one drain that runs when a holder's lock would expire. */
export function afterLockJobId(installationId: string, direction: Direction, holder: string): string {
  return `drain-${direction}-${installationId}-after-${holder.replace(/[^A-Za-z0-9-]/g, '') || 'unknown'}`;
}
