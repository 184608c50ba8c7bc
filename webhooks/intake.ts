/**
 * What every receiver does after verifying and validating: enqueue durably within a time budget,
 * then acknowledge. The outcome is a small union that each receiver maps to its HTTP answer.
 */
import type { QueueKey } from '../src/queue/catalog.ts';
import type { NewJob, Producer } from '../src/queue/producer.ts';

export type IntakeResult =
  | { kind: 'accepted'; enqueued: number; ignored: number }
  | { kind: 'refused'; status: 400 | 401 | 403 | 404 | 413 | 415; reason: string; message: string }
  | { kind: 'unavailable'; message: string };

/** How long a receiver waits for Redis before answering 503 (the sender then retries). */
export const DEFAULT_ENQUEUE_BUDGET_MS = 2_000;

class BudgetExceeded extends Error {}

function withinBudget<T>(work: Promise<T>, budgetMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BudgetExceeded(`queue did not answer within ${budgetMs} ms`)), budgetMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Enqueues the jobs in one round trip. Deterministic job ids make a redelivery a no-op inside
 * Redis (BullMQ keeps the existing job), so the hot path spends nothing on finding duplicates.
 * Resolves `unavailable` when Redis is down or slower than the budget: nothing is acknowledged then.
 */
export async function enqueueDurably<K extends QueueKey>(
  deps: { producer: Producer; budgetMs: number },
  key: K,
  jobs: readonly NewJob<K>[],
  ignored: number,
): Promise<IntakeResult> {
  if (jobs.length === 0) return { kind: 'accepted', enqueued: 0, ignored };
  try {
    await withinBudget(deps.producer.enqueue(key, jobs), deps.budgetMs);
    return { kind: 'accepted', enqueued: jobs.length, ignored };
  } catch (error) {
    return { kind: 'unavailable', message: error instanceof BudgetExceeded ? error.message : 'queue is unavailable' };
  }
}

/** Turns a body-reading failure (too large, unreadable) into a refusal; undefined for other errors. */
export function bodyReadRefusal(error: unknown, maxBodyBytes: number, invalidReason: string): IntakeResult | undefined {
  const status = typeof error === 'object' && error !== null && 'status' in error ? (error).status : undefined;
  if (status === 413) return { kind: 'refused', status: 413, reason: 'too_large', message: `body is larger than ${maxBodyBytes} bytes` };
  if (status === 400) return { kind: 'refused', status: 400, reason: invalidReason, message: 'body could not be read' };
  return undefined;
}
