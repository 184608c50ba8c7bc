/**
 * The pipeline review over HTTP after a month of journeys seeded through the real flow: form
 * submissions from three channels and campaigns, MQL handoffs to Salesforce Leads, reps working and
 * converting them, Opportunities left open at their stages, won with a reason or lost with one;
 * Salesforce Campaigns and HubSpot campaigns starting inside and outside the next 30 days. Every
 * expected figure is computed here from the seed itself, never through the app's store or domain.
 * The digest of that review reaches a local SMTP server with the same numbers.
 */
import { randomBytes } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineReview } from '../../src/domain/review.ts';
import { eventually } from '../support/app-process.ts';
import { AdminClient } from '../support/admin-harness.ts';
import { setMarketingUser } from '../support/salesforce-marketing.ts';
import { sessionAs } from '../support/salesforce-org.ts';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.ts';
import { startSyncHarness, submitHubSpotForm, type SyncHarness } from '../support/sync-harness.ts';

const ADMIN_TOKEN = randomBytes(32).toString('base64url');
const DAY = 86_400_000;
const dayFromNow = (days: number): string => new Date(Date.now() + days * DAY).toISOString().slice(0, 10);

interface Journey {
  tag: string;
  utm: { source: string; medium: string; campaign: string };
  channel: string;
  outcome:
    | { kind: 'handoff' }
    | { kind: 'open'; stage: string; amount: number }
    | { kind: 'won'; amount: number; reason: string }
    | { kind: 'lost'; amount: number; reason: string };
}

const SEARCH = { source: 'google', medium: 'cpc', campaign: 'spring-launch' };
const EMAIL = { source: 'newsletter', medium: 'email', campaign: 'may-newsletter' };
const SOCIAL = { source: 'linkedin', medium: 'paid_social', campaign: 'q3-retarget' };

/** The month's journeys: what the test seeds and what it expects back. */
const JOURNEYS: Journey[] = [
  { tag: 'won-search', utm: SEARCH, channel: 'Paid Search', outcome: { kind: 'won', amount: 12_000, reason: 'Fast rollout' } },
  { tag: 'open-search', utm: SEARCH, channel: 'Paid Search', outcome: { kind: 'open', stage: 'Prospecting', amount: 5_000 } },
  { tag: 'won-email', utm: EMAIL, channel: 'Email', outcome: { kind: 'won', amount: 8_000, reason: 'Best price' } },
  { tag: 'lost-email', utm: EMAIL, channel: 'Email', outcome: { kind: 'lost', amount: 3_000, reason: 'Competitor' } },
  { tag: 'open-social', utm: SOCIAL, channel: 'Paid Social', outcome: { kind: 'open', stage: 'Proposal/Price Quote', amount: 20_000 } },
  { tag: 'open-social-2', utm: SOCIAL, channel: 'Paid Social', outcome: { kind: 'open', stage: 'Prospecting', amount: 7_000 } },
  { tag: 'lost-social', utm: SOCIAL, channel: 'Paid Social', outcome: { kind: 'lost', amount: 4_000, reason: 'No budget' } },
  { tag: 'lost-social-2', utm: SOCIAL, channel: 'Paid Social', outcome: { kind: 'lost', amount: 1_000, reason: 'Competitor' } },
  { tag: 'handoff-only', utm: EMAIL, channel: 'Email', outcome: { kind: 'handoff' } },
];

