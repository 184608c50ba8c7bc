/**
 * The HubSpot adapter through the real `@hubspot/api-client`, over HTTP, against the sandbox HubSpot
 * (src/sandbox/hubspot). Error bodies follow docs/reference/hubspot-api.md §4.2. The last block
 * runs the whole app (test/support/sync-harness.ts) to follow an adapter outcome into the sync log.
 */
import { createServer, type AddressInfo } from 'node:net';
import { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CrmAuthError, CrmRateLimitedError, CrmRejectedError, CrmTransientError } from '../../src/crm/errors.ts';
import { createHubSpotAdapter } from '../../src/crm/hubspot/client.ts';
import type { RequestLimiter } from '../../src/crm/limiter.ts';
import type { HubSpotPort, PropertyDefinition } from '../../src/crm/ports.ts';
import { startHubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import { eventually } from '../support/app-process.ts';
import { failureOf } from '../support/failure.ts';
import { startSyncHarness, type SyncHarness } from '../support/sync-harness.ts';

const TOKEN = 'pat-sandbox-hubspot';
const PORTAL_ID = 1_000_001;

let clock = Date.parse('2026-04-01T08:00:00.000Z');
let sandbox: HubSpotSandbox;
let raw: Client;
let hubspot: HubSpotPort;

beforeAll(async () => {
  sandbox = await startHubSpotSandbox({
    port: 0,
    portalId: PORTAL_ID,
    privateAppToken: TOKEN,
    clientId: 'sandbox-hubspot-client',
    clientSecret: 'sandbox-hubspot-secret',
    appId: 2_000_001,
    developerKey: 'SANDBOX_HUBSPOT_DEV_KEY',
    now: () => clock,
  });
  raw = new Client({ accessToken: TOKEN, basePath: sandbox.url, numberOfApiCallRetries: 0 });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  await sandbox.reset();
  hubspot = createHubSpotAdapter({ accessToken: TOKEN, basePath: sandbox.url, portalId: PORTAL_ID });
});

/** Creates contacts directly (batch create, 100 per call) and returns their ids in order. */
async function seedContacts(count: number, prefix = 'seed'): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 100) {
    const inputs = Array.from({ length: Math.min(100, count - start) }, (_, offset) => ({
      properties: { email: `${prefix}-${start + offset}@example.com`, firstname: `P${start + offset}` },
      associations: [],
    }));
    const created = await raw.crm.contacts.batchApi.create({ inputs });
    ids.push(...created.results.map((contact) => contact.id));
  }
  return ids;
}

function calls(endpoint: string): number {
  return sandbox.stats().endpoints[endpoint] ?? 0;
}

