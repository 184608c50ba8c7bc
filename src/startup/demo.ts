/**
 * The sandbox demo (SANDBOX_DEMO, on by default in sandbox mode): visitors submit forms on pages
 * with campaign links, marketing promotes some to MQL, and sales reps work the Leads — accept,
 * reject with a reason, convert, win and lose — all through the sandboxes' real APIs, so a new
 * user watches the funnel move. Marketing has budgeted the campaigns the landing pages advertise
 * (their costs are on the Salesforce Campaigns), reps note the size of the company they accept (so
 * converted Accounts are small, mid-size or large), and deal sizes follow company size, so the
 * report by campaign and by segment has costs and revenue to show. Every step is logged.
 */
import { Client } from '@hubspot/api-client';
import jsforce from 'jsforce';
import { DEFAULT_FEEDBACK_REASONS } from '../domain/feedback.ts';
import type { Logger } from '../log.ts';
import type { HubSpotSandbox } from '../sandbox/hubspot/server.ts';
import { prng } from '../sandbox/salesforce/faults.ts';
import type { SalesforceSandbox } from '../sandbox/salesforce/server.ts';

/**
 * The demo installation's SLA policy: the product ships the follow-up rules off (an existing
 * install judges nothing new until an admin turns them on), the demo turns them on so its reps'
 * compliance has figures — 3 logged touches in 7 days (a call, an email and a follow-up in the
 * first working week, a common inbound cadence) and a disposition within 10 days (two working
 * weeks: enough to qualify, short enough that no lead sits undecided). Stored only when the
 * installation has no SLA policy yet, so an admin's own stays.
 */
export const DEMO_SLA_POLICY = { hours: 4, cadence: { touches: 3, days: 7 }, disposition: { days: 10 } } as const;

export interface DemoOptions {
  hubspot: HubSpotSandbox;
  salesforce: SalesforceSandbox;
  portalId: number;
  /** The sandbox portal's private-app token (the demo looks contacts up by email). */
  privateAppToken: string;
  log: Logger;
  intervalMs?: number;
  /** Seed of the demo's choices (same seed, same story). */
  seed?: number;
}

export interface RunningDemo {
  /** Completed steps so far. */
  steps(): number;
  stop(): Promise<void>;
}

const LANDING_PAGES = [
  'https://www.example.com/spring?utm_source=google&utm_medium=cpc&utm_campaign=spring-launch&utm_term=crm%20sync',
  'https://www.example.com/webinar?utm_source=linkedin&utm_medium=paid_social&utm_campaign=q4-webinar',
  'https://www.example.com/blog/funnel?utm_source=newsletter&utm_medium=email&utm_campaign=november-digest',
  'https://www.example.com/pricing?utm_source=partner.example.org&utm_medium=referral&utm_campaign=partner-program',
  'https://www.example.com/',
];
const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Katherine', 'Linus', 'Margaret', 'Edsger', 'Barbara', 'Donald', 'Frances'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Johnson', 'Torvalds', 'Hamilton', 'Dijkstra', 'Liskov', 'Knuth', 'Allen'];
/** The demo's companies, spread over small, mid-size and large, as a rep would note them on the Lead. */
const COMPANIES = [
  { name: 'Analytical Engines', Industry: 'Manufacturing', NumberOfEmployees: 24, AnnualRevenue: 3_200_000 },
  { name: 'Enigma Labs', Industry: 'Technology', NumberOfEmployees: 48, AnnualRevenue: 6_500_000 },
  { name: 'Compiler Corp', Industry: 'Technology', NumberOfEmployees: 320, AnnualRevenue: 58_000_000 },
  { name: 'Kernel Works', Industry: 'Consulting', NumberOfEmployees: 760, AnnualRevenue: 140_000_000 },
  { name: 'Orbital Math', Industry: 'Finance', NumberOfEmployees: 4_200, AnnualRevenue: 950_000_000 },
  { name: 'Difference Engine Holdings', Industry: 'Manufacturing', NumberOfEmployees: 12_500, AnnualRevenue: 3_100_000_000 },
] as const;
/** Deal sizes by company size (employees at most `upTo`): small deals for small companies, large for large. */
const DEAL_SIZES = [
  { upTo: 99, min: 5_000, max: 20_000 },
  { upTo: 999, min: 20_000, max: 80_000 },
  { upTo: Number.POSITIVE_INFINITY, min: 80_000, max: 250_000 },
] as const;
/** The campaigns the landing pages advertise (their utm_campaign), with what marketing budgeted and spent. */
const CAMPAIGNS = [
  {
    Name: 'spring-launch',
    Type: 'Advertisement',
    BudgetedCost: 25_000,
    ActualCost: 23_400,
    ExpectedRevenue: 150_000,
    ExpectedResponse: 2,
    NumberSent: 40_000,
  },
  {
    Name: 'q4-webinar',
    Type: 'Webinar',
    BudgetedCost: 8_000,
    ActualCost: 9_150,
    ExpectedRevenue: 60_000,
    ExpectedResponse: 8,
    NumberSent: 5_000,
  },
  {
    Name: 'november-digest',
    Type: 'Email',
    BudgetedCost: 1_500,
    ActualCost: 1_200,
    ExpectedRevenue: 20_000,
    ExpectedResponse: 3,
    NumberSent: 18_000,
  },
  {
    Name: 'partner-program',
    Type: 'Partners',
    BudgetedCost: 12_000,
    ActualCost: 10_000,
    ExpectedRevenue: 90_000,
    ExpectedResponse: 10,
    NumberSent: 600,
  },
] as const;
const REASONS = DEFAULT_FEEDBACK_REASONS.map((reason) => reason.label);

