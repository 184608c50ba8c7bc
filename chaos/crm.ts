/**
 * How the chaos runner reaches the two sandbox CRMs, as the people and tools around the app do:
 * the sandbox controls (`/__sandbox/*`: fault knobs, stats, a marketer's UI edits, rep tokens),
 * the sales reps' own Salesforce sessions (jsforce), and the HubSpot API for the final read.
 */
import jsforce from 'jsforce';
import { z } from 'zod';

const API_VERSION = '62.0';

async function send(method: string, url: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

const statsSchemaHubSpot = z.object({
  endpoints: z.record(z.string(), z.number()),
  totals: z.object({ calls: z.number(), faultsInjected: z.number(), rateLimited: z.number() }),
});
const statsSchemaSalesforce = z.object({
  calls: z.record(z.string(), z.number()),
  totalCalls: z.number(),
  faultsInjected: z.number(),
  apiUsage: z.object({ used: z.number(), limit: z.number() }),
  outbound: z.object({ pending: z.number(), droppedByFault: z.number() }),
});
const deliverySchema = z.object({ state: z.string() });
const faultsViewSchema = z.object({ counters: z.record(z.string(), z.number()) });
const uiRecordSchema = z.object({ id: z.string() });
const usersSchema = z.array(z.object({ id: z.string(), role: z.string(), isActive: z.boolean() }));
const tokenSchema = z.object({ access_token: z.string(), instance_url: z.string().optional() });

export type HubSpotStats = z.infer<typeof statsSchemaHubSpot>;
export type SalesforceStats = z.infer<typeof statsSchemaSalesforce>;

/** The HubSpot sandbox's controls and a marketer's hands in its UI. */
export class HubSpotSandboxClient {
  constructor(readonly url: string) {}

  /** A marketer creates a contact in the HubSpot UI; returns its id. */
  async createContact(properties: Record<string, string>): Promise<string> {
    return uiRecordSchema.parse(await send('POST', `${this.url}/__sandbox/ui/contacts`, { properties })).id;
  }

  /** A marketer edits a contact in the HubSpot UI. */
  async editContact(id: string, properties: Record<string, string>): Promise<void> {
    await send('PATCH', `${this.url}/__sandbox/ui/contacts/${id}`, { properties });
  }

  /** The recipient unsubscribes from all email through a marketing email's footer link. */
  async unsubscribe(id: string): Promise<void> {
    await send('POST', `${this.url}/__sandbox/ui/contacts/${id}/unsubscribe`);
  }

  async setFaults(config: unknown): Promise<void> {
    await send('POST', `${this.url}/__sandbox/faults`, config);
  }

  async clearFaults(): Promise<void> {
    await send('DELETE', `${this.url}/__sandbox/faults`);
  }

  /** Counters of the faults that fired (drops, duplicates, reorders, injected HTTP errors). */
  async faultCounters(): Promise<Record<string, number>> {
    return faultsViewSchema.parse(await send('GET', `${this.url}/__sandbox/faults`)).counters;
  }

  async stats(): Promise<HubSpotStats> {
    return statsSchemaHubSpot.parse(await send('GET', `${this.url}/__sandbox/stats`));
  }

  /**
   * The app's developer deletes its webhook settings (`DELETE /webhooks/v3/{appId}/settings`, with
   * the developer API key): without a target URL HubSpot sends no webhook; the journal still records.
   */
  async deleteWebhookSettings(appId: number, developerKey: string): Promise<void> {
    await send('DELETE', `${this.url}/webhooks/v3/${appId}/settings?hapikey=${encodeURIComponent(developerKey)}`);
  }

  /** Webhook requests still to be delivered (queued, held back, or waiting for a retry). */
  async undeliveredWebhooks(): Promise<number> {
    const counts = await Promise.all(
      ['pending', 'retrying', 'held'].map(
        async (state) =>
          z.object({ results: z.array(deliverySchema) }).parse(await send('GET', `${this.url}/__sandbox/deliveries?state=${state}`)).results
            .length,
      ),
    );
    return counts.reduce((a, b) => a + b, 0);
  }
}

/** The Salesforce sandbox's controls. */
export class SalesforceSandboxClient {
  constructor(readonly url: string) {}

  async setFaults(config: unknown): Promise<void> {
    await send('POST', `${this.url}/__sandbox/faults`, config);
  }

  async clearFaults(): Promise<void> {
    await send('DELETE', `${this.url}/__sandbox/faults`);
  }

  async stats(): Promise<SalesforceStats> {
    return statsSchemaSalesforce.parse(await send('GET', `${this.url}/__sandbox/stats`));
  }

  /** An admin deletes every Outbound Message rule of the org: no notification is sent any more. */
  async clearOutboundRules(): Promise<void> {
    await send('DELETE', `${this.url}/__sandbox/outbound-messages`);
  }

  /** A session of each active sales rep, as if each had logged in to Salesforce. */
  async repConnections(): Promise<jsforce.Connection[]> {
    const users = usersSchema.parse(await send('GET', `${this.url}/__sandbox/users`));
    const reps = users.filter((u) => u.role === 'sales-rep' && u.isActive);
    if (reps.length === 0) throw new Error('the Salesforce sandbox has no active sales rep');
    const connections: jsforce.Connection[] = [];
    for (const rep of reps) {
      const token = tokenSchema.parse(await send('POST', `${this.url}/__sandbox/users/${rep.id}/token`));
      connections.push(new jsforce.Connection({ instanceUrl: this.url, accessToken: token.access_token, version: API_VERSION }));
    }
    return connections;
  }
}

/** Salesforce failures a person (or a script) simply tries again: server hiccups, locks, network, an injected session fault. */
const RETRYABLE_CODES =
  /^(SERVER_UNAVAILABLE|UNKNOWN_EXCEPTION|UNABLE_TO_LOCK_ROW|INVALID_SESSION_ID|ERROR_HTTP_5\d\d|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_SOCKET)$/;

function codeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const e = error as { errorCode?: unknown; code?: unknown; name?: unknown; faultcode?: unknown; message?: unknown };
  for (const candidate of [e.errorCode, e.faultcode, e.code, e.name]) {
    if (typeof candidate === 'string' && candidate !== '') return candidate.replace(/^[A-Za-z]+:/, '');
  }
  return '';
}

