/**
 * The revenue loop end to end: deals closed, edited and reopened by a rep reach the report with no
 * backfill; a renewal on the same Account adds to the customer's lifetime value on the HubSpot
 * contact and its company; a Campaign's cost gives its ROI; a multi-currency org's deals are summed
 * in the corporate currency. Figures are computed here from the amounts the test itself enters.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunnelReport } from '../../src/store/report.ts';
import { reconcileCampaignCosts } from '../../src/sync/reconcile.ts';
import { eventually } from '../support/app-process.ts';
import { setMarketingUser } from '../support/salesforce-marketing.ts';
import { sessionAs } from '../support/salesforce-org.ts';
import { directSyncContext, startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';
import type { SyncContext } from '../../src/sync/context.ts';

const ADMIN_TOKEN = randomBytes(32).toString('base64url');
const CUSTOMER_PROPERTIES = ['customer_lifetime_value', 'customer_first_won_at', 'customer_deals_won'];
const today = (): string => new Date().toISOString().slice(0, 10);
const daysFromNow = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('closed-loop revenue', () => {
  let h: SyncHarness;
  let installationId: string;
  let direct: SyncContext;
  let closeDirect: () => Promise<void>;

  beforeAll(async () => {
    h = await startSyncHarness({ ADMIN_TOKEN });
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
    expect(installationId).not.toBe('');
    ({ ctx: direct, close: closeDirect } = await directSyncContext(h));
  }, 120_000);

  afterAll(async () => {
    await closeDirect?.();
    await h?.close();
  });

  async function api<T>(method: string, target: string, body?: unknown): Promise<T> {
    const response = await fetch(`${h.app.url ?? ''}${target}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status, `${method} ${target}`).toBeLessThan(300);
    return (await response.json()) as T;
  }

  const report = (query = ''): Promise<FunnelReport> => api<FunnelReport>('GET', `/api/report?installation=${installationId}${query}`);

  /** Hands a contact off, converts its Lead as the rep and waits for the Opportunity's link. */
  async function convertedDeal(
    overrides: Record<string, string> = {},
  ): Promise<{ contactId: string; opportunityId: string; accountId: string }> {
    const { contactId, lead } = await h.handOff(overrides);
    const converted = await h.rep.soap.convertLead({ leadId: lead.Id, convertedStatus: 'Closed - Converted' });
    const { opportunityId, accountId } = (Array.isArray(converted) ? converted[0] : converted) as {
      opportunityId: string;
      accountId: string;
    };
    await eventually(
      async () => (await h.app.db.query('SELECT 1 FROM record_links WHERE salesforce_opportunity_id = $1', [opportunityId])).length === 1,
      20_000,
      'the Opportunity linked',
    );
    return { contactId, opportunityId, accountId };
  }

  async function dealStatus(opportunityId: string): Promise<{ status: string; amount_cents: string | null } | undefined> {
    return (
      await h.app.db.query<{ status: string; amount_cents: string | null }>(
        'SELECT status, amount_cents FROM deals WHERE salesforce_opportunity_id = $1',
        [opportunityId],
      )
    )[0];
  }

  it("sums a multi-currency org's deals in the corporate currency, at the org's rates", async () => {
    // First in the file: the app reads the org's currencies once per quarter hour.
    h.salesforceSandbox.currency.set({
      multiCurrency: true,
      corporateCurrency: 'USD',
      currencies: [
        { isoCode: 'EUR', conversionRate: 0.8 },
        { isoCode: 'GBP', conversionRate: 0.5 },
      ],
    });
    const before = await report();
    const inDollars = await convertedDeal();
    const inEuros = await convertedDeal();
    await h.rep.sobject('Opportunity').update({ Id: inDollars.opportunityId, Amount: 1_000, StageName: 'Closed Won' });
    await h.rep.sobject('Opportunity').update({ Id: inEuros.opportunityId, CurrencyIsoCode: 'EUR', Amount: 400, StageName: 'Closed Won' });
    await eventually(
      async () =>
        (await dealStatus(inEuros.opportunityId))?.status === 'won' && (await dealStatus(inDollars.opportunityId))?.status === 'won',
      20_000,
      'both deals won',
    );

    // 1,000 USD + 400 EUR ÷ 0.8 EUR per USD = 1,500 USD.
    const after = await report();
    expect(after.totals.wonCents - before.totals.wonCents).toBe(150_000);
    expect(after.totals.wonDeals - before.totals.wonDeals).toBe(2);
    expect(after.currency).toMatchObject({ code: 'USD', multiCurrency: true });
    const euros = await h.app.db.query<{ amount: string; currency: string; amount_cents: string }>(
      'SELECT amount, currency, amount_cents FROM deals WHERE salesforce_opportunity_id = $1',
      [inEuros.opportunityId],
    );
    expect(euros.map((d) => ({ amount: Number(d.amount), currency: d.currency, cents: Number(d.amount_cents) }))).toEqual([
      { amount: 400, currency: 'EUR', cents: 50_000 },
    ]);
  });

  it('records a deal closed, edited and reopened by the rep in the report at each step, with no backfill run', async () => {
    const { opportunityId } = await convertedDeal();
    const base = await report();
    // Closed today with a close date still in the future, as reps often leave it.
    await h.rep
      .sobject('Opportunity')
      .update({ Id: opportunityId, Amount: 40_000, CloseDate: daysFromNow(20), StageName: 'Closed Won', Win_Reason__c: 'Fast rollout' });
    await eventually(async () => (await dealStatus(opportunityId))?.status === 'won', 20_000, 'the won deal');
    let now = await report();
    expect(now.totals.wonCents - base.totals.wonCents).toBe(4_000_000);
    expect(now.totals.wonDeals - base.totals.wonDeals).toBe(1);
    expect(now.period.to.slice(0, 10)).toBe(daysFromNow(1));

    await h.rep.sobject('Opportunity').update({ Id: opportunityId, Amount: 45_500.5 });
    await eventually(async () => Number((await dealStatus(opportunityId))?.amount_cents) === 4_550_050, 20_000, 'the edited amount');
    now = await report();
    expect(now.totals.wonCents - base.totals.wonCents).toBe(4_550_050);

    // Reported on its close date instead, it leaves today's period for the day of its close date.
    const closeDay = `&from=${daysFromNow(200)}&to=${daysFromNow(200)}`;
    await h.rep.sobject('Opportunity').update({ Id: opportunityId, CloseDate: daysFromNow(200) });
    await eventually(
      async () =>
        (
          await h.app.db.query('SELECT 1 FROM deals WHERE salesforce_opportunity_id = $1 AND close_date = $2', [
            opportunityId,
            daysFromNow(200),
          ])
        ).length === 1,
      20_000,
      'the new close date',
    );
    expect((await report(closeDay)).totals.wonCents).toBe(0);
    await api('PUT', `/api/installations/${installationId}/settings/revenuePolicy`, { wonDate: 'close_date' });
    expect((await report(closeDay)).totals.wonCents).toBe(4_550_050);
    expect((await report(closeDay)).wonDate).toBe('close_date');
    await api('PUT', `/api/installations/${installationId}/settings/revenuePolicy`, { wonDate: 'won_day' });
    expect((await report()).totals.wonCents - base.totals.wonCents).toBe(4_550_050);

    await h.rep.sobject('Opportunity').update({ Id: opportunityId, StageName: 'Negotiation/Review' });
    await eventually(async () => (await dealStatus(opportunityId))?.status === 'open', 20_000, 'the reopened deal');
    now = await report();
    expect(now.totals.wonCents - base.totals.wonCents).toBe(0);
    expect(now.totals.wonDeals - base.totals.wonDeals).toBe(0);
    const actions = async () =>
      (
        await h.app.db.query<{ action: string }>("SELECT action FROM sync_log WHERE record_ref = $1 AND action LIKE 'deal_%' ORDER BY id", [
          `salesforce:Opportunity:${opportunityId}`,
        ])
      ).map((l) => l.action);
    await eventually(async () => (await actions()).includes('deal_reopened'), 10_000, 'the reopening logged');
    expect(await actions()).toEqual(['deal_won', 'deal_amount_changed', 'deal_reopened']);
  });

  it('adds a renewal on the same Account to the lifetime value on the contact and its company', async () => {
    const company = await h.hubspot.crm.companies.basicApi.create({
      properties: { name: 'Renewal Co', numberofemployees: '250' },
      associations: [],
    });
    const { contactId, opportunityId, accountId } = await convertedDeal();
    await h.hubspot.crm.associations.v4.basicApi.createDefault('contacts', contactId, 'companies', company.id);
    await h.rep.sobject('Opportunity').update({ Id: opportunityId, Amount: 30_000, StageName: 'Closed Won' });
    await eventually(
      async () => (await h.hubspot.crm.contacts.basicApi.getById(contactId, CUSTOMER_PROPERTIES)).properties.customer_deals_won === '1',
      20_000,
      'the first deal on the contact',
      1_000,
    );

    // Renewal: a new Opportunity on the customer's Account, never a Lead of its own.
    const renewal = (await h.rep.sobject('Opportunity').create({
      Name: 'Renewal year 2',
      AccountId: accountId,
      StageName: 'Prospecting',
      CloseDate: today(),
      Amount: 12_000,
      Type: 'Existing Customer - Upgrade',
    })) as { id: string };
    await h.rep.sobject('Opportunity').update({ Id: renewal.id, StageName: 'Closed Won' });
    let contact: Record<string, string | null> = {};
    await eventually(
      async () => {
        contact = (await h.hubspot.crm.contacts.basicApi.getById(contactId, CUSTOMER_PROPERTIES)).properties;
        return contact.customer_deals_won === '2';
      },
      20_000,
      'the renewal on the contact',
      1_000,
    );
    expect(Number(contact.customer_lifetime_value)).toBe(30_000 + 12_000);
    expect(Date.parse(contact.customer_first_won_at ?? '')).toBeGreaterThan(Date.now() - 120_000);
    const companyValues = (await h.hubspot.crm.companies.basicApi.getById(company.id, CUSTOMER_PROPERTIES)).properties;
    expect(Number(companyValues.customer_lifetime_value)).toBe(42_000);
    expect(companyValues.customer_deals_won).toBe('2');

    // The report's segments: the Account's size band, with its lifetime value.
    const [account] = await h.app.db.query<{ employees: number | null; company_employees: number | null }>(
      'SELECT employees, company_employees FROM customer_accounts WHERE salesforce_account_id = $1',
      [accountId],
    );
    expect(account).toBeDefined();
    // The contact's company size is kept too, for segments by HubSpot company.
    expect(Number(account?.company_employees)).toBe(250);
    const after = await report();
    const renewed = await h.app.db.query<{ origin: string; hubspot_contact_id: string }>(
      'SELECT origin, hubspot_contact_id FROM deals WHERE salesforce_opportunity_id = $1',
      [renewal.id],
    );
    expect(renewed).toEqual([{ origin: 'account', hubspot_contact_id: contactId }]);
    const segmentTotal = after.segments.rows.reduce((sum, row) => sum + row.wonCents, 0);
    expect(segmentTotal).toBe(after.totals.wonCents);
  });

  it('gives a Campaign with an actual cost its cost per lead, CAC and ROI under each model', async () => {
    await setMarketingUser(h.salesforceSandbox, h.salesforceSandbox.adminUserId);
    const admin = sessionAs(h.salesforceSandbox, h.salesforceSandbox.adminUserId);
    const name = `roi-webinar-${randomBytes(3).toString('hex')}`;
    await admin
      .sobject('Campaign')
      .create({ Name: name, IsActive: true, Status: 'In Progress', StartDate: today(), BudgetedCost: 9_000, ActualCost: 8_000 });
    await reconcileCampaignCosts({ db: h.app.db, installationId, salesforce: direct.salesforce, pageLimit: 2_000 });

    const { contactId, opportunityId } = await convertedDeal();
    await h.app.db.query(
      "INSERT INTO attribution_touches (installation_id, hubspot_contact_id, occurred_at, is_first, channel, campaign) VALUES ($1, $2, now() - interval '1 day', true, 'Paid Social', $3)",
      [installationId, contactId, name],
    );
    await h.rep.sobject('Opportunity').update({ Id: opportunityId, Amount: 20_000, StageName: 'Closed Won' });
    await eventually(async () => (await dealStatus(opportunityId))?.status === 'won', 20_000, 'the won deal');

    const full = await report();
    const roi = full.roi.campaigns.find((row) => row.key === name);
    // One lead, one customer (its contact became a customer in the same sync): CAC is the whole cost.
    expect(roi).toMatchObject({
      costCents: 800_000,
      costSources: ['actual'],
      leads: 1,
      customers: 1,
      costPerLeadCents: 800_000,
      cacCents: 800_000,
    });
    // Two touches: the webinar (first) and the handoff's own (last, no campaign). First touch credits
    // the webinar all 20,000, last touch nothing, linear and position-based (40/20/40 of two: half) 10,000.
    expect(roi?.credit).toEqual({ first_touch: 2_000_000, last_touch: 0, linear: 1_000_000, position_based: 1_000_000 });
    // ROI = (credit − 8,000) ÷ 8,000; LTV:CAC = 20,000 ÷ 8,000.
    expect(roi?.roi).toEqual({
      first_touch: (20_000 - 8_000) / 8_000,
      last_touch: -1,
      linear: (10_000 - 8_000) / 8_000,
      position_based: (10_000 - 8_000) / 8_000,
    });
    expect(roi?.ltvToCac).toBe(20_000 / 8_000);

    const csv = await (
      await fetch(`${h.app.url ?? ''}/api/report?installation=${installationId}&format=csv&table=roi`, {
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).text();
    expect(csv.split('\r\n')[0]).toContain('roi_linear');
    expect(csv).toContain(`campaign,${name},8000,actual,1,`);
  });

  it("takes a converted Lead's Opportunity along, so a win no Opportunity message brought still makes a customer and a deal", async () => {
    const { contactId, lead } = await h.handOff();
    // The org's Flow sends nothing for this Opportunity (rules removed) and the Lead's own message is slow.
    const removed = h.salesforceSandbox.outbound.rules().filter((rule) => rule.object === 'Opportunity');
    for (const rule of removed) h.salesforceSandbox.outbound.removeRule(rule.id);
    h.salesforceSandbox.faults.set({ outbound: { delayMs: 1_500 } });
    try {
      const converted = await h.rep.soap.convertLead({ leadId: lead.Id, convertedStatus: 'Closed - Converted' });
      const { opportunityId } = (Array.isArray(converted) ? converted[0] : converted) as { opportunityId: string };
      await h.rep.sobject('Opportunity').update({ Id: opportunityId, Amount: 7_500, StageName: 'Closed Won' });
      // Waiting on the app's table, not on HubSpot: polling the portal would spend its rate limit.
      // The deal is recorded after the contact's writes in the same sync.
      await eventually(async () => (await dealStatus(opportunityId))?.status === 'won', 20_000, 'the deal recorded');
      expect((await h.contact(contactId)).lifecyclestage).toBe('customer');
      const deal = await dealStatus(opportunityId);
      expect({ status: deal?.status, cents: Number(deal?.amount_cents) }).toEqual({ status: 'won', cents: 750_000 });
    } finally {
      h.salesforceSandbox.faults.clear();
      for (const { id: _id, createdDate: _createdDate, ...rule } of removed) h.salesforceSandbox.outbound.addRule(rule);
    }
  });
});
