/**
 * A pipeline review built by hand, every figure distinct, so a test can find each number in what
 * the digest sends (the review's own computation is tested with the review).
 */
import type { PipelineReview } from '../../src/domain/review.ts';

/** The review of 2026-Q4 for `installationId`, in US dollars. */
export function reviewFixture(installationId: string, periodId = '2026-Q4'): PipelineReview {
  const rule = (name: 'first_touch' | 'cadence' | 'disposition' | 'untouched', kept: number, broken: number, pending: number) => ({
    rule: name,
    enabled: true,
    judged: kept + broken,
    kept,
    broken,
    pending,
    rate: kept / (kept + broken),
  });
  return {
    installationId,
    period: { id: periodId, kind: 'quarter', from: '2026-10-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' },
    generatedAt: '2026-12-07T08:00:00.000Z',
    currency: 'USD',
    goal: { quarter: '2026-Q4', targetCents: 50_000_000, closedCents: 12_345_678, share: 0.2469, owner: 'Sales' },
    pipeline: {
      stages: [
        { stage: 'Prospecting', deals: 7, amountCents: 4_100_000 },
        { stage: 'Negotiation/Review', deals: 4, amountCents: 9_876_500 },
      ],
      totalDeals: 11,
      totalCents: 13_976_500,
    },
    sources: {
      channels: [{ key: 'Paid Search', wonDeals: 3, wonCents: 7_654_300, openDeals: 6, openCents: 5_432_100 }],
      campaigns: [{ key: 'Winter Webinar', wonDeals: 2, wonCents: 2_222_200, openDeals: 5, openCents: 3_333_300 }],
    },
    newCustomers: [
      {
        accountId: '001A',
        accountName: 'Globex & Sons',
        opportunityId: '006A',
        opportunityName: 'Globex platform',
        amountCents: 4_567_800,
        wonAt: '2026-11-12T10:00:00.000Z',
        reason: 'Faster onboarding',
        channel: 'Paid Search',
        campaign: 'Winter Webinar',
      },
    ],
    losses: {
      deals: [
        {
          opportunityId: '006B',
          opportunityName: 'Initech renewal',
          accountName: 'Initech',
          amountCents: 1_919_100,
          lostAt: '2026-11-20T10:00:00.000Z',
          reason: 'Price',
        },
      ],
      reasons: [{ reason: 'Price', deals: 1, amountCents: 1_919_100 }],
    },
    agreement: {
      marketing: {
        period: { id: '2026-12', kind: 'month', from: '2026-12-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' },
        commitments: [
          {
            key: 'mqls_delivered|',
            metric: 'mqls_delivered',
            channel: null,
            target: 64,
            delivered: 17,
            elapsedShare: 0.2,
            expectedToDate: 29,
            forecast: 41,
            forecastShare: 0.64,
            status: 'behind',
          },
          {
            key: 'sqls_accepted|email',
            metric: 'sqls_accepted',
            channel: 'Email',
            target: 13,
            delivered: 9,
            elapsedShare: 0.2,
            expectedToDate: 3,
            forecast: 19,
            forecastShare: 1.46,
            status: 'on_track',
          },
        ],
      },
      sales: {
        handedOff: 23,
        rules: [
          rule('first_touch', 18, 2, 3),
          rule('cadence', 11, 5, 7),
          { rule: 'disposition', enabled: false, judged: 0, kept: 0, broken: 0, pending: 0, rate: null },
          rule('untouched', 20, 1, 2),
        ],
        medianHoursToFirstTouch: 3.7,
        byRep: [],
      },
    },
    goals: [{ kpi: 'win_rate', unit: 'percent', owner: 'Dana', target: 35, actual: 42.5, previous: 30, trend: 'better', status: 'met' }],
    upcoming: {
      campaigns: [
        {
          source: 'salesforce',
          id: '701A',
          name: 'Spring Launch',
          startDate: '2026-12-20',
          endDate: null,
          type: 'Webinar',
          status: 'Planned',
          url: null,
        },
      ],
      unavailable: [{ source: 'hubspot', reason: 'the portal has no Marketing Hub campaigns' }],
    },
  };
}

/** The figures of `reviewFixture` as the digest writes them, block by block. */
export const FIXTURE_FIGURES = {
  email: [
    '$123,456.78',
    '$500,000.00',
    '24.7 %',
    'Prospecting: 7 deals, $41,000.00',
    'Negotiation/Review: 4 deals, $98,765.00',
    '11 deals, $139,765.00',
    'Paid Search: won 3 ($76,543.00), open 6 ($54,321.00)',
    'Winter Webinar: won 2 ($22,222.00), open 5 ($33,333.00)',
    '$45,678.00',
    'Faster onboarding',
    'Price: 1 deals, $19,191.00',
    'mqls delivered: 17 of 64, 29 expected by now, forecast 41: behind',
    '23 leads handed off',
    '3.7 h',
    'first touch: 90 % kept (18 of 20)',
    'cadence: 68.8 % kept (11 of 16)',
    'win rate (Dana): 42.5 % against 35 %',
    'Spring Launch',
    'the portal has no Marketing Hub campaigns',
  ],
  chat: [
    '$123,456.78',
    '$500,000.00',
    '$139,765.00',
    '11 deals',
    'New customers 1 ($45,678.00)',
    'Losses 1 ($19,191.00)',
    'mqls delivered behind (17/64)',
    '23 handed off',
    'first touch 90 %',
    'Campaigns starting in 30 days: 1',
  ],
};
