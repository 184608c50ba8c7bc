/**
 * HubSpot companies in the sandbox portal through the real @hubspot/api-client, as the revenue
 * loop uses them: customer value properties created on contacts and companies in the app's
 * group, written with a batch update, the contact↔company associations read in batch, and the
 * company size properties segments come from.
 */
import { describe, expect, it } from 'vitest';
import type { Client } from '@hubspot/api-client';
import { failureOf, sandboxPortalPerTest } from './support-hubspot/sandbox.ts';

const HUBSPOT_DEFINED = 'HUBSPOT_DEFINED' as never;
let hubspot: Client;
sandboxPortalPerTest((_sandbox, client) => {
  hubspot = client;
});

/** The customer value properties, created the way the app creates its properties. */
async function createCustomerValueProperties(objectType: 'contacts' | 'companies'): Promise<void> {
  await hubspot.crm.properties.groupsApi.create(objectType, { name: 'smarketing', label: 'Smarketing Sync' });
  await hubspot.crm.properties.coreApi.create(objectType, {
    name: 'customer_lifetime_value',
    label: 'Customer lifetime value',
    type: 'number' as never,
    fieldType: 'number' as never,
    groupName: 'smarketing',
  });
  await hubspot.crm.properties.coreApi.create(objectType, {
    name: 'customer_first_won_at',
    label: 'Customer since',
    type: 'datetime' as never,
    fieldType: 'date' as never,
    groupName: 'smarketing',
  });
  await hubspot.crm.properties.coreApi.create(objectType, {
    name: 'customer_deals_won',
    label: 'Deals won',
    type: 'number' as never,
    fieldType: 'number' as never,
    groupName: 'smarketing',
  });
}

describe('HubSpot sandbox companies', () => {
  it('take the customer value properties in the app group and a batch update of them', async () => {
    await createCustomerValueProperties('companies');
    const property = await hubspot.crm.properties.coreApi.getByName('companies', 'customer_lifetime_value');
    expect(property).toMatchObject({ name: 'customer_lifetime_value', type: 'number', groupName: 'smarketing' });

    const acme = await hubspot.crm.companies.basicApi.create({
      properties: { name: 'Acme', domain: 'acme.example', numberofemployees: '250', annualrevenue: '30000000' },
      associations: [],
    });
    const globex = await hubspot.crm.companies.basicApi.create({ properties: { name: 'Globex' }, associations: [] });
    const updated = await hubspot.crm.companies.batchApi.update({
      inputs: [
        {
          id: acme.id,
          properties: { customer_lifetime_value: '48000', customer_first_won_at: '2026-08-15T00:00:00.000Z', customer_deals_won: '2' },
        },
        { id: globex.id, properties: { customer_lifetime_value: '12500.5', customer_deals_won: '1' } },
      ],
    });
    expect(updated.status).toBe('COMPLETE');
    const read = await hubspot.crm.companies.batchApi.read({
      inputs: [{ id: acme.id }, { id: globex.id }],
      properties: ['customer_lifetime_value', 'customer_first_won_at', 'customer_deals_won', 'numberofemployees', 'annualrevenue'],
      propertiesWithHistory: [],
    });
    const byId = new Map(read.results.map((r) => [r.id, r.properties]));
    expect(byId.get(acme.id)).toMatchObject({
      customer_lifetime_value: '48000',
      customer_first_won_at: '2026-08-15T00:00:00.000Z',
      customer_deals_won: '2',
      numberofemployees: '250',
      annualrevenue: '30000000',
    });
    expect(byId.get(globex.id)).toMatchObject({ customer_lifetime_value: '12500.5', customer_deals_won: '1', numberofemployees: null });
  });

  it('refuse a customer value property that was never created', async () => {
    const acme = await hubspot.crm.companies.basicApi.create({ properties: { name: 'Acme' }, associations: [] });
    const failure = await failureOf(
      hubspot.crm.companies.batchApi.update({ inputs: [{ id: acme.id, properties: { customer_lifetime_value: '1' } }] }),
    );
    expect(failure.code).toBe(400);
    expect(failure.body).toMatchObject({ category: 'VALIDATION_ERROR' });
  });

  it('are found by size through search', async () => {
    await hubspot.crm.companies.basicApi.create({ properties: { name: 'Small', numberofemployees: '12' }, associations: [] });
    const mid = await hubspot.crm.companies.basicApi.create({
      properties: { name: 'Mid', numberofemployees: '400', annualrevenue: '45000000' },
      associations: [],
    });
    const found = await hubspot.crm.companies.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'numberofemployees', operator: 'GTE' as never, value: '200' }] }],
      properties: ['name', 'numberofemployees', 'annualrevenue'],
      limit: 10,
      after: '0',
      sorts: [],
    });
    expect(found.results.map((r) => [r.id, r.properties.numberofemployees, r.properties.annualrevenue])).toEqual([
      [mid.id, '400', '45000000'],
    ]);
  });

  it('are read from their contacts through a batch of v4 associations, with the default and the labelled type', async () => {
    const acme = await hubspot.crm.companies.basicApi.create({ properties: { name: 'Acme' }, associations: [] });
    const ada = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'ada@acme.example' }, associations: [] });
    const bob = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'bob@acme.example' }, associations: [] });
    const loner = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'solo@example.com' }, associations: [] });
    await hubspot.crm.associations.v4.basicApi.createDefault('contacts', ada.id, 'companies', acme.id);
    await hubspot.crm.associations.v4.basicApi.create('contacts', bob.id, 'companies', acme.id, [
      { associationCategory: HUBSPOT_DEFINED, associationTypeId: 1 },
    ]);

    const page = await hubspot.crm.associations.v4.batchApi.getPage('contacts', 'companies', {
      inputs: [{ id: ada.id }, { id: bob.id }, { id: loner.id }],
    });
    const companiesOf = new Map(
      page.results.map((r) => [r._from.id, r.to.map((t) => [t.toObjectId, t.associationTypes.map((a) => a.typeId)])]),
    );
    expect(companiesOf.get(ada.id)).toEqual([[Number(acme.id), [279]]]);
    expect(companiesOf.get(bob.id)).toEqual([[Number(acme.id), expect.arrayContaining([1, 279])]]);
    // A contact without a company is an error entry, not an empty result.
    expect(companiesOf.has(loner.id)).toBe(false);
    const { errors } = page as typeof page & {
      errors?: Array<{ category: string; subCategory?: string; message: string; context: Record<string, string[]> }>;
    };
    expect(errors).toEqual([
      expect.objectContaining({
        category: 'OBJECT_NOT_FOUND',
        subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
        message: `No company is associated with contact ${loner.id}.`,
        context: { fromObjectId: [loner.id], fromObjectType: ['contact'], toObjectType: ['company'] },
      }),
    ]);
  });
});

describe('HubSpot sandbox contacts', () => {
  it('take the same customer value properties in the app group', async () => {
    await createCustomerValueProperties('contacts');
    const ada = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'ada@acme.example' }, associations: [] });
    await hubspot.crm.contacts.batchApi.update({
      inputs: [{ id: ada.id, properties: { customer_lifetime_value: '48000', customer_deals_won: '2' } }],
    });
    const read = await hubspot.crm.contacts.basicApi.getById(ada.id, ['customer_lifetime_value', 'customer_deals_won']);
    expect(read.properties).toMatchObject({ customer_lifetime_value: '48000', customer_deals_won: '2' });
  });
});