/** The demo's actors and what it remembers between steps. */
interface DemoWorld {
  options: DemoOptions;
  random: () => number;
  /** The sales reps, each signed in as themselves. */
  reps: jsforce.Connection[];
  /** Marketing: the org's administrator, a Marketing User (only they may edit Campaigns). */
  marketing: jsforce.Connection;
  hubspot: Client;
  budgeted: boolean;
  /** Visitors who submitted the form and are not yet promoted, oldest first. */
  visitors: string[];
  count: number;
}

/** Starts the demo loop. */
export function startDemo(options: DemoOptions): RunningDemo {
  const world: DemoWorld = {
    options,
    random: prng(options.seed ?? 42),
    reps: options.salesforce.salesRepIds.slice(0, 3).map((id) => {
      const token = options.salesforce.issueUserToken(id);
      return new jsforce.Connection({ instanceUrl: options.salesforce.url, accessToken: token.access_token, version: '62.0' });
    }),
    marketing: new jsforce.Connection({
      instanceUrl: options.salesforce.url,
      accessToken: options.salesforce.issueUserToken(options.salesforce.adminUserId).access_token,
      version: '62.0',
    }),
    hubspot: new Client({ accessToken: options.privateAppToken, basePath: options.hubspot.url }),
    budgeted: false,
    visitors: [],
    count: 0,
  };
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  const interval = options.intervalMs ?? 5_000;
  const timer = setInterval(() => {
    if (stopped) return;
    current = current
      .then(() => step(world))
      .catch((error: unknown) => options.log.warn({ error: error instanceof Error ? error.message : String(error) }, 'demo step failed'));
  }, interval);
  options.log.info(
    { intervalMs: interval },
    'demo: simulating visitors, marketing and sales reps on the sandboxes (SANDBOX_DEMO=false turns this off)',
  );
  return {
    steps: () => world.count,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}

/** One of the items, by the demo's seeded randomness. */
function pick<T>(world: DemoWorld, items: readonly T[]): T {
  return items[Math.floor(world.random() * items.length)] as T;
}

/** One demo step: budgets once, a visitor, maybe a promotion, then the reps' work. */
async function step(world: DemoWorld): Promise<void> {
  if (!world.budgeted) await budgetCampaigns(world);
  await visit(world);
  if (world.random() < 0.6) await promote(world);
  await workLeads(world);
  world.count += 1;
}

/** A visitor submits the contact form. */
async function visit(world: DemoWorld): Promise<void> {
  const { options } = world;
  const first = pick(world, FIRST_NAMES);
  const last = pick(world, LAST_NAMES);
  const email = `${first}.${last}.${world.count}@demo.example.com`.toLowerCase();
  const pageUri = pick(world, LANDING_PAGES);
  const response = await fetch(`${options.hubspot.url}/submissions/v3/integration/submit/${options.portalId}/demo-contact-form`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      fields: [
        { name: 'email', value: email },
        { name: 'firstname', value: first },
        { name: 'lastname', value: last },
        { name: 'company', value: pick(world, COMPANIES).name },
      ],
      context: { pageUri, pageName: 'Contact us' },
    }),
  });
  if (!response.ok) throw new Error(`form submission answered ${response.status}`);
  world.visitors.push(email);
  options.log.info({ email, pageUri }, 'demo: a visitor submitted the contact form');
}

/** Marketing enters each advertised campaign's budget and cost (creating the Campaign if the sync has not yet). */
async function budgetCampaigns(world: DemoWorld): Promise<void> {
  const { marketing } = world;
  const names = CAMPAIGNS.map((c) => `'${c.Name}'`).join(', ');
  const existing = (
    await marketing.query<{ Id: string; Name: string; ActualCost: number | null }>(
      `SELECT Id, Name, ActualCost FROM Campaign WHERE Name IN (${names})`,
    )
  ).records;
  for (const campaign of CAMPAIGNS) {
    const found = existing.find((c) => c.Name.toLowerCase() === campaign.Name.toLowerCase());
    if (!found) await marketing.sobject('Campaign').create({ ...campaign, IsActive: true, Status: 'In Progress' });
    else if (found.ActualCost === null) await marketing.sobject('Campaign').update({ Id: found.Id, ...campaign, Name: found.Name });
  }
  world.budgeted = true;
  world.options.log.info({ campaigns: CAMPAIGNS.map((c) => c.Name) }, 'demo: marketing entered the campaign budgets and costs');
}

