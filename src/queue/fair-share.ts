/**
 * Fairness across installations on one deployment, for event jobs and drain turns. BullMQ takes a queue's jobs without a
 * priority (0) before prioritized ones, and prioritized ones by rising number, first in first out
 * within a number (https://docs.bullmq.io/guide/jobs/prioritized). Each installation's events are
 * counted per window in Redis; past its share of the window, its further events get a priority
 * that grows with the burst, so one installation's import waits behind every other installation's
 * changes instead of ahead of them (and, within a window, behind its own earlier events; once the
 * window ends its next events start at 0 again — event order was never guaranteed, the workers
 * take many at a time and the drains read the current state). A drain that used its
 * whole turn with records left continues at `NEXT_TURN_PRIORITY`, behind the drains other
 * installations have waiting: drains take turns.
 */
import type { RedisConnection } from './redis.ts';

/**
 * Events an installation may add per window before its further events yield to the others: 100 a
 * second on average, and never more than 100 at once ahead of another installation's change (a
 * 10-s window of 1,000 let an import put 1,000 events ahead of a quiet installation's next change:
 * p95 3.6 s for the quiet installations' handoffs in `npm run bench tenants`).
 */
export const FAIR_SHARE_EVENTS = 100;
export const FAIR_SHARE_WINDOW_MS = 1_000;
/** BullMQ's largest priority, 2^21 - 1 (its PRIORITY_LIMIT; a larger one is refused). */
const LOWEST_PRIORITY = 2 ** 21 - 1;

/** The priority of a drain's next turn when it used its whole turn with records left: behind every waiting drain of the others. */
export const NEXT_TURN_PRIORITY = 1;

/** Counts `n` more events in the installation's window (which starts with its first event). */
const COUNT = `local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return count`;

/** The priority of events that bring an installation's window to `countInWindow` events: 0 within its share, then one step per further share. */
export function burstPriority(countInWindow: number): number {
  if (countInWindow <= FAIR_SHARE_EVENTS) return 0;
  return Math.min(LOWEST_PRIORITY, Math.ceil(countInWindow / FAIR_SHARE_EVENTS) - 1);
}

/** Counts a delivery's events against its installation's window and says the priority they get. */
export async function intakePriority(redis: RedisConnection, prefix: string, installationId: string, events: number): Promise<number> {
  const key = `${prefix}:intake-load:${installationId}`;
  const count = Number(await redis.eval(COUNT, 1, key, String(events), String(FAIR_SHARE_WINDOW_MS)));
  return burstPriority(count);
}
