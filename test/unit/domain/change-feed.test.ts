import { describe, expect, it } from 'vitest';
import { feedStatus, type FeedRecord } from '../../../src/domain/change-feed.ts';

const now = new Date('2026-12-04T12:00:00Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
const record = (over: Partial<FeedRecord>): FeedRecord => ({
  offset: 'off-9',
  publishedAt: ago(30),
  storedAt: ago(5),
  caughtUpAt: null,
  lastError: null,
  lastErrorAt: null,
  ...over,
});

describe('a pull feed on the dashboard', () => {
  it('is off in push mode, and starting before the worker first read it', () => {
    expect(feedStatus('push', null, now).health).toBe('off');
    expect(feedStatus('pull', null, now)).toMatchObject({ health: 'starting', position: null, lagSeconds: null });
  });

  it('is current with no lag once caught up, and shows its offset', () => {
    expect(feedStatus('both', record({ caughtUpAt: ago(1) }), now)).toEqual({
      mode: 'both',
      position: 'off-9',
      lagSeconds: 0,
      health: 'current',
      detail: null,
    });
  });

  it('lags by the age of the last entry taken while it reads entries, catching up past a minute', () => {
    expect(feedStatus('pull', record({}), now)).toMatchObject({ lagSeconds: 30, health: 'current' });
    expect(feedStatus('pull', record({ publishedAt: ago(600) }), now)).toMatchObject({ lagSeconds: 600, health: 'catching up' });
  });

  it('is failing when the last attempt failed, and stalled when nothing was read for two minutes', () => {
    expect(feedStatus('pull', record({ lastError: 'journal next: HTTP 503', lastErrorAt: ago(1) }), now)).toMatchObject({
      health: 'failing',
      detail: 'journal next: HTTP 503',
    });
    expect(feedStatus('pull', record({ storedAt: ago(300), caughtUpAt: ago(200) }), now).health).toBe('stalled');
  });
});
