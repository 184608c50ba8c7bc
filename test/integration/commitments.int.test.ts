/**
 * Marketing commitments and shared goals on PostgreSQL and on PGlite, against a month of stage changes and deals
 * seeded straight into the tables. Every expected figure is counted here from the seed arrays (not
 * through the store's SQL). Judged on 2026-12-16T00:00Z: 15 of December's 31 days, 76 of Q4's 92.
 * A commitment behind pace sends exactly one alert to a local receiver, however often it is checked.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { commitmentAlertsOf, commitmentsReport, goalsReport, marketingCommitmentsOf, sharedGoalsOf } from '../../src/store/commitments.ts';
import { DEFAULT_REVENUE_POLICY } from '../../src/domain/revenue.ts';
import { checkCommitments } from '../../src/sync/commitment-check.ts';
import { verifyAlertSignature } from '../../src/sync/alerts.ts';
import { parseAddressRanges } from '../../src/sync/outbound-http.ts';
import { BACKENDS, openTestDb } from '../support/db.ts';
import { insertStageHistory } from '../support/stage-history.ts';

const I = 'commitments-installation';
const NOW = new Date('2026-12-16T00:00:00Z');
const DECEMBER = { from: new Date('2026-12-01T00:00:00Z'), to: new Date('2027-01-01T00:00:00Z') };
const Q4 = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2027-01-01T00:00:00Z') };
const Q3 = { from: new Date('2026-07-01T00:00:00Z'), to: new Date('2026-10-01T00:00:00Z') };
const SECRET = 'commitment-alert-secret-0123456789';
const at = (iso: string) => new Date(`${iso}Z`);
const day = (month: number, date: number, hour = 10) =>
  at(`2026-${String(month).padStart(2, '0')}-${String(date).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00`);

// First touches: m1…m20 by i % 3 (0 Paid Search, 1 Email, 2 none: Unassigned).
const CHANNELS = ['Paid Search', 'Email', null] as const;
const touches: [string, string][] = [];
const stages: [string, string, Date][] = [];
for (let i = 1; i <= 20; i += 1) {
  const channel = CHANNELS[i % 3];
  if (channel) touches.push([`m${i}`, channel]);
  stages.push([`m${i}`, 'mql', day(12, i)]);
  if (i % 2 === 0) stages.push([`m${i}`, 'sql', day(12, i + 1)]);
  if (i % 4 === 0) stages.push([`m${i}`, 'customer', day(12, i + 3)]);
}
// An MQL of November accepted in December: an SQL of December, not an MQL.
touches.push(['early', 'Email']);
stages.push(['early', 'mql', day(11, 20)], ['early', 'sql', day(12, 2)]);
// October's contacts (Q4 before December) and Q3's (the previous quarter).
for (let i = 1; i <= 5; i += 1) stages.push([`o${i}`, 'mql', day(10, i + 4)]);
stages.push(['o1', 'sql', day(10, 8)], ['o2', 'sql', day(10, 9)], ['o3', 'sql', day(10, 20)], ['o1', 'customer', day(11, 15)]);
for (let i = 1; i <= 4; i += 1) stages.push([`p${i}`, 'mql', day(8, i)]);
stages.push(['p1', 'sql', day(8, 10)], ['p2', 'sql', day(8, 11)]);

interface SeedDeal {
  id: string;
  contact: string | null;
  status: 'open' | 'won' | 'lost';
  cents: number;
  opened: Date;
  won?: Date;
  closed?: Date;
}
const deals: SeedDeal[] = [
  { id: 'd1', contact: 'm3', status: 'open', cents: 500_000, opened: day(12, 4) },
  { id: 'd2', contact: 'm6', status: 'open', cents: 1_200_000, opened: day(12, 8) },
  { id: 'd3', contact: 'm1', status: 'won', cents: 300_000, opened: day(12, 2), won: day(12, 10), closed: day(12, 10) },
  { id: 'd4', contact: 'm2', status: 'lost', cents: 200_000, opened: day(12, 3), closed: day(12, 12) },
  { id: 'd5', contact: 'o1', status: 'won', cents: 2_000_000, opened: day(10, 10), won: day(11, 15), closed: day(11, 15) },
  { id: 'd6', contact: null, status: 'open', cents: 700_000, opened: day(11, 1) },
  // Opened after the judging moment: not yet in the figures.
  { id: 'd7', contact: 'm9', status: 'open', cents: 400_000, opened: day(12, 20) },
  { id: 'd8', contact: 'p1', status: 'won', cents: 5_000_000, opened: day(7, 5), won: day(8, 20), closed: day(8, 20) },
  { id: 'd9', contact: 'p2', status: 'lost', cents: 100_000, opened: day(7, 6), closed: day(9, 1) },
  { id: 'd10', contact: 'p3', status: 'won', cents: 1_000_000, opened: day(7, 7), won: day(9, 10), closed: day(9, 10) },
];
// Handoffs with their first touch after 2 h, 3 h and 10 h (Q4), and 5 h and 7 h (Q3).
const clocks: [Date, number][] = [
  [day(10, 6), 2],
  [day(11, 3), 3],
  [day(12, 5), 10],
  [day(8, 2), 5],
  [day(9, 2), 7],
];

const commitments = {
  period: 'month',
  commitments: [
    { metric: 'mqls_delivered', target: 40 },
    { metric: 'sqls_accepted', target: 4, channel: 'Email' },
    { metric: 'pipeline_created', target: 40_000 },
  ],
};
const goals = {
  goals: [
    { quarter: '2026-Q4', kpi: 'revenue', target: 50_000, owner: 'Sales' },
    { quarter: '2026-Q4', kpi: 'pipeline_coverage', target: 2, owner: 'Marketing' },
    { quarter: '2026-Q4', kpi: 'mql_to_sql', target: 40, owner: 'Marketing' },
    { quarter: '2026-Q4', kpi: 'sql_to_won', target: 20, owner: 'Dana' },
    { quarter: '2026-Q4', kpi: 'win_rate', target: 50, owner: 'Sales' },
    { quarter: '2026-Q4', kpi: 'hours_to_first_touch', target: 4, owner: 'Sales' },
  ],
};

// ---- Counted from the seed, independently of the store.
const channelOf = new Map(touches);
const firstAt = (contact: string, reached: readonly string[]): Date | null => {
  const times = stages.filter(([c, stage]) => c === contact && reached.includes(stage)).map(([, , when]) => when.getTime());
  return times.length === 0 ? null : new Date(Math.min(...times));
};
const contacts = [...new Set(stages.map(([contact]) => contact))];
const within = (when: Date | null | undefined, from: Date, to: Date): boolean => when != null && when >= from && when < to;
const MQL_OR_LATER = ['mql', 'sql', 'opportunity', 'customer'];
const SQL_OR_LATER = ['sql', 'opportunity', 'customer'];
const until = (period: { from: Date; to: Date }) => (NOW < period.to ? NOW : period.to);
const countWhere = (predicate: (contact: string) => boolean) => contacts.filter(predicate).length;
const pace = (delivered: number, target: number, elapsed: number) => {
  const share = delivered / elapsed / target;
  return delivered >= target ? 'on_track' : share >= 1 ? 'on_track' : share >= 0.85 ? 'at_risk' : 'behind';
};

function quarterFigures(period: { from: Date; to: Date }) {
  const end = until(period);
  const mqls = contacts.filter((c) => within(firstAt(c, MQL_OR_LATER), period.from, end));
  const sqls = contacts.filter((c) => within(firstAt(c, SQL_OR_LATER), period.from, end));
  const won = deals.filter((d) => d.status === 'won' && within(d.won, period.from, end));
  const lost = deals.filter((d) => d.status === 'lost' && within(d.closed, period.from, end));
  const touchHours = clocks
    .filter(([handoff]) => within(handoff, period.from, end))
    .map(([, hours]) => hours)
    .sort((a, b) => a - b);
  return {
    revenue: won.reduce((sum, d) => sum + d.cents, 0) / 100,
    openPipeline:
      deals
        .filter((d) => d.opened < end && (d.status === 'open' || (d.closed !== undefined && d.closed >= end)))
        .reduce((sum, d) => sum + d.cents, 0) / 100,
    mqlToSql: (100 * mqls.filter((c) => (firstAt(c, SQL_OR_LATER) ?? end) < end).length) / mqls.length,
    sqlToWon: (100 * sqls.filter((c) => (firstAt(c, ['customer']) ?? end) < end).length) / sqls.length,
    winRate: (100 * won.length) / (won.length + lost.length),
    medianHours: touchHours[Math.floor(touchHours.length / 2)] ?? null,
  };
}

describe.each(BACKENDS)('marketing commitments and shared goals on %s', (backend) => {
  let db: Db;
  let server: http.Server;
  let port: number;
  const received: { delivery: string | undefined; signature: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    db = await openTestDb(backend);
    await migrate(db);
    await db.query(
      "INSERT INTO installations (id, name, salesforce_webhook_token, settings) VALUES ($1, 'Commitments', 'commitments-token', $2)",
      [I, JSON.stringify({ marketingCommitments: commitments, sharedGoals: goals })],
    );
    for (const [contact, channel] of touches) {
      await db.query(
        'INSERT INTO attribution_touches (installation_id, hubspot_contact_id, occurred_at, is_first, channel, campaign) VALUES ($1, $2, $3, true, $4, null)',
        [I, contact, day(9, 1), channel],
      );
    }
    await insertStageHistory(db, I, stages);
    for (const d of deals) {
      await db.query(
        'INSERT INTO deals (installation_id, salesforce_opportunity_id, hubspot_contact_id, origin, status, amount_cents, opened_at, won_at, closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [I, d.id, d.contact, d.contact === null ? 'unlinked' : 'lead', d.status, d.cents, d.opened, d.won ?? null, d.closed ?? null],
      );
    }
    let n = 0;
    for (const [handoff, hours] of clocks) {
      n += 1;
      await db.query(
        "INSERT INTO sla_clocks (installation_id, salesforce_lead_id, handoff_at, due_at, status, first_touch_at, schedule_n) VALUES ($1, $2, $3, $4, 'met', $5, 1)",
        [I, `00Q0000000000${n}AAA`, handoff, new Date(handoff.getTime() + 12 * 3_600_000), new Date(handoff.getTime() + hours * 3_600_000)],
      );
    }
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({
          delivery: req.headers['x-smarketing-delivery'] as string | undefined,
          signature: req.headers['x-smarketing-signature'] as string | undefined,
          body,
        });
        res.writeHead(204).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await new Promise<void>((done) => server.once('listening', () => done()));
    port = (server.address() as AddressInfo).port;
  }, 60_000);

  afterAll(async () => {
    await new Promise((done) => server?.close(done));
    await db?.close();
  });

  it('paces each commitment against the figures counted from the month of stage changes and deals', async () => {
    const report = await commitmentsReport(db, { installationId: I, commitments: await marketingCommitmentsOf(db, I), now: NOW });
    const end = until(DECEMBER);
    const elapsed = (NOW.getTime() - DECEMBER.from.getTime()) / (DECEMBER.to.getTime() - DECEMBER.from.getTime());
    const mqls = countWhere((c) => within(firstAt(c, MQL_OR_LATER), DECEMBER.from, end));
    const emailSqls = countWhere((c) => channelOf.get(c) === 'Email' && within(firstAt(c, SQL_OR_LATER), DECEMBER.from, end));
    const pipeline = deals.filter((d) => within(d.opened, DECEMBER.from, end)).reduce((sum, d) => sum + d.cents, 0) / 100;
    expect([mqls, emailSqls, pipeline]).toEqual([15, 3, 22_000]);
    expect(report?.period).toEqual({ id: '2026-12', kind: 'month', from: DECEMBER.from.toISOString(), to: DECEMBER.to.toISOString() });
    expect(report?.commitments.map((row) => [row.key, row.delivered, row.status])).toEqual([
      ['mqls_delivered|', mqls, pace(mqls, 40, elapsed)],
      ['sqls_accepted|email', emailSqls, pace(emailSqls, 4, elapsed)],
      ['pipeline_created|', pipeline, pace(pipeline, 40_000, elapsed)],
    ]);
    expect(report?.commitments[0]).toMatchObject({
      status: 'behind',
      expectedToDate: Math.round(40 * elapsed * 100) / 100,
      forecast: Math.round((mqls / elapsed) * 100) / 100,
    });
  });

  it('computes each goal against the quarter and the one before, as counted from the seed', async () => {
    const table = await goalsReport(db, {
      installationId: I,
      goals: await sharedGoalsOf(db, I),
      quarter: '2026-Q4',
      now: NOW,
      revenue: DEFAULT_REVENUE_POLICY,
    });
    const q4 = quarterFigures(Q4);
    const q3 = quarterFigures(Q3);
    const two = (value: number) => Math.round(value * 100) / 100;
    expect(table.previousQuarter).toBe('2026-Q3');
    expect(table.goals.map((row) => [row.kpi, row.actual, row.previous, row.owner])).toEqual([
      ['revenue', q4.revenue, q3.revenue, 'Sales'],
      // Q3 had no revenue goal: no coverage to compare with.
      ['pipeline_coverage', two(q4.openPipeline / (50_000 - q4.revenue)), null, 'Marketing'],
      ['mql_to_sql', two(q4.mqlToSql), two(q3.mqlToSql), 'Marketing'],
      ['sql_to_won', two(q4.sqlToWon), two(q3.sqlToWon), 'Dana'],
      ['win_rate', two(q4.winRate), two(q3.winRate), 'Sales'],
      ['hours_to_first_touch', q4.medianHours, q3.medianHours === null ? null : (5 + 7) / 2, 'Sales'],
    ]);
    expect(table.goals.map((row) => [row.kpi, row.status])).toEqual([
      ['revenue', q4.revenue >= 50_000 ? 'met' : 'below'],
      ['pipeline_coverage', q4.openPipeline / (50_000 - q4.revenue) >= 2 ? 'met' : 'below'],
      ['mql_to_sql', q4.mqlToSql >= 40 ? 'met' : 'below'],
      ['sql_to_won', q4.sqlToWon >= 20 ? 'met' : 'below'],
      ['win_rate', q4.winRate >= 50 ? 'met' : 'below'],
      ['hours_to_first_touch', (q4.medianHours ?? Infinity) <= 4 ? 'met' : 'below'],
    ]);
  });

  it('sends one signed alert per commitment behind pace or at risk, however many times and at once it is checked', async () => {
    const loopback = parseAddressRanges(['127.0.0.1/32']);
    if (!loopback.ok) throw new Error(loopback.error);
    const deps = {
      db,
      outbound: { allowPrivate: loopback.value },
      now: () => NOW,
      alertTarget: () => Promise.resolve({ target: { url: `http://127.0.0.1:${port}/hooks/commitments`, secret: SECRET }, problem: null }),
    };
    const first = await checkCommitments(deps, I);
    const again = await Promise.all([checkCommitments(deps, I), checkCommitments(deps, I)]);
    const report = await commitmentsReport(db, { installationId: I, commitments: await marketingCommitmentsOf(db, I), now: NOW });
    const alerting = report?.commitments.filter((row) => row.status === 'at_risk' || row.status === 'behind').map((row) => row.key) ?? [];
    expect(alerting).toContain('mqls_delivered|');
    expect(first).toMatchObject({ periodId: '2026-12', delivered: alerting.length, failed: 0, retry: [] });
    expect(again.map((outcome) => outcome.delivered)).toEqual([0, 0]);
    expect(received.map((r) => r.delivery).sort()).toEqual(alerting.map((key) => `commitment-${I}-2026-12-${key}`).sort());
    for (const request of received) expect(verifyAlertSignature(request.body, SECRET, request.signature)).toBe(true);
    const mqlAlert = received.find((r) => r.delivery?.endsWith('mqls_delivered|'));
    expect(JSON.parse(mqlAlert?.body ?? '{}')).toMatchObject({
      event: 'marketing.commitment',
      period: '2026-12',
      metric: 'mqls_delivered',
      channel: null,
      status: 'behind',
      target: 40,
      delivered: 15,
    });
    expect((await commitmentAlertsOf(db, I, '2026-12')).every((row) => row.deliveredAt !== null)).toBe(true);
  });
});
