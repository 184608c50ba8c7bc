import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Client } from '@hubspot/api-client';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import { APP_ID, PRIVATE_APP_TOKEN, clientFor, failureOf, rawJson, startSandbox } from './support-hubspot/sandbox.ts';
import type { LooseJson } from './support-hubspot/sandbox.ts';

const HUBSPOT_DEFINED = 'HUBSPOT_DEFINED' as never;
let clock = Date.parse('2026-03-01T09:00:00.000Z');
let sandbox: HubSpotSandbox;
let hubspot: Client;

beforeAll(async () => {
  sandbox = await startSandbox({ now: () => clock });
  hubspot = clientFor(sandbox);
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  await sandbox.reset();
});

function propertyErrors(body: LooseJson): { name: string; error: string; message: string }[] {
  expect(body.status).toBe('error');
  expect(body.category).toBe('VALIDATION_ERROR');
  expect(typeof body.correlationId).toBe('string');
  const prefix = 'Property values were not valid: ';
  expect(body.message.startsWith(prefix)).toBe(true);
  return JSON.parse(body.message.slice(prefix.length)) as { name: string; error: string; message: string }[];
}

describe('HubSpot sandbox CRM objects', () => {
  it('creates a contact and reads it back in the SimplePublicObject shape', async () => {
    const created = await hubspot.crm.contacts.basicApi.create({
      properties: { email: 'ada@example.com', firstname: 'Ada' },
      associations: [],
    });
    expect(created.id).toMatch(/^\d+$/);
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.properties).toMatchObject({
      email: 'ada@example.com',
      firstname: 'Ada',
      hs_object_id: created.id,
      createdate: '2026-03-01T09:00:00.000Z',
    });

    const read = await hubspot.crm.contacts.basicApi.getById(created.id);
    expect(read.properties).toEqual({
      createdate: '2026-03-01T09:00:00.000Z',
      email: 'ada@example.com',
      firstname: 'Ada',
      hs_object_id: created.id,
      lastmodifieddate: '2026-03-01T09:00:00.000Z',
      lastname: null,
    });
    expect(read.archived).toBe(false);
  });

  it('maintains createdate, lastmodifieddate and hs_object_id as ISO strings', async () => {
    const created = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'clock@example.com' }, associations: [] });
    clock += 60_000;
    const updated = await hubspot.crm.contacts.basicApi.update(created.id, { properties: { jobtitle: 'CTO' } });
    expect(updated.properties.createdate).toBe(new Date(clock - 60_000).toISOString());
    expect(updated.properties.lastmodifieddate).toBe(new Date(clock).toISOString());
    expect(updated.updatedAt.toISOString()).toBe(new Date(clock).toISOString());
  });

  it('lists contacts page by page with after cursors', async () => {
    const inputs = Array.from({ length: 25 }, (_, i) => ({ properties: { email: `p${i}@example.com` }, associations: [] }));
    await hubspot.crm.contacts.batchApi.create({ inputs });
    const first = await hubspot.crm.contacts.basicApi.getPage(10, undefined, ['email']);
    expect(first.results).toHaveLength(10);
    expect(first.paging?.next?.after).toBeDefined();
    const second = await hubspot.crm.contacts.basicApi.getPage(10, first.paging?.next?.after, ['email']);
    expect(second.results[0]?.properties.email).toBe('p10@example.com');
    const all = await hubspot.crm.contacts.getAll(10);
    expect(all.map((contact) => contact.properties.email)).toEqual(inputs.map((input) => input.properties.email));
  });

  it('reads a batch and reports missing ids as a 207 with OBJECT_NOT_FOUND', async () => {
    const created = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'batch@example.com' }, associations: [] });
    const response = await hubspot.crm.contacts.batchApi.read({
      inputs: [{ id: created.id }, { id: '999999' }],
      properties: ['email'],
      propertiesWithHistory: [],
    });
    expect(response.results.map((result) => result.properties.email)).toEqual(['batch@example.com']);
    expect('errors' in response && response.errors?.[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['999999'] } });
    const byEmail = await hubspot.crm.contacts.batchApi.read({
      inputs: [{ id: 'BATCH@example.com' }],
      idProperty: 'email',
      properties: [],
      propertiesWithHistory: [],
    });
    expect(byEmail.results[0]?.id).toBe(created.id);
  });

  it('updates and archives contacts in batches', async () => {
    const { results } = await hubspot.crm.contacts.batchApi.create({
      inputs: [
        { properties: { email: 'u1@example.com' }, associations: [] },
        { properties: { email: 'u2@example.com' }, associations: [] },
      ],
    });
    const ids = results.map((result) => result.id);
    const updated = await hubspot.crm.contacts.batchApi.update({
      inputs: ids.map((id) => ({ id, properties: { hs_lead_status: 'OPEN' } })),
    });
    expect(updated.results.map((result) => result.properties.hs_lead_status)).toEqual(['OPEN', 'OPEN']);
    await hubspot.crm.contacts.batchApi.archive({ inputs: ids.map((id) => ({ id })) });
    const missing = await failureOf(hubspot.crm.contacts.basicApi.getById(ids[0] ?? ''));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
      message: 'Object not found.  objectId are usually numeric.',
    });
    const archived = await hubspot.crm.contacts.basicApi.getById(ids[0] ?? '', undefined, undefined, undefined, true);
    expect(archived.archived).toBe(true);
  });

  it('upserts contacts by email and reports which ones were new', async () => {
    const existing = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'known@example.com' }, associations: [] });
    const response = await hubspot.crm.contacts.batchApi.upsert({
      inputs: [
        { id: 'known@example.com', idProperty: 'email', properties: { lastname: 'Known' } },
        { id: 'fresh@example.com', idProperty: 'email', properties: { lastname: 'Fresh' } },
      ],
    });
    const [known, fresh] = response.results;
    expect(known).toMatchObject({ id: existing.id, _new: false });
    expect(fresh?._new).toBe(true);
    expect(fresh?.properties.email).toBe('fresh@example.com');
  });

  it('refuses a batch of more than 100 inputs', async () => {
    const inputs = Array.from({ length: 101 }, (_, i) => ({ properties: { email: `many${i}@example.com` }, associations: [] }));
    const failure = await failureOf(hubspot.crm.contacts.batchApi.create({ inputs }));
    expect(failure.code).toBe(400);
    expect(failure.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    expect(failure.body.message).toContain('100');
    expect((await hubspot.crm.contacts.basicApi.getPage()).results).toHaveLength(0);
  });

  it('refuses a batch read of more than 50 inputs that asks for property history', async () => {
    const inputs = Array.from({ length: 51 }, (_, i) => ({ id: String(1000 + i) }));
    const failure = await failureOf(
      hubspot.crm.contacts.batchApi.read({ inputs, properties: [], propertiesWithHistory: ['lifecyclestage'] }),
    );
    expect(failure.code).toBe(400);
    expect(failure.body).toMatchObject({
      category: 'VALIDATION_ERROR',
      message: expect.stringContaining('property histories is 50') as unknown,
    });
    // Without history the same batch is fine (ids it does not know are a 207).
    await expect(hubspot.crm.contacts.batchApi.read({ inputs, properties: [], propertiesWithHistory: [] })).resolves.toBeDefined();
  });

  it('refuses a second contact with the same email with 409 CONFLICT', async () => {
    const first = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'dup@example.com' }, associations: [] });
    const failure = await failureOf(hubspot.crm.contacts.basicApi.create({ properties: { email: 'DUP@example.com' }, associations: [] }));
    expect(failure.code).toBe(409);
    expect(failure.body).toMatchObject({
      status: 'error',
      category: 'CONFLICT',
      message: `Contact already exists. Existing ID: ${first.id}`,
    });
  });

  it('refuses an unknown property with the PROPERTY_DOESNT_EXIST validation error', async () => {
    const failure = await failureOf(
      hubspot.crm.contacts.basicApi.create({ properties: { email: 'x@example.com', favourite_colour: 'teal' }, associations: [] }),
    );
    expect(failure.code).toBe(400);
    expect(propertyErrors(failure.body)).toEqual([
      {
        isValid: false,
        message: 'Property "favourite_colour" does not exist',
        error: 'PROPERTY_DOESNT_EXIST',
        name: 'favourite_colour',
        localizedErrorMessage: 'Property "favourite_colour" does not exist',
        portalId: 1_000_001,
      },
    ]);
    expect((await hubspot.crm.contacts.basicApi.getPage()).results).toHaveLength(0);
  });

  it('refuses writes to the calculated analytics properties', async () => {
    const readOnly = [
      'hs_analytics_source_data_1',
      'hs_analytics_source_data_2',
      'hs_analytics_first_url',
      'hs_analytics_first_referrer',
      'hs_analytics_first_timestamp',
      'hs_latest_source',
      'hs_latest_source_data_1',
      'hs_latest_source_data_2',
      'hs_latest_source_timestamp',
      'hs_analytics_last_url',
      'first_conversion_event_name',
      'recent_conversion_event_name',
      'first_conversion_date',
      'recent_conversion_date',
    ];
    const contact = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'ro@example.com' }, associations: [] });
    const failure = await failureOf(
      hubspot.crm.contacts.basicApi.update(contact.id, { properties: Object.fromEntries(readOnly.map((name) => [name, 'x'])) }),
    );
    const errors = propertyErrors(failure.body);
    expect(errors.map((error) => error.name)).toEqual(readOnly);
    expect(new Set(errors.map((error) => error.error))).toEqual(new Set(['READ_ONLY_VALUE']));
    expect(errors[0]?.message).toBe('"hs_analytics_source_data_1" is a read only property; its value cannot be set.');
  });

  it('checks enumeration values such as hs_lead_status', async () => {
    const contact = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'enum@example.com' }, associations: [] });
    for (const status of ['NEW', 'OPEN', 'IN_PROGRESS', 'OPEN_DEAL', 'UNQUALIFIED', 'ATTEMPTED_TO_CONTACT', 'CONNECTED', 'BAD_TIMING']) {
      const updated = await hubspot.crm.contacts.basicApi.update(contact.id, { properties: { hs_lead_status: status } });
      expect(updated.properties.hs_lead_status).toBe(status);
    }
    const failure = await failureOf(hubspot.crm.contacts.basicApi.update(contact.id, { properties: { hs_lead_status: 'MAYBE' } }));
    expect(propertyErrors(failure.body)[0]).toMatchObject({ name: 'hs_lead_status', error: 'INVALID_OPTION' });
  });

  // HubSpot answers a backward lifecycle write with success and keeps the stage (docs/reference/hubspot-api.md §3.1).
  it('ignores a move of lifecyclestage to an earlier stage, answering 200 with the stage it kept', async () => {
    const contact = await hubspot.crm.contacts.basicApi.create({
      properties: { email: 'stage@example.com', lifecyclestage: 'salesqualifiedlead' },
      associations: [],
    });
    clock += 1000;
    const answer = await hubspot.crm.contacts.basicApi.update(contact.id, { properties: { lifecyclestage: 'lead', jobtitle: 'CTO' } });
    expect(answer.properties).toMatchObject({ lifecyclestage: 'salesqualifiedlead', jobtitle: 'CTO' });
    const read = await hubspot.crm.contacts.basicApi.getById(contact.id, ['lifecyclestage'], ['lifecyclestage']);
    expect(read.properties.lifecyclestage).toBe('salesqualifiedlead');
    expect(read.propertiesWithHistory?.lifecyclestage?.map((version) => version.value)).toEqual(['salesqualifiedlead']);
    const forward = await hubspot.crm.contacts.basicApi.update(contact.id, { properties: { lifecyclestage: 'opportunity' } });
    expect(forward.properties.lifecyclestage).toBe('opportunity');
  });

  it('ignores a backward lifecyclestage in a batch update and writes the other inputs, all in one 200', async () => {
    const { results } = await hubspot.crm.contacts.batchApi.create({
      inputs: [
        { properties: { email: 'won@example.com', lifecyclestage: 'customer' }, associations: [] },
        { properties: { email: 'new@example.com', lifecyclestage: 'lead' }, associations: [] },
      ],
    });
    const [won, fresh] = results.sort((a, b) => Number(a.id) - Number(b.id));
    const response = await rawJson(
      sandbox,
      'POST',
      '/crm/v3/objects/contacts/batch/update',
      {
        inputs: [
          { id: won?.id, properties: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' } },
          { id: fresh?.id, properties: { lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' } },
        ],
      },
      { Authorization: `Bearer ${PRIVATE_APP_TOKEN}` },
    );
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    const byId = new Map((response.body.results as LooseJson[]).map((result) => [result.id, result.properties]));
    expect(byId.get(won?.id)).toMatchObject({ lifecyclestage: 'customer', hs_lead_status: 'IN_PROGRESS' });
    expect(byId.get(fresh?.id)).toMatchObject({ lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'IN_PROGRESS' });
  });

  it('ignores a backward lifecyclestage when a batch upsert updates an existing contact', async () => {
    await hubspot.crm.contacts.basicApi.create({
      properties: { email: 'kept@example.com', lifecyclestage: 'opportunity' },
      associations: [],
    });
    const answer = await hubspot.crm.contacts.batchApi.upsert({
      inputs: [{ id: 'kept@example.com', idProperty: 'email', properties: { lifecyclestage: 'marketingqualifiedlead', firstname: 'Kim' } }],
    });
    expect(answer.results[0]).toMatchObject({ _new: false, properties: { lifecyclestage: 'opportunity', firstname: 'Kim' } });
  });

  it('moves lifecyclestage back once it has been cleared to an empty string', async () => {
    const contact = await hubspot.crm.contacts.basicApi.create({
      properties: { email: 'recycle@example.com', lifecyclestage: 'customer' },
      associations: [],
    });
    const cleared = await hubspot.crm.contacts.basicApi.update(contact.id, { properties: { lifecyclestage: '' } });
    expect(cleared.properties.lifecyclestage).toBeNull();
    const recycled = await hubspot.crm.contacts.basicApi.update(contact.id, { properties: { lifecyclestage: 'lead' } });
    expect(recycled.properties.lifecyclestage).toBe('lead');
  });

  it('lets a HubSpot UI edit move lifecyclestage backwards and records it as CRM_UI', async () => {
    const contact = await hubspot.crm.contacts.basicApi.create({
      properties: { email: 'ui@example.com', lifecyclestage: 'opportunity' },
      associations: [],
    });
    clock += 1000;
    sandbox.editInUi('contacts', contact.id, { lifecyclestage: 'lead' }, 42);
    const read = await hubspot.crm.contacts.basicApi.getById(
      contact.id,
      ['lifecyclestage'],
      ['lifecyclestage', 'hs_lifecyclestage_opportunity_date'],
    );
    expect(read.properties.lifecyclestage).toBe('lead');
    const history = read.propertiesWithHistory?.lifecyclestage ?? [];
    expect(history.map((version) => [version.value, version.sourceType, version.sourceId])).toEqual([
      ['lead', 'CRM_UI', 'userId:42'],
      ['opportunity', 'INTEGRATION', String(APP_ID)],
    ]);
    expect(history[0]?.updatedByUserId).toBe(42);
    expect(read.propertiesWithHistory?.hs_lifecyclestage_opportunity_date?.[0]?.sourceType).toBe('CALCULATED');
  });

  it('creates a timeline note associated with its contact in the create body', async () => {
    const contact = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'note@example.com' }, associations: [] });
    const note = await hubspot.crm.objects.notes.basicApi.create({
      properties: { hs_timestamp: String(clock), hs_note_body: '<p>Rejected: bad timing</p>' },
      associations: [{ to: { id: contact.id }, types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 202 }] }],
    });
    expect(note.properties.hs_timestamp).toBe(new Date(clock).toISOString());
    const fromContact = await hubspot.crm.associations.v4.basicApi.getPage('contacts', contact.id, 'notes');
    expect(fromContact.results).toEqual([
      { toObjectId: Number(note.id), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 201, label: null }] },
    ]);
    const withAssociations = await hubspot.crm.contacts.basicApi.getById(contact.id, undefined, undefined, ['notes']);
    expect(withAssociations.associations?.notes?.results).toEqual([{ id: note.id, type: 'contact_to_note' }]);
  });

  it('requires hs_timestamp on notes', async () => {
    const failure = await failureOf(
      hubspot.crm.objects.notes.basicApi.create({ properties: { hs_note_body: 'no time' }, associations: [] }),
    );
    expect(propertyErrors(failure.body)[0]).toMatchObject({ name: 'hs_timestamp', error: 'REQUIRED_PROPERTY' });
  });

  it('creates deals with checked stages and links them to contacts', async () => {
    const contact = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'buyer@example.com' }, associations: [] });
    const wrongStage = await failureOf(
      hubspot.crm.deals.basicApi.create({ properties: { dealname: 'X', dealstage: 'won' }, associations: [] }),
    );
    expect(propertyErrors(wrongStage.body)[0]).toMatchObject({ name: 'dealstage', error: 'INVALID_OPTION' });
    const deal = await hubspot.crm.deals.basicApi.create({
      properties: {
        dealname: 'Big deal',
        amount: '1200.50',
        dealstage: 'closedwon',
        pipeline: 'default',
        closedate: '2026-03-15T00:00:00Z',
      },
      associations: [{ to: { id: contact.id }, types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 3 }] }],
    });
    expect(deal.properties).toMatchObject({ amount: '1200.5', closedate: '2026-03-15T00:00:00.000Z' });
    const read = await hubspot.crm.deals.basicApi.getById(deal.id, undefined, undefined, ['contacts']);
    expect(Object.keys(read.properties).sort()).toEqual([
      'amount',
      'closedate',
      'createdate',
      'dealname',
      'dealstage',
      'hs_lastmodifieddate',
      'hs_object_id',
      'pipeline',
    ]);
    expect(read.associations?.contacts?.results).toEqual([{ id: contact.id, type: 'deal_to_contact' }]);
  });

  it('refuses a body that does not match the model with a VALIDATION_ERROR listing the issues', async () => {
    const response = await rawJson(
      sandbox,
      'POST',
      '/crm/v3/objects/contacts',
      { properties: 'email=a@b.c' },
      { Authorization: 'Bearer pat-sandbox-hubspot' },
    );
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      status: 'error',
      category: 'VALIDATION_ERROR',
      errors: [{ in: 'properties', code: 'INVALID_INPUT' }],
    });
    const malformed = await fetch(`${sandbox.url}/crm/v3/objects/contacts`, {
      method: 'POST',
      headers: { Authorization: 'Bearer pat-sandbox-hubspot', 'Content-Type': 'application/json' },
      body: '{"properties":',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ category: 'VALIDATION_ERROR' });
  });

  it('deletes a contact for good through the GDPR endpoint', async () => {
    const contact = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'gdpr@example.com' }, associations: [] });
    await hubspot.crm.contacts.basicApi.purge({ objectId: 'gdpr@example.com', idProperty: 'email' });
    expect((await failureOf(hubspot.crm.contacts.basicApi.getById(contact.id, undefined, undefined, undefined, true))).code).toBe(404);
    const again = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'gdpr@example.com' }, associations: [] });
    expect(again.id).not.toBe(contact.id);
  });
});
