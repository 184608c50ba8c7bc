/**
 * The sandbox demo (SANDBOX_DEMO, on by default in sandbox mode): visitors submit forms on pages
 * with campaign links, marketing promotes some to MQL, and sales reps work the Leads — accept,
 * reject with a reason, convert, win and lose — all through the sandboxes' real APIs, so a new
 * user watches the funnel move. Every step is logged.
 */
import { Client } from '@hubspot/api-client';
import jsforce from 'jsforce';
import type { Logger } from '../log.ts';
import type { HubSpotSandbox } from '../sandbox/hubspot/server.ts';
import { prng } from '../sandbox/salesforce/faults.ts';
import type { SalesforceSandbox } from '../sandbox/salesforce/server.ts';

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
const COMPANIES = ['Analytical Engines', 'Compiler Corp', 'Enigma Labs', 'Orbital Math', 'Kernel Works'];
const REASONS = ['No budget', 'No authority', 'No need', 'Bad timing', 'Wrong contact data', 'Competitor', 'Duplicate', 'Other'];

/** Starts the demo loop. */
export function startDemo(options: DemoOptions): RunningDemo {
  const random = prng(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const reps = options.salesforce.salesRepIds.slice(0, 3).map((id) => {
    const token = options.salesforce.issueUserToken(id);
    return new jsforce.Connection({ instanceUrl: options.salesforce.url, accessToken: token.access_token, version: '62.0' });
  });
  const hubspot = new Client({ accessToken: options.privateAppToken, basePath: options.hubspot.url });
  const visitors: string[] = [];
  let count = 0;
  let stopped = false;
  let current: Promise<void> = Promise.resolve();

  async function visit(): Promise<void> {
    const first = pick(FIRST_NAMES);
    const last = pick(LAST_NAMES);
    const email = `${first}.${last}.${count}@demo.example.com`.toLowerCase();
    const pageUri = pick(LANDING_PAGES);
    const response = await fetch(`${options.hubspot.url}/submissions/v3/integration/submit/${options.portalId}/demo-contact-form`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        fields: [{ name: 'email', value: email }, { name: 'firstname', value: first }, { name: 'lastname', value: last }, { name: 'company', value: pick(COMPANIES) }],
        context: { pageUri, pageName: 'Contact us' },
      }),
    });
    if (!response.ok) throw new Error(`form submission answered ${response.status}`);
    visitors.push(email);
    options.log.info({ email, pageUri }, 'demo: a visitor submitted the contact form');
  }

  async function promote(): Promise<void> {
    const email = visitors.shift();
    if (!email) return;
    // Marketing finds the visitor and qualifies them in the HubSpot UI.
    const found = await hubspot.crm.contacts.basicApi.getById(email, ['lifecyclestage'], undefined, undefined, false, 'email');
    options.hubspot.editInUi('contacts', found.id, { lifecyclestage: 'marketingqualifiedlead' });
    options.log.info({ email }, 'demo: marketing promoted a contact to MQL');
  }

  async function workLeads(): Promise<void> {
    const rep = pick(reps);
    const open = (await rep.query<{ Id: string }>("SELECT Id FROM Lead WHERE Status = 'Open - Not Contacted' AND IsConverted = false ORDER BY CreatedDate LIMIT 1")).records[0];
    if (open) {
      const roll = random();
      if (roll < 0.65) {
        await rep.sobject('Lead').update({ Id: open.Id, Status: 'Working - Contacted' });
        options.log.info({ lead: open.Id }, 'demo: a rep accepted a Lead');
      } else if (roll < 0.9) {
        const reason = pick(REASONS);
        await rep.sobject('Lead').update({ Id: open.Id, Status: 'Closed - Not Converted', Feedback_Reason__c: reason, Feedback_Notes__c: `Called twice; ${reason.toLowerCase()}.` });
        options.log.info({ lead: open.Id, reason }, 'demo: a rep rejected a Lead');
      }
    }
    const working = (await rep.query<{ Id: string }>("SELECT Id FROM Lead WHERE Status = 'Working - Contacted' AND IsConverted = false ORDER BY CreatedDate LIMIT 1")).records[0];
    if (working && random() < 0.5) {
      await rep.soap.convertLead({ leadId: working.Id, convertedStatus: 'Closed - Converted' });
      options.log.info({ lead: working.Id }, 'demo: a rep converted a Lead');
    }
    const opportunity = (await rep.query<{ Id: string }>('SELECT Id FROM Opportunity WHERE IsClosed = false ORDER BY CreatedDate LIMIT 1')).records[0];
    if (opportunity) {
      const roll = random();
      if (roll < 0.5) {
        const amount = 5_000 + Math.round(random() * 95) * 1_000;
        await rep.sobject('Opportunity').update({ Id: opportunity.Id, StageName: 'Closed Won', Amount: amount });
        options.log.info({ opportunity: opportunity.Id, amount }, 'demo: a rep won an Opportunity');
      } else if (roll < 0.75) {
        const reason = pick(REASONS);
        await rep.sobject('Opportunity').update({ Id: opportunity.Id, StageName: 'Closed Lost', Loss_Reason__c: reason });
        options.log.info({ opportunity: opportunity.Id, reason }, 'demo: a rep lost an Opportunity');
      }
    }
  }

  async function step(): Promise<void> {
    await visit();
    if (random() < 0.6) await promote();
    await workLeads();
    count += 1;
  }

  const interval = options.intervalMs ?? 5_000;
  const timer = setInterval(() => {
    if (stopped) return;
    current = current.then(step).catch((error: unknown) => options.log.warn({ error: error instanceof Error ? error.message : String(error) }, 'demo step failed'));
  }, interval);
  options.log.info({ intervalMs: interval }, 'demo: simulating visitors, marketing and sales reps on the sandboxes (SANDBOX_DEMO=false turns this off)');
  return {
    steps: () => count,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