/** Runs a Salesforce call again on a retryable failure, with growing waits (up to ~1 min in all). */
export async function retrying<T>(what: string, run: () => PromiseLike<T>, attempts = 12): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      const code = codeOf(error);
      const message = error instanceof Error ? error.message : String(error);
      const retryable =
        RETRYABLE_CODES.test(code) ||
        /socket hang up|fetch failed|ECONNRESET|Session expired|SERVER_UNAVAILABLE|UNKNOWN_EXCEPTION/i.test(message);
      if (!retryable || attempt >= attempts) throw new Error(`${what} failed (${code || 'no code'}): ${message}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(200 * 2 ** (attempt - 1), 8_000)));
    }
  }
}

export const CONTACT_PROPERTIES = [
  'email',
  'lifecyclestage',
  'hs_lead_status',
  'sales_feedback_status',
  'salesforce_lead_id',
  'salesforce_contact_id',
  'phone',
  'hs_email_optout',
] as const;
type ContactProperty = (typeof CONTACT_PROPERTIES)[number];

export interface ContactState {
  id: string;
  properties: Partial<Record<ContactProperty, string | null>>;
}

const contactPageSchema = z.object({
  results: z.array(z.object({ id: z.string(), properties: z.record(z.string(), z.string().nullable()) })),
  paging: z.object({ next: z.object({ after: z.string() }).optional() }).optional(),
});

/** Reads every HubSpot contact through the CRM API (the private-app token), pacing itself under the rate limit. */
export async function readAllContacts(baseUrl: string, token: string): Promise<ContactState[]> {
  const contacts: ContactState[] = [];
  let after: string | undefined;
  const deadline = Date.now() + 300_000;
  do {
    const url = `${baseUrl}/crm/v3/objects/contacts?limit=100&archived=false&properties=${CONTACT_PROPERTIES.join(',')}${after ? `&after=${after}` : ''}`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (response.status === 429) {
      await response.arrayBuffer();
      if (Date.now() > deadline) throw new Error('listing HubSpot contacts: still rate-limited after 5 minutes');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      continue;
    }
    const text = await response.text();
    if (!response.ok) throw new Error(`listing HubSpot contacts answered ${response.status}: ${text.slice(0, 300)}`);
    const page = contactPageSchema.parse(JSON.parse(text));
    for (const result of page.results) contacts.push({ id: result.id, properties: result.properties });
    after = page.paging?.next?.after;
  } while (after !== undefined);
  return contacts;
}

/** A CRM API call through the private-app token: 429s and 5xx (injected before any handling) are tried again. */
async function hubspotApi(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body: unknown,
): Promise<{ status: number; json: unknown }> {
  const deadline = Date.now() + 120_000;
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if ((response.status === 429 || response.status >= 500) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * attempt, 2_000)));
      continue;
    }
    return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
  }
}

const objectSchema = z.object({ id: z.string() });

/**
 * A marketer merges two contacts (`POST /crm/v3/objects/contacts/merge`); returns the id of the
 * record the merge made. A retry that finds the primary gone reads it: its id resolves to that record.
 */
export async function mergeContacts(baseUrl: string, token: string, primaryObjectId: string, objectIdToMerge: string): Promise<string> {
  const merged = await hubspotApi(baseUrl, token, 'POST', '/crm/v3/objects/contacts/merge', { primaryObjectId, objectIdToMerge });
  if (merged.status === 200) return objectSchema.parse(merged.json).id;
  const read = await fetch(`${baseUrl}/crm/v3/objects/contacts/${primaryObjectId}`, { headers: { authorization: `Bearer ${token}` } });
  const survivor = read.ok ? objectSchema.parse(await read.json()).id : undefined;
  if (survivor !== undefined && survivor !== primaryObjectId) return survivor;
  throw new Error(
    `merging contact ${objectIdToMerge} into ${primaryObjectId} answered ${merged.status}: ${JSON.stringify(merged.json).slice(0, 300)}`,
  );
}

const historySchema = z.object({
  results: z.array(
    z.object({
      id: z.string(),
      propertiesWithHistory: z.record(z.string(), z.array(z.object({ value: z.string(), timestamp: z.string() }))).optional(),
    }),
  ),
});

/** Every value a contact property had, oldest first, per contact (batch read with history, 50 at a time). */
export async function propertyHistories(
  baseUrl: string,
  token: string,
  ids: readonly string[],
  property: string,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < ids.length; i += 50) {
    const inputs = ids.slice(i, i + 50).map((id) => ({ id }));
    const answer = await hubspotApi(baseUrl, token, 'POST', '/crm/v3/objects/contacts/batch/read', {
      inputs,
      properties: [property],
      propertiesWithHistory: [property],
    });
    if (answer.status !== 200 && answer.status !== 207) throw new Error(`reading ${property} histories answered ${answer.status}`);
    for (const result of historySchema.parse(answer.json).results) {
      const versions = [...(result.propertiesWithHistory?.[property] ?? [])].sort(
        (a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp),
      );
      out.set(
        result.id,
        versions.map((v) => v.value),
      );
    }
  }
  return out;
}

export interface LeadState {
  Id: string;
  Email: string | null;
  HasOptedOutOfEmail: boolean;
  Phone: string | null;
  Status: string;
  IsConverted: boolean;
  ConvertedContactId: string | null;
  ConvertedOpportunityId: string | null;
  HubSpot_Contact_Id__c: string | null;
}

/** Every record of a SOQL query, following `nextRecordsUrl`. */
export async function queryAll<T extends Record<string, unknown>>(conn: jsforce.Connection, soql: string): Promise<T[]> {
  const records: T[] = [];
  let result = await retrying('SOQL query', () => conn.query<T>(soql));
  records.push(...result.records);
  while (!result.done && result.nextRecordsUrl) {
    const next = result.nextRecordsUrl;
    result = await retrying('SOQL queryMore', () => conn.queryMore<T>(next));
    records.push(...result.records);
  }
  return records;
}
