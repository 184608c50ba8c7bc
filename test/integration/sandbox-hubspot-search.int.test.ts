import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@hubspot/api-client';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import { clientFor, failureOf, startSandbox } from './support-hubspot/sandbox.ts';

type Operator =
  'EQ' | 'NEQ' | 'LT' | 'LTE' | 'GT' | 'GTE' | 'BETWEEN' | 'IN' | 'NOT_IN' | 'HAS_PROPERTY' | 'NOT_HAS_PROPERTY' | 'CONTAINS_TOKEN';
interface FilterSpec {
  propertyName: string;
  operator: Operator;
  value?: string;
  highValue?: string;
  values?: string[];
}

let sandbox: HubSpotSandbox;
let hubspot: Client;
const STATUSES = ['NEW', 'OPEN', 'IN_PROGRESS'];

beforeAll(async () => {
  // Searches are limited per second; this suite is about results, so the limit is raised.
  sandbox = await startSandbox({ rateLimit: { requests: 1000, windowMs: 10_000, searchPerSecond: 1000 } });
  hubspot = clientFor(sandbox);
  await hubspot.crm.properties.coreApi.create('contacts', {
    name: 'lead_score',
    label: 'Lead score',
    type: 'number' as never,
    fieldType: 'number' as never,
    groupName: 'contactinformation',
  });
  const inputs = Array.from({ length: 30 }, (_, i) => ({
    properties: {
      email: `person${i}@${i % 2 === 0 ? 'even' : 'odd'}.example.com`,
      firstname: `Person ${i}`,
      lead_score: String(i * 10),
      hs_lead_status: STATUSES[i % 3] ?? 'NEW',
      ...(i < 5 ? { jobtitle: 'Head of Marketing' } : {}),
    },
    associations: [],
  }));
  await hubspot.crm.contacts.batchApi.create({ inputs });
});
afterAll(async () => {
  await sandbox.close();
});

async function search(filters: FilterSpec[][], extra: { sorts?: string[]; limit?: number; after?: string; query?: string } = {}) {
  return hubspot.crm.contacts.searchApi.doSearch({
    filterGroups: filters.map((group) => ({ filters: group as never })),
    sorts: extra.sorts ?? [],
    properties: ['email', 'lead_score', 'hs_lead_status'],
    limit: extra.limit ?? 100,
    ...(extra.after === undefined ? {} : { after: extra.after }),
    ...(extra.query === undefined ? {} : { query: extra.query }),
  });
}

const scores = (response: Awaited<ReturnType<typeof search>>) => response.results.map((result) => Number(result.properties.lead_score));

