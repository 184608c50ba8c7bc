import { describe, expect, it } from 'vitest';
import { DEFAULT_CHANNEL_RULES } from '../../../src/domain/channels.ts';
import { checkMarketingCommitments } from '../../../src/domain/settings-check.ts';
import { previewMarketingCommitments } from '../../../src/domain/settings-preview.ts';
import {
  commitmentKey,
  DEFAULT_MARKETING_COMMITMENTS,
  needsAlert,
  paceCommitment,
  parsePeriod,
  periodContaining,
  validateMarketingCommitments,
} from '../../../src/domain/commitments.ts';

// December 2026 has 31 days: from 2026-12-01T00:00Z to 2027-01-01T00:00Z.
const december = periodContaining('month', new Date('2026-12-10T12:00:00Z'));
const day = (n: number): Date => new Date(Date.UTC(2026, 11, 1) + n * 86_400_000);

describe('commitment periods', () => {
  it('finds the UTC month and quarter containing a moment', () => {
    expect(december).toEqual({
      id: '2026-12',
      kind: 'month',
      from: new Date('2026-12-01T00:00:00Z'),
      to: new Date('2027-01-01T00:00:00Z'),
    });
    expect(periodContaining('quarter', new Date('2026-11-15T00:00:00Z'))).toEqual({
      id: '2026-Q4',
      kind: 'quarter',
      from: new Date('2026-10-01T00:00:00Z'),
      to: new Date('2027-01-01T00:00:00Z'),
    });
    expect(periodContaining('quarter', new Date('2026-01-01T00:00:00Z')).id).toBe('2026-Q1');
  });

  it('reads a month or a quarter id and refuses anything else', () => {
    expect(parsePeriod('2026-12')).toEqual(december);
    expect(parsePeriod('2026-Q2')?.from).toEqual(new Date('2026-04-01T00:00:00Z'));
    expect(parsePeriod('2026-Q2')?.to).toEqual(new Date('2026-07-01T00:00:00Z'));
    expect(parsePeriod('2026-13')).toBeNull();
    expect(parsePeriod('2026-Q5')).toBeNull();
    expect(parsePeriod('December')).toBeNull();
  });
});

describe('pacing a commitment', () => {
  it('expects the target times the elapsed share and forecasts on a straight line', () => {
    // 10 of 31 days gone: expected 310 × 10/31 = 100; 80 delivered → forecast 80 × 31/10 = 248, 80 % of 310.
    const pacing = paceCommitment({ target: 310, delivered: 80, period: december, now: day(10) });
    expect(pacing.elapsedShare).toBeCloseTo(10 / 31, 4);
    expect(pacing.expectedToDate).toBe(100);
    expect(pacing.forecast).toBe(248);
    expect(pacing.forecastShare).toBe(0.8);
    expect(pacing.status).toBe('behind');
  });

  it('is on track from a forecast of 100 % of the target', () => {
    expect(paceCommitment({ target: 310, delivered: 100, period: december, now: day(10) }).status).toBe('on_track');
  });

  it('is at risk from 85 % up to 100 %, behind below 85 %', () => {
    // forecast = delivered × 3.1: 85 delivered → 263.5 = 85 % of 310; 84 → 260.4 = 84 %.
    expect(paceCommitment({ target: 310, delivered: 85, period: december, now: day(10) }).status).toBe('at_risk');
    expect(paceCommitment({ target: 310, delivered: 84, period: december, now: day(10) }).status).toBe('behind');
  });

  it('does not judge before 10 % of the period has passed, unless the target is reached', () => {
    // 3 days of 31 is 9.7 %.
    expect(paceCommitment({ target: 310, delivered: 0, period: december, now: day(3) }).status).toBe('too_early');
    expect(paceCommitment({ target: 10, delivered: 10, period: december, now: day(1) }).status).toBe('on_track');
    expect(paceCommitment({ target: 310, delivered: 0, period: december, now: day(3.1) }).status).toBe('behind');
  });

  it('forecasts what was delivered once the period is over', () => {
    const pacing = paceCommitment({ target: 200, delivered: 180, period: december, now: new Date('2027-01-05T00:00:00Z') });
    expect(pacing).toMatchObject({ elapsedShare: 1, expectedToDate: 200, forecast: 180, forecastShare: 0.9, status: 'at_risk' });
  });

  it('alerts at risk and behind only', () => {
    expect(['too_early', 'on_track', 'at_risk', 'behind'].map((status) => needsAlert(status as 'on_track'))).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });
});

describe('the commitments setting', () => {
  it('defaults to monthly with no commitment', () => {
    expect(DEFAULT_MARKETING_COMMITMENTS).toEqual({ period: 'month', commitments: [] });
  });

  it('refuses an unknown period and metric, and a target of 0, with every message', () => {
    const result = validateMarketingCommitments({
      period: 'week',
      commitments: [
        { metric: 'leads', target: 10 },
        { metric: 'mqls_delivered', target: 0 },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toHaveLength(3);
    expect(result.error).toContain('commitments[1].target: must be more than 0');
  });

  it('refuses the same metric twice for one channel, whatever its case', () => {
    const result = validateMarketingCommitments({
      commitments: [
        { metric: 'sqls_accepted', target: 5, channel: 'Paid Search' },
        { metric: 'sqls_accepted', target: 8, channel: 'paid search' },
        { metric: 'sqls_accepted', target: 20 },
      ],
    });
    expect(result).toEqual({ ok: false, error: ['commitments[1].metric: sqls_accepted for paid search is listed twice'] });
  });

  it('keys a commitment by metric and channel, case-insensitively', () => {
    expect(commitmentKey({ metric: 'mqls_delivered', channel: 'Email' })).toBe('mqls_delivered|email');
    expect(commitmentKey({ metric: 'mqls_delivered' })).toBe('mqls_delivered|');
  });
});

describe('checking and previewing commitments', () => {
  it('refuses a channel the channel rules cannot produce, whatever its case otherwise', () => {
    const known = DEFAULT_CHANNEL_RULES.rules[0]?.channel ?? DEFAULT_CHANNEL_RULES.fallbackChannel;
    const problems = checkMarketingCommitments(
      {
        period: 'month',
        commitments: [
          { metric: 'mqls_delivered', target: 10, channel: known.toUpperCase() },
          { metric: 'sqls_accepted', target: 5, channel: 'Carrier Pigeon' },
          { metric: 'pipeline_created', target: 100 },
        ],
      },
      DEFAULT_CHANNEL_RULES,
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^commitments\[1\]\.channel: "Carrier Pigeon" is not a channel of the channel rules/);
  });

  it('says a change of period restarts the pacing of the commitments already set', () => {
    const monthly = { period: 'month' as const, commitments: [{ metric: 'mqls_delivered' as const, target: 10 }] };
    expect(previewMarketingCommitments(monthly, monthly)).toEqual({ changed: false, lines: [], restampOffered: false });
    expect(previewMarketingCommitments(monthly, { ...monthly, period: 'quarter' }).lines).toEqual([
      { level: 'info', count: 1, text: '1 commitment would be paced per quarter' },
      { level: 'warn', count: 1, text: '1 commitment paced per month would start pacing (and alerting) afresh per quarter' },
    ]);
  });
});
