import { describe, expect, it } from 'vitest';
import type { Client } from '@hubspot/api-client';
import { failureOf, sandboxPortalPerTest } from './support-hubspot/sandbox.ts';

const HUBSPOT_DEFINED = 'HUBSPOT_DEFINED' as never;
let hubspot: Client;
sandboxPortalPerTest((_sandbox, client) => {
  hubspot = client;
});

const contact = async (email: string) => (await hubspot.crm.contacts.basicApi.create({ properties: { email }, associations: [] })).id;

describe('HubSpot sandbox properties API', () => {
  it('seeds lifecyclestage and hs_lead_status with their real options in order', async () => {
    const lifecycle = await hubspot.crm.properties.coreApi.getByName('contacts', 'lifecyclestage');
    expect(lifecycle).toMatchObject({ type: 'enumeration', hubspotDefined: true, groupName: 'contactinformation' });
    expect(lifecycle.options.map((option) => option.value)).toEqual([
      'subscriber',
      'lead',
      'marketingqualifiedlead',
      'salesqualifiedlead',
      'opportunity',
      'customer',
      'evangelist',
      'other',
    ]);
    const leadStatus = await hubspot.crm.properties.coreApi.getByName('contacts', 'hs_lead_status');
    expect(leadStatus.options.map((option) => option.value)).toEqual([
      'NEW',
      'OPEN',
      'IN_PROGRESS',
      'OPEN_DEAL',
      'UNQUALIFIED',
      'ATTEMPTED_TO_CONTACT',
      'CONNECTED',
      'BAD_TIMING',
    ]);
    const all = await hubspot.crm.properties.coreApi.getAll('contacts');
    const names = all.results.map((property) => property.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'email',
        'firstname',
        'lastname',
        'company',
        'phone',
        'jobtitle',
        'hubspot_owner_id',
        'hs_analytics_source',
        'recent_conversion_date',
      ]),
    );
    expect(all.results.find((property) => property.name === 'hs_analytics_source_data_1')?.modificationMetadata?.readOnlyValue).toBe(true);
    const deals = await hubspot.crm.properties.coreApi.getAll('deals');
    expect(deals.results.map((property) => property.name)).toEqual(
      expect.arrayContaining(['dealname', 'amount', 'dealstage', 'pipeline', 'closedate']),
    );
  });

  it('creates a property group and custom properties in it, refusing duplicates', async () => {
    const group = await hubspot.crm.properties.groupsApi.create('contacts', { name: 'smarketing', label: 'Smarketing Sync' });
    expect(group).toMatchObject({ name: 'smarketing', label: 'Smarketing Sync', archived: false });
    const created = await hubspot.crm.properties.coreApi.create('contacts', {
      name: 'sales_feedback_reason',
      label: 'Sales feedback reason',
      type: 'enumeration' as never,
      fieldType: 'select' as never,
      groupName: 'smarketing',
      options: [
        { label: 'No budget', value: 'no_budget', hidden: false, displayOrder: 0 },
        { label: 'Bad timing', value: 'bad_timing', hidden: false, displayOrder: 1 },
      ],
    });
    expect(created).toMatchObject({ name: 'sales_feedback_reason', hubspotDefined: false, groupName: 'smarketing' });
    const duplicate = await failureOf(
      hubspot.crm.properties.coreApi.create('contacts', {
        name: 'sales_feedback_reason',
        label: 'Again',
        type: 'string' as never,
        fieldType: 'text' as never,
        groupName: 'smarketing',
      }),
    );
    expect(duplicate.code).toBe(409);
    expect(duplicate.body).toMatchObject({ status: 'error', category: 'OBJECT_ALREADY_EXISTS' });

    const id = await contact('fb@example.com');
    await hubspot.crm.contacts.basicApi.update(id, { properties: { sales_feedback_reason: 'bad_timing' } });
    const wrong = await failureOf(hubspot.crm.contacts.basicApi.update(id, { properties: { sales_feedback_reason: 'too_expensive' } }));
    expect(wrong.body.errors[0]).toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('creates properties in a batch and reports the ones it refused as a 207', async () => {
    const response = await hubspot.crm.properties.batchApi.create('contacts', {
      inputs: [
        {
          name: 'salesforce_lead_id',
          label: 'Salesforce lead id',
          type: 'string' as never,
          fieldType: 'text' as never,
          groupName: 'contactinformation',
          hasUniqueValue: true,
        },
        { name: 'email', label: 'Email again', type: 'string' as never, fieldType: 'text' as never, groupName: 'contactinformation' },
        { name: 'orphan', label: 'Orphan', type: 'string' as never, fieldType: 'text' as never, groupName: 'no_such_group' },
      ],
    });
    expect(response.results.map((property) => property.name)).toEqual(['salesforce_lead_id']);
    expect('errors' in response ? response.errors?.map((error) => error.category) : []).toEqual([
      'OBJECT_ALREADY_EXISTS',
      'VALIDATION_ERROR',
    ]);
    const read = await hubspot.crm.properties.batchApi.read('contacts', { inputs: [{ name: 'salesforce_lead_id' }], archived: false });
    expect(read.results[0]?.hasUniqueValue).toBe(true);
  });

  it('upserts by a custom unique property', async () => {
    await hubspot.crm.properties.coreApi.create('contacts', {
      name: 'salesforce_lead_id',
      label: 'SF lead',
      type: 'string' as never,
      fieldType: 'text' as never,
      groupName: 'contactinformation',
      hasUniqueValue: true,
    });
    const first = await hubspot.crm.contacts.batchApi.upsert({
      inputs: [{ id: '00Q000000000001', idProperty: 'salesforce_lead_id', properties: { email: 'sf@example.com' } }],
    });
    const second = await hubspot.crm.contacts.batchApi.upsert({
      inputs: [{ id: '00Q000000000001', idProperty: 'salesforce_lead_id', properties: { firstname: 'Sam' } }],
    });
    expect(second.results[0]).toMatchObject({ id: first.results[0]?.id, _new: false });
    const notUnique = await failureOf(
      hubspot.crm.contacts.batchApi.upsert({ inputs: [{ id: 'Sam', idProperty: 'firstname', properties: {} }] }),
    );
    expect(notUnique.code).toBe(400);
  });

  it('answers 404 for a property that does not exist', async () => {
    const failure = await failureOf(hubspot.crm.properties.coreApi.getByName('contacts', 'shoe_size'));
    expect(failure.code).toBe(404);
    expect(failure.body.status).toBe('error');
  });
});