describe('HubSpot sandbox search', () => {
  it('matches EQ case-insensitively and NEQ on everything else', async () => {
    expect((await search([[{ propertyName: 'email', operator: 'EQ', value: 'PERSON3@odd.example.com' }]])).total).toBe(1);
    expect((await search([[{ propertyName: 'email', operator: 'NEQ', value: 'person3@odd.example.com' }]])).total).toBe(29);
  });

  it('compares numbers numerically with GT, GTE, LT, LTE and BETWEEN', async () => {
    expect(scores(await search([[{ propertyName: 'lead_score', operator: 'GT', value: '250' }]]))).toEqual([260, 270, 280, 290]);
    expect((await search([[{ propertyName: 'lead_score', operator: 'GTE', value: '250' }]])).total).toBe(5);
    expect(scores(await search([[{ propertyName: 'lead_score', operator: 'LT', value: '20' }]]))).toEqual([0, 10]);
    expect((await search([[{ propertyName: 'lead_score', operator: 'LTE', value: '20' }]])).total).toBe(3);
    expect(scores(await search([[{ propertyName: 'lead_score', operator: 'BETWEEN', value: '95', highValue: '120' }]]))).toEqual([
      100, 110, 120,
    ]);
  });

  it('filters enumerations with IN and NOT_IN', async () => {
    expect((await search([[{ propertyName: 'hs_lead_status', operator: 'IN', values: ['NEW', 'OPEN'] }]])).total).toBe(20);
    expect((await search([[{ propertyName: 'hs_lead_status', operator: 'NOT_IN', values: ['NEW', 'OPEN'] }]])).total).toBe(10);
  });

  it('tells records with and without a value apart with HAS_PROPERTY and NOT_HAS_PROPERTY', async () => {
    expect((await search([[{ propertyName: 'jobtitle', operator: 'HAS_PROPERTY' }]])).total).toBe(5);
    expect((await search([[{ propertyName: 'jobtitle', operator: 'NOT_HAS_PROPERTY' }]])).total).toBe(25);
  });

  it('ANDs filters inside a group and ORs the groups', async () => {
    const response = await search([
      [
        { propertyName: 'hs_lead_status', operator: 'EQ', value: 'OPEN' },
        { propertyName: 'lead_score', operator: 'LT', value: '100' },
      ],
      [{ propertyName: 'lead_score', operator: 'EQ', value: '290' }],
    ]);
    expect(scores(response)).toEqual([10, 40, 70, 290]);
  });

  it('matches tokens and free-text queries', async () => {
    expect((await search([[{ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: 'even' }]])).total).toBe(15);
    expect((await search([], { query: 'person 2' })).total).toBe(11);
  });

  // The search API documents sorts as `{ propertyName, direction }`; @hubspot/api-client's README
  // also shows the string form, `"name"` ascending and `"-name"` descending. The client types sorts
  // as string[] (HubSpot/hubspot-api-nodejs#559), hence the casts.
  const objectSorts = (...sorts: { propertyName: string; direction?: string }[]) => sorts as unknown as string[];

  it('sorts by a property in the object form, ascending or descending', async () => {
    const sorted = async (sorts: string[]) =>
      scores(await hubspot.crm.contacts.searchApi.doSearch({ filterGroups: [], sorts, properties: ['lead_score'], limit: 3 }));
    expect(await sorted(objectSorts({ propertyName: 'lead_score', direction: 'DESCENDING' }))).toEqual([290, 280, 270]);
    expect(await sorted(objectSorts({ propertyName: 'lead_score', direction: 'ASCENDING' }))).toEqual([0, 10, 20]);
    expect(await sorted(objectSorts({ propertyName: 'lead_score' }))).toEqual([0, 10, 20]);
  });

  it('sorts by a property in the string form, descending with a leading minus', async () => {
    expect(scores(await search([], { sorts: ['lead_score'], limit: 2 }))).toEqual([0, 10]);
    expect(scores(await search([], { sorts: ['-lead_score'], limit: 2 }))).toEqual([290, 280]);
  });

  it('refuses a sort direction other than ASCENDING or DESCENDING', async () => {
    const failure = await failureOf(
      hubspot.crm.contacts.searchApi.doSearch({
        filterGroups: [],
        sorts: objectSorts({ propertyName: 'lead_score', direction: 'DESC' }),
        properties: [],
        limit: 1,
      }),
    );
    expect(failure.code).toBe(400);
    expect(failure.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
  });

  it('pages with after and reports the total', async () => {
    const first = await search([], { limit: 12 });
    expect(first.total).toBe(30);
    expect(first.results).toHaveLength(12);
    expect(first.paging?.next?.after).toBe('12');
    const last = await search([], { limit: 12, after: '24' });
    expect(last.results).toHaveLength(6);
    expect(last.paging).toBeUndefined();
  });

  it('refuses a page size above 200', async () => {
    const failure = await failureOf(search([], { limit: 201 }));
    expect(failure.code).toBe(400);
    expect(failure.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
  });

  it('refuses to page past the 10,000th result', async () => {
    const failure = await failureOf(search([], { after: '10000' }));
    expect(failure.code).toBe(400);
    expect(failure.body).toMatchObject({
      status: 'error',
      category: 'VALIDATION_ERROR',
      errors: [{ code: 'SEARCH_RESULT_LIMIT_EXCEEDED' }],
    });
    expect(failure.body.message).toContain('10000');
  });

  it('refuses more than five filter groups', async () => {
    const group = [{ propertyName: 'lead_score', operator: 'GT' as const, value: '0' }];
    const failure = await failureOf(search([group, group, group, group, group, group]));
    expect(failure.code).toBe(400);
    expect(failure.body.errors[0].code).toBe('TOO_MANY_FILTERS');
  });

  it('refuses a filter on a property that does not exist', async () => {
    const failure = await failureOf(search([[{ propertyName: 'shoe_size', operator: 'EQ', value: '42' }]]));
    expect(failure.code).toBe(400);
    expect(failure.body.errors[0].code).toBe('PROPERTY_DOESNT_EXIST');
  });
});
