import { DelayedError, UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { CrmAuthError, CrmRateLimitedError, CrmRejectedError, CrmTransientError } from '../../src/crm/errors.ts';
import { crmRetryDecision, settleCrmFailure } from '../../workers/crm-retry-policy.ts';

describe('the retry policy for CRM errors', () => {
  it('delays a rate-limited job by the server hint', () => {
    expect(crmRetryDecision(new CrmRateLimitedError('salesforce', 20_000, 'REQUEST_LIMIT_EXCEEDED'))).toEqual({
      kind: 'delay',
      system: 'salesforce',
      ms: 20_000,
    });
  });

  it('gives up on a request the CRM refuses', () => {
    expect(crmRetryDecision(new CrmRejectedError('hubspot', 'VALIDATION_ERROR', 'bad email', 400))).toEqual({
      kind: 'give-up',
      system: 'hubspot',
      code: 'VALIDATION_ERROR',
      reason: 'bad email',
    });
  });

  it('names a side whose credentials no longer work', () => {
    expect(crmRetryDecision(new CrmAuthError('salesforce', 'expired'))).toEqual({ kind: 'disconnected', system: 'salesforce' });
  });

  it('retries a transient failure and any other error with backoff', () => {
    expect(crmRetryDecision(new CrmTransientError('hubspot', 'socket hang up'))).toEqual({ kind: 'retry', system: 'hubspot' });
    expect(crmRetryDecision(new Error('boom'))).toEqual({ kind: 'retry' });
  });

  it('moves a delayed job to its due time without using up an attempt', async () => {
    const moved: number[] = [];
    const job = {
      moveToDelayed: async (at: number) => {
        moved.push(at);
        return Promise.resolve();
      },
    };
    const before = Date.now();
    await expect(settleCrmFailure(new Error('x'), { kind: 'delay', system: 'hubspot', ms: 5_000 }, job, 'token')).rejects.toBeInstanceOf(
      DelayedError,
    );
    expect(moved[0]).toBeGreaterThanOrEqual(before + 5_000);
  });

  it('fails a refused job for good and throws anything else back', async () => {
    const job = { moveToDelayed: async () => Promise.resolve() };
    const refused = new CrmRejectedError('salesforce', 'INVALID_FIELD', 'no such field');
    await expect(settleCrmFailure(refused, crmRetryDecision(refused), job, undefined)).rejects.toBeInstanceOf(UnrecoverableError);
    const transient = new CrmTransientError('salesforce', 'timeout');
    await expect(settleCrmFailure(transient, crmRetryDecision(transient), job, undefined)).rejects.toBe(transient);
  });
});
