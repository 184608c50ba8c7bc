import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { funnelReport } from '../../src/store/report.ts';
import { eventually } from '../support/app-process.ts';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';

describe('the sandbox demo', () => {
  let h: SyncHarness;

  beforeAll(async () => {
    h = await startSyncHarness({ SANDBOX_DEMO: 'true' }, { demoIntervalMs: 150 });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it('moves the funnel on its own: form leads become Salesforce Leads and reps work them', async () => {
    await eventually(
      async () => {
        const stages = await h.app.db.query<{ stage: string }>('SELECT DISTINCT stage FROM stage_history');
        const seen = new Set(stages.map((s) => s.stage));
        return seen.has('mql') && (seen.has('sql') || seen.has('rejected') || seen.has('recycled'));
      },
      90_000,
      'handoffs and sales progress',
    );
    const leads = await h.leadsFor("Email LIKE '%@demo.example.com'");
    expect(leads.length).toBeGreaterThan(0);
    expect(leads.every((lead) => lead.HubSpot_Contact_Id__c !== null)).toBe(true);
  }, 120_000);

  it('judges its reps by the follow-up cadence and the disposition deadline: each handoff carries both rules', async () => {
    const settings = (await h.app.db.query<{ settings: { slaPolicy?: unknown } }>('SELECT settings FROM installations LIMIT 1'))[0]
      ?.settings;
    expect(settings?.slaPolicy).toMatchObject({ cadence: { touches: 3, days: 7 }, disposition: { days: 10 } });
    await eventually(
      async () =>
        (await h.app.db.query('SELECT 1 FROM sla_clocks WHERE cadence_status IS NOT NULL AND disposition_status IS NOT NULL')).length > 0,
      60_000,
      'a handoff with follow-up rules',
    );
  }, 90_000);

  it('gives the campaigns the landing pages advertise a budget and a cost', async () => {
    let campaigns: Array<{ Name: string; BudgetedCost: number | null; ActualCost: number | null }> = [];
    await eventually(
      async () => {
        campaigns = (
          await h.rep.query<{ Name: string; BudgetedCost: number | null; ActualCost: number | null }>(
            "SELECT Name, BudgetedCost, ActualCost FROM Campaign WHERE Name IN ('spring-launch', 'q4-webinar', 'november-digest', 'partner-program')",
          )
        ).records;
        return campaigns.length === 4;
      },
      30_000,
      'the demo campaigns',
    );
    expect(campaigns.every((c) => (c.BudgetedCost ?? 0) > 0 && (c.ActualCost ?? 0) > 0)).toBe(true);
  }, 60_000);

  it('converts Leads into Accounts with a size, and wins deals sized like the company', async () => {
    let won: Array<{
      Amount: number;
      Account: { NumberOfEmployees: number | null; AnnualRevenue: number | null; Industry: string | null };
    }> = [];
    await eventually(
      async () => {
        won = (
          await h.rep.query<(typeof won)[number]>(
            'SELECT Amount, Account.NumberOfEmployees, Account.AnnualRevenue, Account.Industry FROM Opportunity WHERE IsWon = true',
          )
        ).records;
        return won.length > 0;
      },
      90_000,
      'a won opportunity',
    );
    for (const deal of won) {
      expect(deal.Account.NumberOfEmployees).toBeGreaterThan(0);
      expect(deal.Account.AnnualRevenue).toBeGreaterThan(0);
      expect(deal.Account.Industry).not.toBeNull();
      const employees = deal.Account.NumberOfEmployees ?? 0;
      const [min, max] = employees < 100 ? [5_000, 20_000] : employees < 1_000 ? [20_000, 80_000] : [80_000, 250_000];
      expect(deal.Amount).toBeGreaterThanOrEqual(min);
      expect(deal.Amount).toBeLessThanOrEqual(max);
    }
  }, 120_000);

  it('shows in the report the won revenue and deals of the Closed Won opportunities in the org, with no backfill run', async () => {
    const [installation] = await h.app.db.query<{ id: string }>('SELECT id FROM installations');
    const period = { from: new Date(Date.now() - 89 * 86_400_000), to: new Date(Date.now() + 86_400_000) };
    let inOrg = { deals: -1, cents: -1 };
    let reported = { deals: -2, cents: -2 };
    // The demo keeps closing deals: compare a snapshot of the org with the report until they meet.
    await eventually(
      async () => {
        const won = (await h.rep.query<{ Amount: number | null }>('SELECT Amount FROM Opportunity WHERE IsWon = true')).records;
        inOrg = { deals: won.length, cents: won.reduce((sum, deal) => sum + Math.round((deal.Amount ?? 0) * 100), 0) };
        const report = await funnelReport(h.app.db, { installationId: installation?.id ?? '', ...period });
        reported = { deals: report.totals.wonDeals, cents: report.totals.wonCents };
        return inOrg.deals > 0 && reported.deals === inOrg.deals && reported.cents === inOrg.cents;
      },
      60_000,
      'the report to match the org',
    );
    expect(reported).toEqual(inOrg);
    expect(await h.app.db.query('SELECT 1 FROM backfill_runs')).toEqual([]);
  }, 90_000);
});
