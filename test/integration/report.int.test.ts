/**
 * The funnel report against a seeded dataset whose every figure is worked out by hand below,
 * on PostgreSQL and on PGlite. Period: March 2024 ([2024-03-01, 2024-04-01)), judged on June 1st.
 *
 * Contacts (first touch → channel / campaign; stages; what the period sees):
 *   c1  03-01 10:00 Paid Search / spring-search; MQL 03-03 10:00, SQL 03-04 10:00, opportunity 03-08 10:00,
 *       customer 03-18 10:00; later touches 03-05 webinar-march, 03-12 retargeting-q1, 03-20 late-campaign (after the win)
 *   c2  03-02 Paid Search / spring-search; MQL 03-06, SQL 03-07 12:00
 *   c3  03-05 Email / webinar-march; MQL 03-06 (rejected 03-07, no budget)
 *   c4  03-10 Organic Search / no campaign → (unattributed); lead only
 *   c5  02-20 Email / webinar-march (lead before the period); MQL 03-02, SQL 03-03; opportunity 04-02 (after)
 *   c6  no touch → Unassigned / (unattributed); MQL 03-20, customer 03-25 (skips SQL and opportunity)
 *   c7  04-05 Paid Social / summer-social: after the period, nowhere in the report
 *   c9  03-15 Referral / "=SUM(A1:A9)" (a campaign name a spreadsheet would run); lead only
 *
 * Leads c1 c2 c3 c4 c6 c9 = 6; MQLs c1 c2 c3 c5 c6 = 5; SQLs c1 c2 c5 c6 = 4; opportunities c1 c6 = 2;
 * customers c1 c6 = 2. Lead→MQL 4/6; MQL→SQL 4/5; SQL→opportunity 2/4 (c5's is after the period);
 * opportunity→customer 2/2; lead→customer 2/6.
 * Median days: lead→MQL over c1 2, c2 4, c3 1, c6 0 → 1.5; MQL→SQL over c1 1, c5 1, c2 1.5, c6 5 (its SQL is
 * its customer day) → 1.25; SQL→opportunity c1 4, c6 0 → 2; opportunity→customer c1 10, c6 0 → 5;
 * lead→customer c6 5, c1 17 → 11.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCsv } from '../../src/server/admin/report-export.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { DEFAULT_REVENUE_POLICY } from '../../src/domain/revenue.ts';
import { funnelReport, type FunnelReport, type FunnelRow } from '../../src/store/report.ts';
import { BACKENDS, openTestDb } from '../support/db.ts';
import { insertStageHistory } from '../support/stage-history.ts';

const I = 'report-installation';
const at = (iso: string) => new Date(iso.length === 10 ? `${iso}T00:00:00Z` : `${iso}Z`);

async function seed(db: Db): Promise<void> {
  await db.query(
    "INSERT INTO installations (id, name, salesforce_webhook_token) VALUES ($1, 'Report', 'report-token'), ('someone-else', 'Other', 'other-token')",
    [I],
  );
  const touches: [string, string, boolean, string, string | null][] = [
    ['c1', '2024-03-01T10:00:00', true, 'Paid Search', 'spring-search'],
    ['c1', '2024-03-05', false, 'Email', 'webinar-march'],
    ['c1', '2024-03-12', false, 'Paid Social', 'retargeting-q1'],
    ['c1', '2024-03-20', false, 'Paid Social', 'late-campaign'],
    ['c2', '2024-03-02', true, 'Paid Search', 'spring-search'],
    ['c3', '2024-03-05', true, 'Email', 'webinar-march'],
    ['c4', '2024-03-10', true, 'Organic Search', null],
    ['c5', '2024-02-20', true, 'Email', 'webinar-march'],
    ['c7', '2024-04-05', true, 'Paid Social', 'summer-social'],
    ['c9', '2024-03-15', true, 'Referral', '=SUM(A1:A9)'],
  ];
  for (const [contact, when, first, channel, campaign] of touches) {
    await db.query(
      'INSERT INTO attribution_touches (installation_id, hubspot_contact_id, occurred_at, is_first, channel, campaign) VALUES ($1, $2, $3, $4, $5, $6)',
      [I, contact, at(when), first, channel, campaign],
    );
  }
  const stages: [string, string, string][] = [
    ['c1', 'mql', '2024-03-03T10:00:00'],
    ['c1', 'sql', '2024-03-04T10:00:00'],
    ['c1', 'opportunity', '2024-03-08T10:00:00'],
    ['c1', 'customer', '2024-03-18T10:00:00'],
    ['c2', 'mql', '2024-03-06'],
    ['c2', 'sql', '2024-03-07T12:00:00'],
    ['c2', 'recycled', '2024-03-10'],
    ['c3', 'mql', '2024-03-06'],
    ['c3', 'rejected', '2024-03-07'],
    ['c5', 'mql', '2024-03-02'],
    ['c5', 'sql', '2024-03-03'],
    ['c5', 'opportunity', '2024-04-02'],
    ['c6', 'mql', '2024-03-20'],
    ['c6', 'customer', '2024-03-25'],
  ];
  await insertStageHistory(
    db,
    I,
    stages.map(([contact, stage, when]) => [contact, stage, at(when)]),
  );
  // Another installation's data never shows up.
  await insertStageHistory(db, 'someone-else', [['c1', 'customer', at('2024-03-10')]]);

  const clocks: [string | null, string, string, string | null, string | null, string | null, string | null, string | null][] = [
    // contact, handoff, due, first touch, closed, channel, campaign, team
    ['c1', '2024-03-03T10:00:00', '2024-03-03T14:00:00', '2024-03-03T12:00:00', null, null, null, 'Enterprise'],
    ['c2', '2024-03-06', '2024-03-06T04:00:00', '2024-03-06T10:00:00', null, null, null, 'Enterprise'],
    ['c3', '2024-03-06', '2024-03-06T04:00:00', null, null, null, null, null],
    ['c5', '2024-03-02', '2024-03-02T04:00:00', '2024-03-02T01:00:00', null, null, null, 'SMB'],
    ['c6', '2024-03-20', '2024-03-20T04:00:00', null, '2024-03-20T02:00:00', null, null, 'SMB'],
    ['c2', '2024-02-28', '2024-02-28T04:00:00', null, null, null, null, 'SMB'],
    [null, '2024-03-15', '2024-03-15T04:00:00', '2024-03-15T02:00:00', null, 'Events', 'trade-show', null],
  ];
  let n = 0;
  for (const [contact, handoff, due, touched, closed, channel, campaign, team] of clocks) {
    n += 1;
    await db.query(
      `INSERT INTO sla_clocks (installation_id, salesforce_lead_id, hubspot_contact_id, handoff_at, due_at, status, first_touch_at, closed_at, schedule_n, channel, campaign, team)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, 1, $8, $9, $10)`,
      [
        I,
        `00Q00000000000${n}AAA`,
        contact,
        at(handoff),
        at(due),
        touched ? at(touched) : null,
        closed ? at(closed) : null,
        channel,
        campaign,
        team,
      ],
    );
  }

  const feedback: [string, 'Lead' | 'Opportunity', string, string, string | null, string | null, string | null, string][] = [
    ['c3', 'Lead', '00Q3', 'rejected', 'no_budget', 'No budget', null, '2024-03-07'],
    ['c2', 'Lead', '00Q2', 'recycled', 'bad_timing', 'Bad timing', null, '2024-03-10'],
    ['c1', 'Opportunity', 'opp1', 'opportunity', null, null, '50000.00', '2024-03-08T10:00:00'],
    ['c1', 'Opportunity', 'opp1', 'won', null, null, '60000.00', '2024-03-18T10:00:00'],
    ['c6', 'Opportunity', 'opp6', 'won', null, null, '20000.00', '2024-03-25'],
    ['c5', 'Opportunity', 'opp5', 'opportunity', null, null, '30000.00', '2024-04-02'],
    ['c5', 'Opportunity', 'opp5b', 'lost', 'competitor', 'Competitor', '10000.00', '2024-03-28'],
    ['c3', 'Lead', '00Q3', 'rejected', 'no_need', 'No need', null, '2024-02-25'],
  ];
  for (const [contact, object, record, outcome, code, label, amount, when] of feedback) {
    await db.query(
      `INSERT INTO feedback_events (installation_id, hubspot_contact_id, salesforce_object, salesforce_record_id, outcome, reason_code, reason_label, amount, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [I, contact, object, record, outcome, code, label, amount, at(when)],
    );
  }
  const won: [string, string, number, string][] = [
    ['opp1', 'c1', 6_000_000, '2024-03-18T23:59:59'],
    ['opp6', 'c6', 2_000_000, '2024-03-25T23:59:59'],
    ['oppX', 'c2', 1_000_000, '2024-04-10'],
  ];
  for (const [opportunity, contact, cents, when] of won) {
    await db.query(
      "INSERT INTO deals (installation_id, salesforce_opportunity_id, hubspot_contact_id, origin, status, amount_cents, won_at, closed_at) VALUES ($1, $2, $3, 'lead', 'won', $4, $5, $5)",
      [I, opportunity, contact, cents, at(when)],
    );
  }
}

const row = (rows: readonly FunnelRow[], key: string): FunnelRow => {
  const found = rows.find((r) => r.key === key);
  if (!found) throw new Error(`no row ${key} in ${rows.map((r) => r.key).join(', ')}`);
  return found;
};

describe.each(BACKENDS)('funnel report on %s', (backend) => {
  let db: Db;
  let report: FunnelReport;

  beforeAll(async () => {
    db = await openTestDb(backend);
    await migrate(db);
    await seed(db);
    report = await funnelReport(db, { installationId: I, from: at('2024-03-01'), to: at('2024-04-01'), now: at('2024-06-01') });
  }, 60_000);

  afterAll(async () => {
    await db?.close();
  });

  it('counts the contacts reaching each stage in the period, skipped stages as passed', () => {
    expect(report.totals).toMatchObject({ key: '(all)', leads: 6, mqls: 5, sqls: 4, opportunities: 2, customers: 2 });
  });

  it('gives stage-to-stage conversion and median days between stages', () => {
    expect(report.totals.conversion).toEqual({
      leadToMql: 0.6667,
      mqlToSql: 0.8,
      sqlToOpportunity: 0.5,
      opportunityToCustomer: 1,
      leadToCustomer: 0.3333,
    });
    expect(report.totals.medianDays).toEqual({
      leadToMql: 1.5,
      mqlToSql: 1.25,
      sqlToOpportunity: 2,
      opportunityToCustomer: 5,
      leadToCustomer: 11,
    });
  });

  it('splits the funnel by first-touch channel', () => {
    expect(report.channels.map((r) => r.key).sort()).toEqual([
      'Email',
      'Events',
      'Organic Search',
      'Paid Search',
      'Referral',
      'Unassigned',
    ]);
    // Paid Search: c1, c2. Lead→MQL 2 and 4 days, MQL→SQL 1 and 1.5, SQL→opportunity 4 (c1), opportunity→customer 10.
    expect(row(report.channels, 'Paid Search')).toMatchObject({
      leads: 2,
      mqls: 2,
      sqls: 2,
      opportunities: 1,
      customers: 1,
      conversion: { leadToMql: 1, mqlToSql: 1, sqlToOpportunity: 0.5, opportunityToCustomer: 1, leadToCustomer: 0.5 },
      medianDays: { leadToMql: 3, mqlToSql: 1.25, sqlToOpportunity: 4, opportunityToCustomer: 10, leadToCustomer: 17 },
    });
    // Email: c3 (lead in the period) and c5 (MQL and SQL in it, lead before it).
    expect(row(report.channels, 'Email')).toMatchObject({
      leads: 1,
      mqls: 2,
      sqls: 1,
      opportunities: 0,
      customers: 0,
      conversion: { leadToMql: 1, mqlToSql: 0.5, sqlToOpportunity: 0, opportunityToCustomer: null },
    });
    expect(row(report.channels, 'Organic Search')).toMatchObject({ leads: 1, mqls: 0, conversion: { leadToMql: 0, mqlToSql: null } });
    expect(row(report.channels, 'Unassigned')).toMatchObject({
      leads: 1,
      mqls: 1,
      sqls: 1,
      opportunities: 1,
      customers: 1,
      medianDays: { leadToMql: 0, leadToCustomer: 5 },
    });
    expect(report.channels.map((r) => r.key)).not.toContain('Paid Social');
  });

  it('splits the funnel by first-touch campaign, (unattributed) when there is none', () => {
    expect(report.campaigns.map((r) => r.key).sort()).toEqual([
      '(unattributed)',
      '=SUM(A1:A9)',
      'spring-search',
      'trade-show',
      'webinar-march',
    ]);
    expect(row(report.campaigns, 'spring-search')).toMatchObject({ leads: 2, mqls: 2, sqls: 2, opportunities: 1, customers: 1 });
    expect(row(report.campaigns, 'webinar-march')).toMatchObject({ leads: 1, mqls: 2, sqls: 1 });
    // c4 (touch without campaign) and c6 (no touch).
    expect(row(report.campaigns, '(unattributed)')).toMatchObject({ leads: 2, mqls: 1, sqls: 1, opportunities: 1, customers: 1 });
  });

  it('gives SLA compliance and median time to first touch of the handoffs in the period', () => {
    // k1 met (2 h), k2 late (10 h), k3 untouched past due, k4 met (1 h), k7 met (2 h); k5 closed untouched, k6 before the period.
    expect(report.totals.sla).toEqual({ handedOff: 5, met: 3, breached: 2, pending: 0, complianceRate: 0.6, medianHoursToFirstTouch: 2 });
    expect(row(report.channels, 'Paid Search').sla).toEqual({
      handedOff: 2,
      met: 1,
      breached: 1,
      pending: 0,
      complianceRate: 0.5,
      medianHoursToFirstTouch: 6,
    });
    expect(row(report.channels, 'Email').sla).toEqual({
      handedOff: 2,
      met: 1,
      breached: 1,
      pending: 0,
      complianceRate: 0.5,
      medianHoursToFirstTouch: 1,
    });
    // A clock without a linked contact is grouped by what it recorded at handoff.
    expect(row(report.channels, 'Events')).toMatchObject({
      leads: 0,
      sla: { handedOff: 1, met: 1, complianceRate: 1, medianHoursToFirstTouch: 2 },
    });
    expect(row(report.campaigns, 'trade-show').sla.handedOff).toBe(1);
    // Per team: Enterprise k1 (met, 120 min) and k2 (late, 600 min); SMB k4 (met, 60 min); no team: k3 and k7 (met, 120 min).
    expect(
      report.slaByTeam.map((g) => [g.group, g.handedOff, g.touchedWithinSla, g.breached, g.complianceRate, g.medianMinutesToFirstTouch]),
    ).toEqual([
      ['(none)', 2, 1, 1, 0.5, 120],
      ['Enterprise', 2, 1, 1, 0.5, 360],
      ['SMB', 1, 1, 0, 1, 60],
    ]);
  });

  it('counts feedback reasons of the period by outcome', () => {
    expect(report.feedbackReasons).toEqual([
      { code: 'bad_timing', label: 'Bad timing', rejected: 0, recycled: 1, lost: 0, total: 1 },
      { code: 'competitor', label: 'Competitor', rejected: 0, recycled: 0, lost: 1, total: 1 },
      { code: 'no_budget', label: 'No budget', rejected: 1, recycled: 0, lost: 0, total: 1 },
    ]);
    expect(report.totals.feedback).toEqual({ rejected: 1, recycled: 1, lost: 1 });
    expect(row(report.channels, 'Paid Search').feedback).toEqual({ rejected: 0, recycled: 1, lost: 0 });
    expect(row(report.channels, 'Email').feedback).toEqual({ rejected: 1, recycled: 0, lost: 1 });
  });

  it('gives pipeline (Opportunities opened in the period, latest amount) and won revenue', () => {
    // opp1 60,000 (its later amount), opp6 20,000, opp5b 10,000; opp5 opened after the period.
    expect(report.totals).toMatchObject({ pipelineCents: 9_000_000, wonCents: 8_000_000, wonDeals: 2 });
    expect(row(report.channels, 'Paid Search')).toMatchObject({ pipelineCents: 6_000_000, wonCents: 6_000_000, wonDeals: 1 });
    expect(row(report.channels, 'Email')).toMatchObject({ pipelineCents: 1_000_000, wonCents: 0 });
    expect(row(report.channels, 'Unassigned')).toMatchObject({ pipelineCents: 2_000_000, wonCents: 2_000_000 });
  });

  it('credits won revenue to campaigns under each attribution model, from the touches before each win', () => {
    // opp1 (60,000) after spring-search, webinar-march, retargeting-q1: first 100 % spring, last 100 % retargeting,
    // linear a third each, position based 40/20/40. opp6 (20,000) has no touch: (unattributed) under every model.
    expect(report.revenueCredit).toEqual([
      {
        campaign: '(unattributed)',
        credit: { first_touch: 2_000_000, last_touch: 2_000_000, linear: 2_000_000, position_based: 2_000_000 },
      },
      { campaign: 'retargeting-q1', credit: { first_touch: 0, last_touch: 6_000_000, linear: 2_000_000, position_based: 2_400_000 } },
      { campaign: 'spring-search', credit: { first_touch: 6_000_000, last_touch: 0, linear: 2_000_000, position_based: 2_400_000 } },
      { campaign: 'webinar-march', credit: { first_touch: 0, last_touch: 0, linear: 2_000_000, position_based: 1_200_000 } },
    ]);
    for (const model of ['first_touch', 'last_touch', 'linear', 'position_based'] as const) {
      expect(report.revenueCredit.reduce((sum, r) => sum + r.credit[model], 0)).toBe(report.totals.wonCents);
    }
  });

  it('exports each table as CSV that a spreadsheet will not run as a formula', () => {
    const channels = reportCsv(report, 'channels').split('\r\n');
    expect(channels[0]).toBe(
      'channel,leads,mqls,sqls,opportunities,customers,conversion_lead_to_mql,conversion_mql_to_sql,conversion_sql_to_opportunity,conversion_opportunity_to_customer,conversion_lead_to_customer,median_days_lead_to_mql,median_days_mql_to_sql,median_days_sql_to_opportunity,median_days_opportunity_to_customer,sla_handoffs,sla_met,sla_breached,sla_pending,sla_compliance,sla_median_hours_to_first_touch,rejected,recycled,lost,pipeline,won,won_deals',
    );
    expect(channels).toContain('Paid Search,2,2,2,1,1,1,1,0.5,1,0.5,3,1.25,4,10,2,1,1,0,0.5,6,0,1,0,60000,60000,1');
    expect(channels).toContain('(all),6,5,4,2,2,0.6667,0.8,0.5,1,0.3333,1.5,1.25,2,5,5,3,2,0,0.6,2,1,1,1,90000,80000,2');
    expect(reportCsv(report, 'campaigns')).toContain("\r\n'=SUM(A1:A9),1,0,");
    expect(reportCsv(report, 'credit').split('\r\n')[2]).toBe('retargeting-q1,0,60000,20000,24000');
    expect(reportCsv(report, 'reasons').split('\r\n')[1]).toBe('bad_timing,Bad timing,0,1,0,1');
  });

  it('adds the channel cost the admin entered for the months of the period to that channel, and not the months outside it', async () => {
    const revenue = {
      ...DEFAULT_REVENUE_POLICY,
      channelCosts: [
        { channel: 'Paid Search', month: '2024-03', amount: 1_500 },
        { channel: 'Paid Search', month: '2024-05', amount: 999 },
      ],
    };
    const withCost = await funnelReport(db, {
      installationId: I,
      from: at('2024-03-01'),
      to: at('2024-04-01'),
      now: at('2024-06-01'),
      revenue,
    });
    const paidSearch = withCost.roi.channels.find((r) => r.key === 'Paid Search');
    // Two Paid Search leads in March: 1,500 ÷ 2 per lead.
    expect(paidSearch).toMatchObject({ costCents: 150_000, costSources: ['entered'], leads: 2, costPerLeadCents: 75_000 });
    expect(report.roi.channels.find((r) => r.key === 'Paid Search')?.costCents ?? 0).toBe(0);
  });

  it('is empty for a period with nothing in it', async () => {
    const empty = await funnelReport(db, { installationId: I, from: at('2023-01-01'), to: at('2023-02-01'), now: at('2024-06-01') });
    expect(empty.totals).toMatchObject({
      leads: 0,
      mqls: 0,
      customers: 0,
      pipelineCents: 0,
      conversion: { leadToMql: null },
      sla: { handedOff: 0, complianceRate: null },
    });
    expect(empty.channels).toEqual([]);
    expect(empty.campaigns).toEqual([]);
  });
});