describe('HubSpot sandbox associations v4', () => {
  it('associates a contact with a company by label and by default', async () => {
    const contactId = await contact('assoc@example.com');
    const company = await hubspot.crm.companies.basicApi.create({ properties: { name: 'Acme', domain: 'acme.example' }, associations: [] });
    const labelled = await hubspot.crm.associations.v4.basicApi.create('contacts', contactId, 'companies', company.id, [
      { associationCategory: HUBSPOT_DEFINED, associationTypeId: 1 },
    ]);
    expect(labelled).toEqual({
      fromObjectTypeId: '0-1',
      fromObjectId: Number(contactId),
      toObjectTypeId: '0-2',
      toObjectId: Number(company.id),
      labels: ['Primary'],
    });
    const fromCompany = await hubspot.crm.associations.v4.basicApi.getPage('companies', company.id, 'contacts');
    expect(fromCompany.results[0]?.associationTypes.map((type) => type.typeId)).toEqual([2, 280]);

    const other = await hubspot.crm.companies.basicApi.create({ properties: { name: 'Other' }, associations: [] });
    const byDefault = await hubspot.crm.associations.v4.basicApi.createDefault('contacts', contactId, 'companies', other.id);
    expect(byDefault.results[0]?.associationSpec).toEqual({ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 });

    await hubspot.crm.associations.v4.basicApi.archive('contacts', contactId, 'companies', company.id);
    const remaining = await hubspot.crm.associations.v4.basicApi.getPage('contacts', contactId, 'companies');
    expect(remaining.results.map((result) => result.toObjectId)).toEqual([Number(other.id)]);
  });

  it('creates, reads and archives deal-contact associations in batches', async () => {
    const contactIds = [await contact('d1@example.com'), await contact('d2@example.com')];
    const deal = await hubspot.crm.deals.basicApi.create({ properties: { dealname: 'Renewal' }, associations: [] });
    const created = await hubspot.crm.associations.v4.batchApi.create('deals', 'contacts', {
      inputs: contactIds.map((id) => ({
        _from: { id: deal.id },
        to: { id },
        types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 3 }],
      })),
    });
    expect(created.results).toHaveLength(2);
    const read = await hubspot.crm.associations.v4.batchApi.getPage('deals', 'contacts', { inputs: [{ id: deal.id }] });
    expect(read.results[0]?.to.map((target) => target.toObjectId)).toEqual(contactIds.map(Number));
    await hubspot.crm.associations.v4.batchApi.archive('deals', 'contacts', {
      inputs: [{ _from: { id: deal.id }, to: [{ id: contactIds[0] ?? '' }] }],
    });
    const after = await hubspot.crm.associations.v4.basicApi.getPage('contacts', contactIds[1] ?? '', 'deals');
    expect(after.results[0]?.associationTypes[0]?.typeId).toBe(4);
    expect((await hubspot.crm.associations.v4.basicApi.getPage('contacts', contactIds[0] ?? '', 'deals')).results).toEqual([]);
  });

  it('refuses an association type that does not link the two object types', async () => {
    const contactId = await contact('wrong@example.com');
    const deal = await hubspot.crm.deals.basicApi.create({ properties: { dealname: 'D' }, associations: [] });
    const failure = await failureOf(
      hubspot.crm.associations.v4.basicApi.create('contacts', contactId, 'deals', deal.id, [
        { associationCategory: HUBSPOT_DEFINED, associationTypeId: 202 },
      ]),
    );
    expect(failure.code).toBe(400);
    expect(failure.body.errors[0].code).toBe('INVALID_ASSOCIATION_TYPE');
  });

  it('answers 404 when associating a record that does not exist', async () => {
    const contactId = await contact('ghost@example.com');
    const failure = await failureOf(hubspot.crm.associations.v4.basicApi.createDefault('contacts', contactId, 'companies', '987654'));
    expect(failure.code).toBe(404);
  });
});
