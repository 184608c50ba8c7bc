/**
 * The report follows the installation's stage dictionary: a dictionary stored as data with a
 * `meeting` stage between SQL and opportunity (test/fixtures/stage-dictionary-meeting.json) gives
 * the funnel counts, conversions, medians and CSV columns of that stage, in order, on PostgreSQL and
 * on PGlite. Period: March 2024.
 *
 *   m1  touch 03-01 Paid Search; MQL 03-02, SQL 03-03, meeting 03-05, opportunity 03-09, customer 03-19
 *   m2  touch 03-02 Paid Search; MQL 03-03, SQL 03-04, meeting 03-08
 *   m3  touch 03-03 Email; MQL 03-04, SQL 03-05 (no meeting yet)
 *   m4  touch 03-04 Email; MQL 03-05, opportunity 03-10 (skips SQL and meeting: both count as passed)
 *
 * Leads 4, MQLs 4, SQLs 4, meetings 3 (m1 m2 m4), opportunities 2 (m1 m4), customers 1.
 * SQL→meeting 3/4; meeting→opportunity 2/3; median days SQL→meeting over m1 2, m2 4, m4 0 → 2.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCsv } from '../../src/server/admin/report-export.ts';
import type { Db } from '../../src/store/db.ts';
import { writeSetting } from '../../src/store/installation-admin.ts';
import { migrate } from '../../src/store/migrate.ts';
import { funnelReport, type FunnelReport } from '../../src/store/report.ts';
import { BACKENDS, openTestDb } from '../support/db.ts';
import { insertStageHistory } from '../support/stage-history.ts';

const I = 'meeting-installation';
const at = (iso: string) => new Date(`${iso}T10:00:00Z`);
const meetingDictionary: unknown = JSON.parse(readFileSync(new URL('../fixtures/stage-dictionary-meeting.json', import.meta.url), 'utf8'));

async function seed(db: Db): Promise<void> {
  await db.query("INSERT INTO installations (id, name, salesforce_webhook_token) VALUES ($1, 'Meetings', 'meeting-token')", [I]);
  await writeSetting(db, I, 'stageDictionary', meetingDictionary);
  const touches: Array<[string, string, string]> = [
    ['m1', '2024-03-01', 'Paid Search'],
    ['m2', '2024-03-02', 'Paid Search'],
    ['m3', '2024-03-03', 'Email'],
    ['m4', '2024-03-04', 'Email'],
  ];
  for (const [contact, day, channel] of touches) {
    await db.query(
      'INSERT INTO attribution_touches (installation_id, hubspot_contact_id, occurred_at, is_first, channel, campaign) VALUES ($1, $2, $3, true, $4, NULL)',
      [I, contact, at(day), channel],
    );
  }
  const stages: Array<[string, string, string]> = [
    ['m1', 'mql', '2024-03-02'],
    ['m1', 'sql', '2024-03-03'],
    ['m1', 'meeting', '2024-03-05'],
    ['m1', 'opportunity', '2024-03-09'],
    ['m1', 'customer', '2024-03-19'],
    ['m2', 'mql', '2024-03-03'],
    ['m2', 'sql', '2024-03-04'],
    ['m2', 'meeting', '2024-03-08'],
    ['m3', 'mql', '2024-03-04'],
    ['m3', 'sql', '2024-03-05'],
    ['m4', 'mql', '2024-03-05'],
    ['m4', 'opportunity', '2024-03-10'],
  ];
  await insertStageHistory(
    db,
    I,
    stages.map(([contact, stage, day]) => [contact, stage, at(day)]),
  );
}

describe.each(BACKENDS)('funnel report with a meeting stage on %s', (backend) => {
  let db: Db;
  let report: FunnelReport;

  beforeAll(async () => {
    db = await openTestDb(backend);
    await migrate(db);
    await seed(db);
    report = await funnelReport(db, { installationId: I, from: new Date('2024-03-01T00:00:00Z'), to: new Date('2024-04-01T00:00:00Z') });
  }, 60_000);

  afterAll(async () => {
    await db?.close();
  });

  it('lists the dictionary funnel as the report columns, the new stage in order', () => {
    expect(report.funnel.map((column) => column.stage)).toEqual(['lead', 'mql', 'sql', 'meeting', 'opportunity', 'customer']);
  });

  it('counts the contacts reaching the new stage, skipped stages as passed', () => {
    expect(report.totals).toMatchObject({ leads: 4, mqls: 4, sqls: 4, meetings: 3, opportunities: 2, customers: 1 });
    expect(report.channels.find((row) => row.key === 'Email')).toMatchObject({ leads: 2, sqls: 2, meetings: 1, opportunities: 1 });
  });

  it('converts into and out of the new stage', () => {
    expect(report.totals.conversion).toEqual({
      leadToMql: 1,
      mqlToSql: 1,
      sqlToMeeting: 0.75,
      meetingToOpportunity: 0.6667,
      opportunityToCustomer: 0.5,
      leadToCustomer: 0.25,
    });
    expect(report.totals.medianDays).toMatchObject({ sqlToMeeting: 2 });
  });

  it('exports the new stage in the CSV, after SQLs and before opportunities', () => {
    const [header, ...lines] = reportCsv(report, 'channels').trimEnd().split('\r\n');
    expect(header?.split(',').slice(0, 16)).toEqual([
      'channel',
      'leads',
      'mqls',
      'sqls',
      'meetings',
      'opportunities',
      'customers',
      'conversion_lead_to_mql',
      'conversion_mql_to_sql',
      'conversion_sql_to_meeting',
      'conversion_meeting_to_opportunity',
      'conversion_opportunity_to_customer',
      'conversion_lead_to_customer',
      'median_days_lead_to_mql',
      'median_days_mql_to_sql',
      'median_days_sql_to_meeting',
    ]);
    expect(lines.at(-1)?.split(',').slice(0, 7)).toEqual(['(all)', '4', '4', '4', '3', '2', '1']);
  });
});