describe('the pipeline review', () => {
  let h: SyncHarness;
  let installationId: string;
  const names = new Map<string, string>();
  let smtp: TestSmtpServer;

  const api = async (target: string, client?: AdminClient): Promise<{ status: number; json: Record<string, unknown> }> => {
    if (client) return await client.api('GET', target);
    const response = await fetch(`${h.app.url ?? ''}${target}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const review = async (query = ''): Promise<PipelineReview> => {
    const answer = await api(`/api/review?installation=${encodeURIComponent(installationId)}${query}`);
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    return answer.json as unknown as PipelineReview;
  };

  /** One visitor's journey, form to outcome, through the sandboxes and the running app. */
  async function live(journey: Journey, index: number): Promise<void> {
    const email = `review-${journey.tag}-${Date.now()}@example.com`;
    const { source, medium, campaign } = journey.utm;
    await submitHubSpotForm(
      h,
      'demo-request',
      { email, lastname: `Review ${index}`, company: `Company ${journey.tag}` },
      { pageUri: `https://www.example.com/demo?utm_source=${source}&utm_medium=${medium}&utm_campaign=${campaign}`, pageName: 'Demo' },
    );
    const contactId = (await h.hubspot.crm.contacts.basicApi.getById(email, ['email'], undefined, undefined, false, 'email')).id;
    h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'marketingqualifiedlead' });
    let leadId = '';
    await eventually(
      async () => {
        leadId = (await h.leadsFor(`HubSpot_Contact_Id__c = '${contactId}'`))[0]?.Id ?? '';
        return leadId !== '';
      },
      30_000,
      `the Lead of ${journey.tag}`,
    );
    if (journey.outcome.kind === 'handoff') return;
    await h.rep.sobject('Lead').update({ Id: leadId, Status: 'Working - Contacted' });
    const converted = await h.rep.soap.convertLead({ leadId, convertedStatus: 'Closed - Converted' });
    const { opportunityId } = (Array.isArray(converted) ? converted[0] : converted) as { opportunityId: string };
    const name = `Deal ${journey.tag}`;
    names.set(journey.tag, name);
    const { outcome } = journey;
    const fields =
      outcome.kind === 'open'
        ? { StageName: outcome.stage }
        : outcome.kind === 'won'
          ? { StageName: 'Closed Won', Win_Reason__c: outcome.reason }
          : { StageName: 'Closed Lost', Loss_Reason__c: outcome.reason };
    await eventually(
      async () => (await h.app.db.query('SELECT 1 FROM record_links WHERE salesforce_opportunity_id = $1', [opportunityId])).length === 1,
      20_000,
      'the Opportunity linked',
    );
    await h.rep.sobject('Opportunity').update({ Id: opportunityId, Name: name, Amount: outcome.amount, ...fields });
    // Waits for the sync to have taken the change (its own table is the only signal); the figures
    // checked later come from the API.
    const status = outcome.kind;
    await eventually(
      async () =>
        (
          await h.app.db.query('SELECT 1 FROM deals WHERE salesforce_opportunity_id = $1 AND status = $2 AND name = $3', [
            opportunityId,
            status,
            name,
          ])
        ).length === 1,
      20_000,
      `the deal of ${journey.tag}`,
    );
  }

  beforeAll(async () => {
    smtp = await startSmtpServer();
    h = await startSyncHarness({ ADMIN_TOKEN, ...smtp.env });
    installationId = (await h.app.db.query<{ id: string }>('SELECT id FROM installations ORDER BY created_at LIMIT 1'))[0]?.id ?? '';
    expect(installationId).not.toBe('');
    // Campaigns in both CRMs: two start inside the next 30 days on each side, the others outside.
    await setMarketingUser(h.salesforceSandbox, h.salesforceSandbox.adminUserId);
    const marketing = sessionAs(h.salesforceSandbox, h.salesforceSandbox.adminUserId);
    for (const [name, start] of [
      ['Review webinar', 3],
      ['Review summit', 20],
      ['Review past', -5],
      ['Review later', 45],
    ] as const) {
      const created = await marketing.sobject('Campaign').create({
        Name: name,
        Type: 'Webinar',
        Status: 'Planned',
        StartDate: dayFromNow(start),
        EndDate: dayFromNow(start + 1),
        IsActive: true,
      });
      expect(created.success).toBe(true);
    }
    for (const [name, start] of [
      ['Review HubSpot launch', 10],
      ['Review HubSpot autumn', 60],
    ] as const) {
      const answer = await fetch(`${h.hubspotSandbox.url}/marketing/v3/campaigns`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${h.app.config.sandbox.hubspot.privateAppToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          properties: {
            hs_name: name,
            hs_start_date: dayFromNow(start),
            hs_end_date: dayFromNow(start + 7),
            hs_campaign_status: 'planned',
          },
        }),
      });
      expect(answer.status).toBe(201);
    }
    await Promise.all(JOURNEYS.map((journey, index) => live(journey, index)));
  }, 90_000);

  afterAll(async () => {
    await h?.close();
    await smtp.close();
  });

  it('shows each block with the figures of the month seeded', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const found = await review(`&period=${month}`);
    const cents = (amount: number): number => amount * 100;
    const won = JOURNEYS.flatMap((j) => (j.outcome.kind === 'won' ? [{ ...j, outcome: j.outcome }] : []));
    const open = JOURNEYS.flatMap((j) => (j.outcome.kind === 'open' ? [{ ...j, outcome: j.outcome }] : []));
    const lost = JOURNEYS.flatMap((j) => (j.outcome.kind === 'lost' ? [{ ...j, outcome: j.outcome }] : []));

    expect(found.period).toMatchObject({ id: month, kind: 'month' });
    // Goal: none set yet; closed revenue of the quarter is what was won.
    expect(found.goal).toMatchObject({ targetCents: null, share: null, closedCents: cents(won.reduce((s, j) => s + j.outcome.amount, 0)) });

    // Open pipeline by stage.
    const stages = new Map<string, { deals: number; amountCents: number }>();
    for (const j of open) {
      const row = stages.get(j.outcome.stage) ?? { deals: 0, amountCents: 0 };
      row.deals += 1;
      row.amountCents += cents(j.outcome.amount);
      stages.set(j.outcome.stage, row);
    }
    expect(Object.fromEntries(found.pipeline.stages.map((s) => [s.stage, { deals: s.deals, amountCents: s.amountCents }]))).toEqual(
      Object.fromEntries(stages),
    );
    expect(found.pipeline.totalDeals).toBe(open.length);
    expect(found.pipeline.totalCents).toBe(cents(open.reduce((s, j) => s + j.outcome.amount, 0)));

    // Sources by channel and by campaign.
    const expectedSources = (keyOf: (j: Journey) => string) => {
      const rows: Record<string, { wonDeals: number; wonCents: number; openDeals: number; openCents: number }> = {};
      for (const j of [...won, ...open]) {
        const row = (rows[keyOf(j)] ??= { wonDeals: 0, wonCents: 0, openDeals: 0, openCents: 0 });
        if (j.outcome.kind === 'won') {
          row.wonDeals += 1;
          row.wonCents += cents(j.outcome.amount);
        } else if (j.outcome.kind === 'open') {
          row.openDeals += 1;
          row.openCents += cents(j.outcome.amount);
        }
      }
      return rows;
    };
    const asRecord = (rows: PipelineReview['sources']['channels']) => Object.fromEntries(rows.map(({ key, ...figures }) => [key, figures]));
    expect(asRecord(found.sources.channels)).toEqual(expectedSources((j) => j.channel));
    expect(asRecord(found.sources.campaigns)).toEqual(expectedSources((j) => j.utm.campaign));

    // New customers: each won deal made a new Account a customer.
    expect(
      found.newCustomers
        .map((c) => ({ name: c.opportunityName, amountCents: c.amountCents, reason: c.reason, channel: c.channel, campaign: c.campaign }))
        .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '')),
    ).toEqual(
      won
        .map((j) => ({
          name: names.get(j.tag),
          amountCents: cents(j.outcome.amount),
          reason: j.outcome.reason,
          channel: j.channel,
          campaign: j.utm.campaign,
        }))
        .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '')),
    );
    expect(
      found.newCustomers.every(
        (c) => c.accountName === `Company ${JOURNEYS.find((j) => names.get(j.tag) === c.opportunityName)?.tag ?? ''}`,
      ),
    ).toBe(true);

    // Losses and their reasons.
    expect(found.losses.deals.map((d) => d.opportunityName).sort()).toEqual(lost.map((j) => names.get(j.tag)).sort());
    const reasons: Record<string, { deals: number; amountCents: number }> = {};
    for (const j of lost) {
      const row = (reasons[j.outcome.reason] ??= { deals: 0, amountCents: 0 });
      row.deals += 1;
      row.amountCents += cents(j.outcome.amount);
    }
    expect(Object.fromEntries(found.losses.reasons.map(({ reason, ...figures }) => [reason, figures]))).toEqual(reasons);

    // Sales side: every journey was a handoff this month; all but one were touched.
    expect(found.agreement.sales.handedOff).toBe(JOURNEYS.length);
    const firstTouch = found.agreement.sales.rules.find((r) => r.rule === 'first_touch');
    expect(firstTouch).toMatchObject({ enabled: true, kept: JOURNEYS.length - 1, broken: 0, pending: 1 });
    expect(found.agreement.sales.rules.find((r) => r.rule === 'cadence')).toMatchObject({ enabled: false });
    // Marketing side: the default commitments are monthly and empty.
    expect(found.agreement.marketing?.commitments).toEqual([]);

    // Campaigns starting within 30 days, from both CRMs.
    expect(found.upcoming.unavailable).toEqual([]);
    expect(found.upcoming.campaigns.map((c) => [c.source, c.name, c.startDate])).toEqual([
      ['salesforce', 'Review webinar', dayFromNow(3)],
      ['hubspot', 'Review HubSpot launch', dayFromNow(10)],
      ['salesforce', 'Review summit', dayFromNow(20)],
    ]);
  });

  it("compares the quarter's closed revenue with the revenue goal set for it", async () => {
    const quarter = `${new Date().getUTCFullYear()}-Q${Math.floor(new Date().getUTCMonth() / 3) + 1}`;
    const saved = await fetch(`${h.app.url ?? ''}/api/installations/${installationId}/settings/sharedGoals`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ goals: [{ quarter, kpi: 'revenue', target: 80_000, owner: 'Sales' }] }),
    });
    expect(saved.status).toBeLessThan(300);
    const found = await review();
    expect(found.period).toMatchObject({ id: quarter, kind: 'quarter' });
    expect(found.goal).toEqual({ quarter, targetCents: 8_000_000, closedCents: 2_000_000, share: 0.25, owner: 'Sales' });
    expect(found.agreement.marketing).toBeNull();
    expect(found.goals.map((g) => [g.kpi, g.target, g.actual])).toEqual([['revenue', 80_000, 20_000]]);
  });

  it("paces the month's marketing commitments with what the journeys delivered", async () => {
    const saved = await fetch(`${h.app.url ?? ''}/api/installations/${installationId}/settings/marketingCommitments`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        period: 'month',
        commitments: [
          { metric: 'mqls_delivered', target: 30 },
          { metric: 'mqls_delivered', channel: 'Paid Social', target: 4 },
          { metric: 'pipeline_created', target: 100_000 },
        ],
      }),
    });
    expect(saved.status).toBeLessThan(300);
    const month = new Date().toISOString().slice(0, 7);
    const found = await review(`&period=${month}`);
    // Every journey became an MQL this month; every one but the handoff opened an Opportunity.
    const opened = JOURNEYS.reduce((sum, j) => sum + (j.outcome.kind === 'handoff' ? 0 : j.outcome.amount), 0);
    expect(found.agreement.marketing?.commitments.map((c) => [c.metric, c.channel, c.target, c.delivered])).toEqual([
      ['mqls_delivered', null, 30, JOURNEYS.length],
      ['mqls_delivered', 'Paid Social', 4, JOURNEYS.filter((j) => j.channel === 'Paid Social').length],
      ['pipeline_created', null, 100_000, opened],
    ]);
    // Paid Social delivered its 4 already: on track whatever the day of the month.
    expect(found.agreement.marketing?.commitments[1]?.status).toBe('on_track');
  });

  it('names HubSpot unavailable, with its reason, when the portal has no campaigns tool', async () => {
    h.hubspotSandbox.setMarketingHubTier('starter');
    try {
      const found = await review();
      expect(found.upcoming.unavailable).toEqual([{ source: 'hubspot', reason: expect.stringContaining('MISSING_SCOPES') }]);
      expect(found.upcoming.campaigns.map((c) => c.source)).toEqual(['salesforce', 'salesforce']);
    } finally {
      h.hubspotSandbox.setMarketingHubTier('professional');
    }
  });

  it('refuses a bad period and a missing installation with a 400, and hides installations the caller cannot see', async () => {
    for (const period of ['2026-13', '2026-Q5', 'last-month', '2026-1']) {
      const answer = await api(`/api/review?installation=${encodeURIComponent(installationId)}&period=${period}`);
      expect(answer.status, period).toBe(400);
      expect(answer.json.message).toContain('period');
    }
    const missing = await api('/api/review?period=2026-Q4');
    expect(missing.status).toBe(400);
    expect(missing.json.message).toContain('installation');
    expect((await api('/api/review?installation=nope')).status).toBe(404);
    expect((await api(`/api/review?installation=${encodeURIComponent(installationId)}&extra=1`)).status).toBe(400);
  });

  it('lets a viewer of the installation read it, and nobody signed out', async () => {
    const invitation = await fetch(`${h.app.url ?? ''}/api/installations/${installationId}/invitations`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Dana from sales', role: 'viewer' }),
    });
    expect(invitation.status).toBe(201);
    const viewer = new AdminClient(h.app.url ?? '');
    expect((await viewer.request('POST', new URL(((await invitation.json()) as { url: string }).url).pathname)).status).toBe(303);
    const read = await api(`/api/review?installation=${encodeURIComponent(installationId)}`, viewer);
    expect(read.status).toBe(200);
    expect(read.json.installationId).toBe(installationId);
    expect((await fetch(`${h.app.url ?? ''}/api/review?installation=${encodeURIComponent(installationId)}`)).status).toBe(401);
  });

  it('sends its digest by email with the numbers the review shows', async () => {
    const saved = await fetch(`${h.app.url ?? ''}/api/installations/${installationId}/settings/reviewDigest`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        enabled: true,
        every: 'week',
        weekday: 1,
        hour: 8,
        timeZone: 'Europe/Paris',
        period: 'month',
        emailTo: ['sales-lead@example.com'],
        toAlertTarget: false,
      }),
    });
    expect(saved.status, await saved.clone().text()).toBeLessThan(300);
    const admin = new AdminClient(h.app.url ?? '');
    await admin.signIn(ADMIN_TOKEN);
    await admin.page(`/admin/installations/${installationId}/settings?key=reviewDigest`);
    expect((await admin.form(`/admin/installations/${installationId}/review-digest/test`, {})).status).toBe(303);
    await eventually(async () => smtp.received.length === 1, 20_000, 'the digest at the SMTP server');
    const mail = smtp.received[0]?.mail as ParsedMail;
    const month = new Date().toISOString().slice(0, 7);
    expect(mail.subject).toMatch(new RegExp(`^\\[Test\\] Pipeline review ${month} — `));
    // The figures of the same review, from the API, written as the seed gives them.
    const found = await review(`&period=${month}`);
    const money = (cents: number): string =>
      new Intl.NumberFormat('en-US', { style: 'currency', currency: found.currency ?? 'USD' }).format(cents / 100);
    const text = mail.text ?? '';
    const open = JOURNEYS.filter((j) => j.outcome.kind === 'open');
    expect(text).toContain(`${open.length} deals, ${money(found.pipeline.totalCents)}`);
    expect(text).toContain(`New customers (${JOURNEYS.filter((j) => j.outcome.kind === 'won').length})`);
    expect(text).toContain(`Losses (${JOURNEYS.filter((j) => j.outcome.kind === 'lost').length}, `);
    expect(text).toContain(`${JOURNEYS.length} leads handed off`);
    for (const row of found.pipeline.stages) expect(text).toContain(`${row.stage}: ${row.deals} deals, ${money(row.amountCents)}`);
    expect(text).toContain('Review webinar');
  });
});
