import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    await eventually(async () => {
      const stages = await h.app.db.query<{ stage: string }>('SELECT DISTINCT stage FROM stage_history');
      const seen = new Set(stages.map((s) => s.stage));
      return seen.has('mql') && (seen.has('sql') || seen.has('rejected') || seen.has('recycled'));
    }, 90_000, 'handoffs and sales progress');
    const leads = await h.leadsFor("Email LIKE '%@demo.example.com'");
    expect(leads.length).toBeGreaterThan(0);
    expect(leads.every((lead) => lead.HubSpot_Contact_Id__c !== null)).toBe(true);
  }, 120_000);
});
