/**
 * Marks records pending and makes sure a drain job will run after a short coalescing window.
 * One drain job per installation, direction and time bucket: every change inside a bucket is
 * already pending when that bucket's job runs (it is delayed to the bucket's end or later).
 */
import type { Producer } from '../queue/producer.ts';
import type { Direction, PendingSet } from './pending-set.ts';
import { NEXT_TURN_PRIORITY } from '../queue/fair-share.ts';

/**
 * The coalescing window per direction. A drain to HubSpot costs three HubSpot calls whatever its
 * size (read, update, timeline notes) against a burst limit of 90 per 10 s on the lowest tier; at 4
 * rep changes a second, 250-ms windows mean ~12 calls a second and stalls of seconds in the limiter
 * (p95 1.0–2.1 s in `npm run bench lifecycle`), 500-ms windows ~6 calls a second and none (p95
 * 0.44–0.45 s). A handoff to Salesforce costs two HubSpot calls and is the one marketing waits on.
 */
export const DEFAULT_COALESCE_MS: Readonly<Record<Direction, number>> = { 'to-salesforce': 250, 'to-hubspot': 500 };

export class SyncScheduler {
  private readonly coalesceMs: Readonly<Record<Direction, number>>;

  /** `coalesceMs`: one window for both directions, or one per direction. */
  constructor(
    private readonly pending: PendingSet,
    private readonly producer: Producer,
    coalesceMs: number | Readonly<Record<Direction, number>> = DEFAULT_COALESCE_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.coalesceMs = typeof coalesceMs === 'number' ? { 'to-salesforce': coalesceMs, 'to-hubspot': coalesceMs } : coalesceMs;
  }

  /** Marks records pending and schedules their drain. */
  async markAndSchedule(installationId: string, direction: Direction, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const now = this.now();
    await this.pending.mark(installationId, direction, keys, now);
    await this.schedule(installationId, direction, now);
  }

  /** Marks records pending and starts their drain now, without the coalescing window (an admin's "sync now"). */
  async markAndDrainNow(installationId: string, direction: Direction, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const now = this.now();
    await this.pending.mark(installationId, direction, keys, now);
    await this.schedule(installationId, direction, now, true);
  }

  /**
   * Schedules a drain job for the current bucket (a no-op when one exists). A drain that used its
   * whole turn with records left (`afterOthers`) continues behind every other installation's
   * waiting drain (src/queue/fair-share.ts), so drains take turns across installations.
   */
  async schedule(installationId: string, direction: Direction, now = this.now(), continuation = false, afterOthers = false): Promise<void> {
    const coalesceMs = this.coalesceMs[direction];
    const bucket = Math.floor(now / coalesceMs);
    const key = direction === 'to-salesforce' ? 'syncToSalesforce' : 'syncToHubSpot';
    const jobId = `drain-${direction}-${installationId}-${bucket}${continuation ? `-c${now}` : ''}`;
    await this.producer.enqueue(key, [
      {
        jobId,
        payload: { v: 1, installationId },
        delayMs: continuation ? 0 : coalesceMs,
        ...(afterOthers ? { priority: NEXT_TURN_PRIORITY } : {}),
      },
    ]);
  }

  /**
   * Schedules one drain for when a holder's lock would expire (a holder that died never lets go
   * and never runs again); one job per holder, however many drains found it busy.
   */
  async afterLock(installationId: string, direction: Direction, holder: string, delayMs: number): Promise<void> {
    const key = direction === 'to-salesforce' ? 'syncToSalesforce' : 'syncToHubSpot';
    await this.producer.enqueue(key, [
      { jobId: afterLockJobId(installationId, direction, holder), payload: { v: 1, installationId }, delayMs },
    ]);
  }
}

/** The id of the one drain that runs when a holder's lock would expire. */
export function afterLockJobId(installationId: string, direction: Direction, holder: string): string {
  return `drain-${direction}-${installationId}-after-${holder.replace(/[^A-Za-z0-9-]/g, '') || 'unknown'}`;
}
