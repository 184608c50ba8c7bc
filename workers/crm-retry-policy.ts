/**
 * The one retry policy for CRM errors: what a worker does when a CRM call failed. The adapters
 * encode the decision in the error's class (src/crm/errors.ts); this maps the class to an action.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { CrmAuthError, CrmRateLimitedError, CrmRejectedError, CrmTransientError } from '../src/crm/errors.ts';

/** What a failed CRM call means for the job that made it. */
export type CrmRetryDecision =
  /** A rate limit: wait for the server's hint without using up an attempt. */
  | { kind: 'delay'; system: 'hubspot' | 'salesforce'; ms: number }
  /** The CRM refused the request itself: retrying will not help. */
  | { kind: 'give-up'; system: 'hubspot' | 'salesforce'; code: string; reason: string }
  /** The credentials no longer work: the job is retried with backoff until an admin reconnects. */
  | { kind: 'disconnected'; system: 'hubspot' | 'salesforce' }
  /** A 5xx, timeout, network failure or anything else: retried with the job's backoff. `system`: the CRM's own passing failure. */
  | { kind: 'retry'; system?: 'hubspot' | 'salesforce' };

/** Maps a CRM error (or any error) to the retry decision. */
export function crmRetryDecision(error: unknown): CrmRetryDecision {
  if (error instanceof CrmRateLimitedError) return { kind: 'delay', system: error.system, ms: error.retryAfterMs };
  if (error instanceof CrmRejectedError) return { kind: 'give-up', system: error.system, code: error.code, reason: error.message };
  if (error instanceof CrmAuthError) return { kind: 'disconnected', system: error.system };
  if (error instanceof CrmTransientError) return { kind: 'retry', system: error.system };
  return { kind: 'retry' };
}

/**
 * Acts on a decision for a BullMQ job: a delay moves the job (DelayedError), a give-up fails it
 * for good (UnrecoverableError), anything else throws the error back for the job's backoff.
 */
export async function settleCrmFailure(
  error: unknown,
  decision: CrmRetryDecision,
  job: Pick<Job, 'moveToDelayed'>,
  token: string | undefined,
): Promise<never> {
  if (decision.kind === 'delay') {
    await job.moveToDelayed(Date.now() + decision.ms, token);
    throw new DelayedError();
  }
  if (decision.kind === 'give-up') throw new UnrecoverableError(decision.reason);
  throw error;
}