/** Marketing finds the oldest visitor and qualifies them in the HubSpot UI. */
async function promote(world: DemoWorld): Promise<void> {
  const email = world.visitors.shift();
  if (!email) return;
  const found = await world.hubspot.crm.contacts.basicApi.getById(email, ['lifecyclestage'], undefined, undefined, false, 'email');
  world.options.hubspot.editInUi('contacts', found.id, { lifecyclestage: 'marketingqualifiedlead' });
  world.options.log.info({ email }, 'demo: marketing promoted a contact to MQL');
}

/** A rep works the oldest open Lead, converts a working one, and closes an open Opportunity. */
async function workLeads(world: DemoWorld): Promise<void> {
  const rep = pick(world, world.reps);
  await workOpenLead(world, rep);
  await convertWorkingLead(world, rep);
  await closeOpportunity(world, rep);
}

/** The rep accepts (noting the company's size) or rejects (with a reason) the oldest open Lead, or leaves it. */
async function workOpenLead(world: DemoWorld, rep: jsforce.Connection): Promise<void> {
  const open = (
    await rep.query<{ Id: string; Company: string }>(
      "SELECT Id, Company FROM Lead WHERE Status = 'Open - Not Contacted' AND IsConverted = false ORDER BY CreatedDate LIMIT 1",
    )
  ).records[0];
  if (!open) return;
  const roll = world.random();
  if (roll < 0.65) {
    // The rep looks the company up and notes its size; conversion carries it to the Account.
    const company = COMPANIES.find((c) => c.name === open.Company);
    const size = company
      ? { Industry: company.Industry, NumberOfEmployees: company.NumberOfEmployees, AnnualRevenue: company.AnnualRevenue }
      : {};
    await rep.sobject('Lead').update({ Id: open.Id, Status: 'Working - Contacted', ...size });
    world.options.log.info({ lead: open.Id }, 'demo: a rep accepted a Lead');
  } else if (roll < 0.9) {
    const reason = pick(world, REASONS);
    await rep.sobject('Lead').update({
      Id: open.Id,
      Status: 'Closed - Not Converted',
      Feedback_Reason__c: reason,
      Feedback_Notes__c: `Called twice; ${reason.toLowerCase()}.`,
    });
    world.options.log.info({ lead: open.Id, reason }, 'demo: a rep rejected a Lead');
  }
}

/** Half the time, the rep converts the oldest Lead being worked. */
async function convertWorkingLead(world: DemoWorld, rep: jsforce.Connection): Promise<void> {
  const working = (
    await rep.query<{ Id: string }>(
      "SELECT Id FROM Lead WHERE Status = 'Working - Contacted' AND IsConverted = false ORDER BY CreatedDate LIMIT 1",
    )
  ).records[0];
  if (working && world.random() < 0.5) {
    await rep.soap.convertLead({ leadId: working.Id, convertedStatus: 'Closed - Converted' });
    world.options.log.info({ lead: working.Id }, 'demo: a rep converted a Lead');
  }
}

/** The rep wins (an amount fitting the account's size) or loses (with a reason) the oldest open Opportunity, or leaves it. */
async function closeOpportunity(world: DemoWorld, rep: jsforce.Connection): Promise<void> {
  const opportunity = (
    await rep.query<{ Id: string; Account: { NumberOfEmployees: number | null } | null }>(
      'SELECT Id, Account.NumberOfEmployees FROM Opportunity WHERE IsClosed = false ORDER BY CreatedDate LIMIT 1',
    )
  ).records[0];
  if (!opportunity) return;
  const roll = world.random();
  if (roll < 0.5) {
    const employees = opportunity.Account?.NumberOfEmployees ?? 0;
    const band = DEAL_SIZES.find((b) => employees <= b.upTo) ?? DEAL_SIZES[0];
    const amount = band.min + Math.round((world.random() * (band.max - band.min)) / 1_000) * 1_000;
    await rep.sobject('Opportunity').update({ Id: opportunity.Id, StageName: 'Closed Won', Amount: amount, Type: 'New Customer' });
    world.options.log.info({ opportunity: opportunity.Id, amount }, 'demo: a rep won an Opportunity');
  } else if (roll < 0.75) {
    const reason = pick(world, REASONS);
    await rep.sobject('Opportunity').update({ Id: opportunity.Id, StageName: 'Closed Lost', Loss_Reason__c: reason });
    world.options.log.info({ opportunity: opportunity.Id, reason }, 'demo: a rep lost an Opportunity');
  }
}