describe('HubSpot adapter: contacts', () => {
  it('reads 150 contacts in two batch calls and leaves unknown ids out', async () => {
    const ids = await seedContacts(148);
    sandbox.resetStats();
    const contacts = await hubspot.readContacts([...ids, '999999901', '999999902'], ['email', 'firstname']);
    expect(calls('POST /crm/v3/objects/contacts/batch/read')).toBe(2);
    expect(contacts).toHaveLength(148);
    expect(new Set(contacts.map((contact) => contact.id))).toEqual(new Set(ids));
    const first = contacts.find((contact) => contact.id === ids[0]);
    expect(first?.properties).toMatchObject({ email: 'seed-0@example.com', firstname: 'P0' });
    expect(first?.updatedAt).toBe(new Date(clock).toISOString());
    expect(first?.archived).toBe(false);
  });

  it('returns a failed outcome for an unknown property and a bad enum value while the other updates are written', async () => {
    const [good, unknownProperty, badOption] = await seedContacts(3);
    sandbox.resetStats();
    const outcomes = await hubspot.updateContacts([
      { id: good!, properties: { jobtitle: 'CTO', lifecyclestage: 'lead' } },
      { id: unknownProperty!, properties: { jobtitle: 'CFO', no_such_property: 'x' } },
      { id: badOption!, properties: { lifecyclestage: 'bogus' } },
    ]);
    expect(outcomes.get(good!)).toEqual({ ok: true, id: good, created: false });
    expect(outcomes.get(unknownProperty!)).toMatchObject({ ok: false, code: 'PROPERTY_DOESNT_EXIST', fields: ['no_such_property'] });
    expect(outcomes.get(badOption!)).toMatchObject({ ok: false, code: 'INVALID_OPTION', fields: ['lifecyclestage'] });
    // The first attempt is refused whole; the valid input goes again alone.
    expect(calls('POST /crm/v3/objects/contacts/batch/update')).toBe(2);
    const [written] = await hubspot.readContacts([good!], ['jobtitle', 'lifecyclestage']);
    expect(written?.properties).toMatchObject({ jobtitle: 'CTO', lifecyclestage: 'lead' });
    const [untouched] = await hubspot.readContacts([unknownProperty!], ['jobtitle']);
    expect(untouched?.properties.jobtitle).toBeNull();
  });

  it('returns WRITE_IGNORED with the kept stage for a backward lifecycle write while the other contacts are written', async () => {
    const [customer, lead, other] = await seedContacts(3);
    await raw.crm.contacts.batchApi.update({
      inputs: [
        { id: customer!, properties: { lifecyclestage: 'customer' } },
        { id: lead!, properties: { lifecyclestage: 'lead' } },
      ],
    });
    sandbox.resetStats();
    const outcomes = await hubspot.updateContacts([
      { id: customer!, properties: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' } },
      { id: lead!, properties: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' } },
      { id: other!, properties: { jobtitle: 'CTO' } },
    ]);
    expect(outcomes.get(customer!)).toEqual({
      ok: false,
      code: 'WRITE_IGNORED',
      message:
        'HubSpot answered the update without an error but kept other values: lifecyclestage is "customer", not the "salesqualifiedlead" that was sent (HubSpot ignores a move to an earlier lifecycle stage unless the stage is cleared first)',
      fields: ['lifecyclestage'],
    });
    expect(outcomes.get(lead!)).toEqual({ ok: true, id: lead, created: false });
    expect(outcomes.get(other!)).toEqual({ ok: true, id: other, created: false });
    // One call: HubSpot answered 200 for the whole batch; nothing is sent again.
    expect(calls('POST /crm/v3/objects/contacts/batch/update')).toBe(1);
    const read = new Map(
      (await hubspot.readContacts([customer!, lead!], ['lifecyclestage', 'hs_lead_status'])).map((contact) => [
        contact.id,
        contact.properties,
      ]),
    );
    expect(read.get(customer!)).toMatchObject({ lifecyclestage: 'customer', hs_lead_status: 'IN_PROGRESS' });
    expect(read.get(lead!)).toMatchObject({ lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' });
  });

  it('moves a contact back when the stage is cleared in one update and set in the next', async () => {
    const [contact] = await seedContacts(1);
    await raw.crm.contacts.basicApi.update(contact!, { properties: { lifecyclestage: 'opportunity' } });
    expect((await hubspot.updateContacts([{ id: contact!, properties: { lifecyclestage: '' } }])).get(contact!)).toMatchObject({
      ok: true,
    });
    expect((await hubspot.updateContacts([{ id: contact!, properties: { lifecyclestage: 'lead' } }])).get(contact!)).toMatchObject({
      ok: true,
    });
    expect((await hubspot.readContacts([contact!], ['lifecyclestage']))[0]?.properties.lifecyclestage).toBe('lead');
  });

  it('takes the values HubSpot normalises on write as written: datetimes, dates, numbers, a clear', async () => {
    for (const [name, type, fieldType] of [
      ['sales_sla_due_at', 'datetime', 'date'],
      ['sales_close_date', 'date', 'date'],
      ['sales_won_amount', 'number', 'number'],
    ] as const) {
      await raw.crm.properties.coreApi.create('contacts', {
        name,
        label: name,
        type: type as never,
        fieldType: fieldType as never,
        groupName: 'contactinformation',
      });
    }
    const [contact] = await seedContacts(1);
    await raw.crm.contacts.basicApi.update(contact!, { properties: { jobtitle: 'CTO' } });
    const dueAt = Date.parse('2026-04-02T08:30:00.000Z');
    const outcomes = await hubspot.updateContacts([
      {
        id: contact!,
        properties: {
          sales_sla_due_at: String(dueAt),
          sales_close_date: String(Date.parse('2026-04-30T00:00:00.000Z')),
          sales_won_amount: '50000.00',
          jobtitle: '',
        },
      },
    ]);
    expect(outcomes.get(contact!)).toEqual({ ok: true, id: contact, created: false });
    const [read] = await hubspot.readContacts([contact!], ['sales_sla_due_at', 'sales_close_date', 'sales_won_amount', 'jobtitle']);
    expect(read?.properties).toMatchObject({
      sales_sla_due_at: '2026-04-02T08:30:00.000Z',
      sales_close_date: '2026-04-30',
      sales_won_amount: '50000',
      jobtitle: null,
    });
  });

  it('returns a failed outcome for a contact id that does not exist', async () => {
    const [known] = await seedContacts(1);
    const outcomes = await hubspot.updateContacts([
      { id: known!, properties: { jobtitle: 'VP' } },
      { id: '999999999', properties: { jobtitle: 'VP' } },
    ]);
    expect(outcomes.get(known!)).toEqual({ ok: true, id: known, created: false });
    expect(outcomes.get('999999999')).toMatchObject({ ok: false, code: 'OBJECT_NOT_FOUND' });
  });

  it('upserts by email: creates first, then updates the same contact, keyed by the lower-cased email', async () => {
    const first = await hubspot.upsertContactsByEmail([{ email: 'Grace@Example.com', properties: { firstname: 'Grace' } }]);
    const created = first.get('grace@example.com');
    expect(created).toMatchObject({ ok: true, created: true });
    const second = await hubspot.upsertContactsByEmail([
      { email: 'grace@example.com', properties: { lastname: 'Hopper' } },
      { email: 'alan@example.com', properties: { firstname: 'Alan' } },
    ]);
    expect(second.get('grace@example.com')).toEqual({ ok: true, id: created?.ok === true ? created.id : '', created: false });
    expect(second.get('alan@example.com')).toMatchObject({ ok: true, created: true });
    const [grace] = await hubspot.readContacts([created?.ok === true ? created.id : ''], ['firstname', 'lastname', 'email']);
    expect(grace?.properties).toMatchObject({ firstname: 'Grace', lastname: 'Hopper', email: 'grace@example.com' });
  });

  it('adds a timeline note associated with the contact', async () => {
    const [contactId] = await seedContacts(1);
    const at = new Date('2026-03-30T12:00:00.000Z');
    const noteId = await hubspot.addTimelineNote(contactId!, '<p>Rejected by sales: <b>no budget</b></p>', at);
    const note = await raw.crm.objects.notes.basicApi.getById(noteId, ['hs_note_body', 'hs_timestamp'], undefined, ['contacts']);
    expect(note.properties).toMatchObject({ hs_note_body: '<p>Rejected by sales: <b>no budget</b></p>', hs_timestamp: at.toISOString() });
    expect(note.associations?.contacts?.results.map((association) => association.id)).toEqual([contactId]);
  });

  it('adds many timeline notes in one batch create and pairs each with its note id', async () => {
    const contactIds = await seedContacts(3, 'notes');
    const before = sandbox.stats().totals.calls;
    const notes = contactIds.map((contactId, index) => ({
      contactId,
      html: `<p>Accepted by sales (${index})</p>`,
      at: new Date(Date.parse('2026-03-30T12:00:00.000Z') + index * 1000),
    }));
    const outcomes = await hubspot.addTimelineNotes(notes);
    expect(sandbox.stats().totals.calls - before).toBe(1);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    for (const [index, outcome] of outcomes.entries()) {
      const note = await raw.crm.objects.notes.basicApi.getById(outcome.ok ? outcome.id : '', ['hs_note_body'], undefined, ['contacts']);
      expect(note.properties.hs_note_body).toBe(notes[index]?.html);
      expect(note.associations?.contacts?.results.map((association) => association.id)).toEqual([contactIds[index]]);
    }
  });

  it('fails only the note of a deleted contact when HubSpot refuses the batch', async () => {
    const [kept, gone] = await seedContacts(2, 'gone');
    await raw.crm.contacts.basicApi.archive(gone!);
    const outcomes = await hubspot.addTimelineNotes([
      { contactId: kept!, html: '<p>Recycled</p>', at: new Date('2026-03-30T12:00:00.000Z') },
      { contactId: gone!, html: '<p>Rejected</p>', at: new Date('2026-03-30T12:00:01.000Z') },
    ]);
    expect(outcomes[0]).toMatchObject({ ok: true });
    expect(outcomes[1]).toMatchObject({ ok: false });
  });

  it('finds contacts changed since a time, oldest first, one page at a time', async () => {
    await seedContacts(5, 'old');
    clock += 60_000;
    const since = new Date(clock);
    const recent = await seedContacts(120, 'recent');
    clock += 60_000;
    await hubspot.updateContacts([{ id: recent[0]!, properties: { jobtitle: 'Touched last' } }]);

    const first = await hubspot.findContactsChangedSince(since, ['email']);
    expect(first.contacts).toHaveLength(100);
    expect(first.after).toBeDefined();
    const second = await hubspot.findContactsChangedSince(since, ['email'], first.after);
    expect(second.contacts).toHaveLength(20);
    expect(second.after).toBeUndefined();

    const all = [...first.contacts, ...second.contacts];
    expect(new Set(all.map((contact) => contact.id))).toEqual(new Set(recent));
    const modified = all.map((contact) => Date.parse(contact.properties.lastmodifieddate ?? ''));
    expect(modified).toEqual([...modified].sort((a, b) => a - b));
    expect(all.at(-1)?.id).toBe(recent[0]);
  });

  it('reads when each property last changed from its history, 50 contacts per call', async () => {
    const created = clock;
    const ids = await seedContacts(60, 'history');
    clock += 90_000;
    await hubspot.updateContacts([{ id: ids[0]!, properties: { jobtitle: 'Changed later' } }]);
    const before = calls('POST /crm/v3/objects/contacts/batch/read');

    const times = await hubspot.readPropertyChangeTimes(ids, ['firstname', 'jobtitle', 'phone']);
    expect(calls('POST /crm/v3/objects/contacts/batch/read') - before).toBe(2);
    expect(times.size).toBe(60);
    expect(times.get(ids[0]!)).toEqual({ firstname: created, jobtitle: clock });
    // A property that never had a value has no change time.
    expect(times.get(ids[1]!)).toEqual({ firstname: created });
  });
});

describe('HubSpot adapter: contact properties', () => {
  const group = { name: 'smarketing', label: 'Smarketing Sync' };
  const definitions: PropertyDefinition[] = [
    { name: 'firstname', label: 'First name', type: 'string', fieldType: 'text' },
    { name: 'salesforce_lead_id', label: 'Salesforce Lead Id', type: 'string', fieldType: 'text', description: 'Set by the sync' },
    { name: 'sales_sla_due_at', label: 'SLA due at', type: 'datetime', fieldType: 'date' },
    {
      name: 'sales_sla_status',
      label: 'SLA status',
      type: 'enumeration',
      fieldType: 'select',
      options: [
        { label: 'Pending', value: 'pending' },
        { label: 'Met', value: 'met' },
        { label: 'Breached', value: 'breached' },
      ],
    },
  ];

  it('lists the missing properties in a dry run and creates nothing', async () => {
    const result = await hubspot.ensureContactProperties(group, definitions, true);
    expect(result).toEqual({ missing: ['salesforce_lead_id', 'sales_sla_due_at', 'sales_sla_status'], created: [] });
    const names = (await raw.crm.properties.coreApi.getAll('contacts')).results.map((property) => property.name);
    expect(names).not.toContain('salesforce_lead_id');
    expect((await raw.crm.properties.groupsApi.getAll('contacts')).results.map((g) => g.name)).not.toContain('smarketing');
  });

  it('creates the group and only the missing properties, and nothing on the second run', async () => {
    const first = await hubspot.ensureContactProperties(group, definitions, false);
    expect(first.created.sort()).toEqual(['sales_sla_due_at', 'sales_sla_status', 'salesforce_lead_id']);
    const status = await raw.crm.properties.coreApi.getByName('contacts', 'sales_sla_status');
    expect(status.groupName).toBe('smarketing');
    expect(status.options.map((option) => option.value)).toEqual(['pending', 'met', 'breached']);
    const firstname = await raw.crm.properties.coreApi.getByName('contacts', 'firstname');
    expect(firstname.groupName).not.toBe('smarketing');

    expect(await hubspot.ensureContactProperties(group, definitions, false)).toEqual({ missing: [], created: [] });
  });
});

describe('HubSpot adapter: failures', () => {
  it('turns an injected 429 into CrmRateLimitedError with a positive retry hint', async () => {
    sandbox.setFaults({ http: [{ path: '/crm/v3/objects/contacts/batch/read', status: 429, count: 1 }] });
    const error = await failureOf(hubspot.readContacts(['1'], ['email']));
    expect(error).toBeInstanceOf(CrmRateLimitedError);
    expect((error as CrmRateLimitedError).retryAfterMs).toBe(10_000);
  });

  it('waits one second after the search API secondly limit', async () => {
    sandbox.setFaults({ http: [{ path: '/crm/v3/objects/contacts/search', status: 429, policyName: 'SECONDLY', count: 1 }] });
    const error = await failureOf(hubspot.findContactsChangedSince(new Date(0), ['email']));
    expect(error).toBeInstanceOf(CrmRateLimitedError);
    expect((error as CrmRateLimitedError).retryAfterMs).toBe(1_000);
  });

  it('turns a 5xx into CrmTransientError with the status', async () => {
    sandbox.setFaults({ http: [{ path: '/crm/v3/objects/contacts/batch/upsert', status: 503, count: 1 }] });
    const error = await failureOf(hubspot.upsertContactsByEmail([{ email: 'x@example.com', properties: {} }]));
    expect(error).toBeInstanceOf(CrmTransientError);
    expect((error as CrmTransientError).status).toBe(503);
  });

  it('turns a refused connection into CrmTransientError', async () => {
    // A port that was just free: nothing listens there, so the connection is refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const offline = createHubSpotAdapter({ accessToken: TOKEN, basePath: `http://127.0.0.1:${port}` });
    expect(await failureOf(offline.readContacts(['1'], []))).toBeInstanceOf(CrmTransientError);
  });

  it('turns a 401 into CrmAuthError without the token in the message', async () => {
    const secret = 'pat-na1-11111111-2222-3333-4444-555555555555';
    const wrong = createHubSpotAdapter({ accessToken: secret, basePath: sandbox.url });
    const error = await failureOf(wrong.readContacts(['1'], []));
    expect(error).toBeInstanceOf(CrmAuthError);
    expect((error as Error).message).not.toContain(secret);
  });

  it('throws CrmRejectedError when a refused batch names nothing it can pin on an input', async () => {
    const [a, b] = await seedContacts(2);
    // Two contacts cannot share an email (409 CONFLICT names a record, not an input property).
    const error = await failureOf(
      hubspot.updateContacts([
        { id: a!, properties: { email: 'same@example.com' } },
        { id: b!, properties: { email: 'same@example.com' } },
      ]),
    );
    expect(error).toBeInstanceOf(CrmRejectedError);
    expect((error as CrmRejectedError).status).toBe(409);
  });
});

describe('HubSpot adapter: pacing and tokens', () => {
  it('asks the limiter before every request, keyed by portal', async () => {
    const keys: string[] = [];
    const limiter: RequestLimiter = { acquire: async (key) => void keys.push(key) };
    const paced = createHubSpotAdapter({ accessToken: TOKEN, basePath: sandbox.url, limiter, portalId: PORTAL_ID });
    await paced.readContacts(
      Array.from({ length: 101 }, (_, index) => String(index + 1)),
      [],
    );
    expect(keys).toEqual(['hubspot:1000001', 'hubspot:1000001']);
  });

  it('calls a token function for each request', async () => {
    let asked = 0;
    const oauth = createHubSpotAdapter({
      accessToken: async () => {
        asked += 1;
        return TOKEN;
      },
      basePath: sandbox.url,
    });
    await oauth.readContacts(['1'], []);
    await oauth.findContactsChangedSince(new Date(0), []);
    expect(asked).toBe(2);
  });
});

describe('HubSpot adapter in the running app', () => {
  let h: SyncHarness;

  beforeAll(async () => {
    h = await startSyncHarness();
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const batchUpdates = () => h.hubspotSandbox.stats().endpoints['POST /crm/v3/objects/contacts/batch/update'] ?? 0;

  /** Resolves once no contact write has reached HubSpot for one polling interval. */
  async function writesSettled(): Promise<void> {
    let last = -1;
    await eventually(
      async () => {
        const now = batchUpdates();
        const settled = now === last;
        last = now;
        return settled;
      },
      20_000,
      'the contact writes to settle',
      500,
    );
  }

  it('logs the stage HubSpot kept when a marketer made the contact a customer while the SQL write was on its way', async () => {
    const { contactId, lead } = await h.handOff();
    await eventually(async () => (await h.contact(contactId)).salesforce_lead_id === lead.Id, 20_000, 'the handoff stamped on the contact');
    await writesSettled();
    // The app's next contact write is slow to reach HubSpot (the sandbox holds it); a marketer's edit
    // lands meanwhile, so the app's SQL is a move to an earlier stage by the time HubSpot applies it.
    h.hubspotSandbox.setFaults({ http: [{ method: 'POST', path: '/crm/v3/objects/contacts/batch/update', delayMs: 4_000, count: 1 }] });
    try {
      await h.rep.sobject('Lead').update({ Id: lead.Id, Status: 'Working - Contacted' });
      await eventually(async () => h.hubspotSandbox.faults().counters.httpDelayed === 1, 20_000, 'the SQL write on its way', 20);
      h.hubspotSandbox.editInUi('contacts', contactId, { lifecyclestage: 'customer' });

      const ignoredRows = () =>
        h.app.db.query<{ level: string; reason: string; details: { code?: string; fields?: string[] } }>(
          "SELECT level, reason, details FROM sync_log WHERE record_ref = $1 AND action = 'update_hubspot_failed'",
          [`hubspot:contact:${contactId}`],
        );
      await eventually(async () => (await ignoredRows()).length > 0, 20_000, 'the ignored write in the sync log');
      const [row] = await ignoredRows();
      expect(row?.level).toBe('error');
      expect(row?.reason).toContain('WRITE_IGNORED');
      expect(row?.reason).toContain('lifecyclestage is "customer", not the "salesqualifiedlead" that was sent');
      expect(row?.details).toEqual({ code: 'WRITE_IGNORED', fields: ['lifecyclestage'] });

      // The rest of the write landed; the stage is the marketer's; the contact did not move to SQL.
      expect(await h.contact(contactId)).toMatchObject({ lifecyclestage: 'customer', hs_lead_status: 'IN_PROGRESS' });
      const stages = await h.app.db.query<{ stage: string }>('SELECT stage FROM stage_history WHERE hubspot_contact_id = $1', [contactId]);
      expect(stages.map((s) => s.stage)).not.toContain('sql');

      // Logged once: the outcome is final, not retried.
      await writesSettled();
      expect(await ignoredRows()).toHaveLength(1);
    } finally {
      h.hubspotSandbox.clearFaults();
    }
  }, 90_000);
});
