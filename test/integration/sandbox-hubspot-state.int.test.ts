import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HubSpotSandbox } from '../../src/sandbox/hubspot/server.ts';
import {
  APP_ID,
  clientFor,
  developerClientFor,
  failureOf,
  installOauthApp,
  rawJson,
  startSandbox,
  waitFor,
} from './support-hubspot/sandbox.ts';

let dir: string;
const running: HubSpotSandbox[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hubspot-sandbox-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(running.splice(0).map((sandbox) => sandbox.close()));
  await rm(dir, { recursive: true, force: true });
});

async function boot(stateFile?: string): Promise<HubSpotSandbox> {
  const sandbox = await startSandbox(stateFile === undefined ? {} : { stateFile });
  running.push(sandbox);
  return sandbox;
}

describe('HubSpot sandbox state', () => {
  it('keeps contacts, schema, webhooks and OAuth grants across a restart', async () => {
    const stateFile = join(dir, 'hubspot.json');
    const first = await boot(stateFile);
    const hubspot = clientFor(first);
    await hubspot.crm.properties.coreApi.create('contacts', {
      name: 'salesforce_lead_id',
      label: 'SF id',
      type: 'string' as never,
      fieldType: 'text' as never,
      groupName: 'contactinformation',
      hasUniqueValue: true,
    });
    const contact = await hubspot.crm.contacts.basicApi.create({
      properties: { email: 'persist@example.com', salesforce_lead_id: '00Q1', lifecyclestage: 'customer' },
      associations: [],
    });
    await developerClientFor(first).webhooks.subscriptionsApi.create(APP_ID, { eventType: 'contact.creation' as never, active: true });
    const { accessToken } = await installOauthApp(first);
    await first.close();
    running.splice(running.indexOf(first), 1);

    const second = await boot(stateFile);
    const again = clientFor(second);
    const read = await again.crm.contacts.basicApi.getById(
      '00Q1',
      ['email', 'lifecyclestage'],
      ['lifecyclestage'],
      undefined,
      false,
      'salesforce_lead_id',
    );
    expect(read).toMatchObject({ id: contact.id, properties: { email: 'persist@example.com', lifecyclestage: 'customer' } });
    expect(read.propertiesWithHistory?.lifecyclestage?.[0]?.sourceType).toBe('INTEGRATION');
    expect((await developerClientFor(second).webhooks.subscriptionsApi.getAll(APP_ID)).results).toHaveLength(1);
    expect((await clientFor(second, { accessToken }).crm.contacts.basicApi.getById(contact.id)).id).toBe(contact.id);
    // The restored stage still rules writes: a backward one is ignored.
    const backwards = await again.crm.contacts.basicApi.update(contact.id, { properties: { lifecyclestage: 'lead' } });
    expect(backwards.properties.lifecyclestage).toBe('customer');
    const next = await again.crm.contacts.basicApi.create({ properties: { email: 'next@example.com' }, associations: [] });
    expect(Number(next.id)).toBeGreaterThan(Number(contact.id));
  });

  it('writes the state file behind the requests and leaves no temporary file', async () => {
    const stateFile = join(dir, 'nested', 'hubspot.json');
    const sandbox = await boot(stateFile);
    await clientFor(sandbox).crm.contacts.basicApi.create({ properties: { email: 'file@example.com' }, associations: [] });
    await sandbox.flushState();
    const snapshot = JSON.parse(await readFile(stateFile, 'utf8')) as {
      version: number;
      objects: { contacts: { properties: Record<string, string> }[] };
    };
    expect(snapshot.version).toBe(1);
    expect(snapshot.objects.contacts.map((record) => record.properties.email)).toEqual(['file@example.com']);
    expect(await readdir(join(dir, 'nested'))).toEqual(['hubspot.json']);
  });

  it('imports contacts in bulk without webhooks and streams a large portal to the state file and back', async () => {
    const stateFile = join(dir, 'large', 'hubspot.json');
    const sandbox = await boot(stateFile);
    const seed = async (from: number) =>
      fetch(`${sandbox.url}/__sandbox/seed/contacts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          contacts: Array.from({ length: 10_000 }, (_, i) => ({
            properties: { email: `bulk${from + i}@example.com`, lifecyclestage: 'lead' },
          })),
        }),
      });
    const answers = [await seed(0), await seed(10_000), await seed(20_000)];
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(await answers[0]?.json()).toMatchObject({ created: 10_000 });
    expect((await seed(0)).status).toBe(409);
    expect(sandbox.deliveries()).toEqual([]);
    await sandbox.flushState();
    expect((await readFile(stateFile, 'utf8')).split('\n').length).toBeGreaterThan(30_000);
    await sandbox.close();

    const again = await boot(stateFile);
    const page = await clientFor(again).crm.contacts.basicApi.getPage(1, undefined, ['email'], undefined, undefined, false);
    expect(page.results[0]?.properties.email).toBe('bulk0@example.com');
    expect(again.stats().totals.calls).toBe(1);
    const search = await clientFor(again).crm.contacts.searchApi.doSearch({
      filterGroups: [],
      properties: ['email'],
      limit: 1,
      after: '0',
      sorts: [],
    });
    expect(search.total).toBe(30_000);
    const next = await clientFor(again).crm.contacts.basicApi.create({
      properties: { email: 'after-import@example.com' },
      associations: [],
    });
    expect(Number(next.id)).toBeGreaterThan(Number(page.results[0]?.id) + 29_999);
  });

  it('refuses to start on a corrupt state file', async () => {
    const stateFile = join(dir, 'broken.json');
    await writeFile(stateFile, JSON.stringify({ version: 1, objects: 'nope' }));
    await expect(startSandbox({ stateFile })).rejects.toThrow(/state file .* is invalid/);
  });

  it('empties CRM data on reset and keeps the default schema', async () => {
    const sandbox = await boot();
    const hubspot = clientFor(sandbox);
    await hubspot.crm.properties.coreApi.create('contacts', {
      name: 'temp_field',
      label: 'Temp',
      type: 'string' as never,
      fieldType: 'text' as never,
      groupName: 'contactinformation',
    });
    await hubspot.crm.contacts.basicApi.create({ properties: { email: 'gone@example.com' }, associations: [] });
    expect((await rawJson(sandbox, 'POST', '/__sandbox/reset', {})).status).toBe(204);
    expect((await hubspot.crm.contacts.basicApi.getPage()).results).toEqual([]);
    expect((await failureOf(hubspot.crm.properties.coreApi.getByName('contacts', 'temp_field'))).code).toBe(404);
    expect((await hubspot.crm.properties.coreApi.getByName('contacts', 'lifecyclestage')).name).toBe('lifecyclestage');
  });
});

describe('HubSpot sandbox control endpoints', () => {
  it('counts calls per endpoint with totals', async () => {
    const sandbox = await boot();
    const hubspot = clientFor(sandbox);
    await hubspot.crm.contacts.batchApi.upsert({ inputs: [{ id: 'a@example.com', idProperty: 'email', properties: {} }] });
    await hubspot.crm.contacts.batchApi.upsert({ inputs: [{ id: 'b@example.com', idProperty: 'email', properties: {} }] });
    const contact = await hubspot.crm.contacts.basicApi.getById('a@example.com', undefined, undefined, undefined, false, 'email');
    await hubspot.crm.contacts.basicApi.getById(contact.id);
    await failureOf(clientFor(sandbox, { accessToken: 'bad' }).crm.contacts.basicApi.getPage());
    const stats = (await rawJson(sandbox, 'GET', '/__sandbox/stats')).body;
    expect(stats.endpoints).toEqual({
      'GET /crm/v3/objects/contacts': 1,
      'GET /crm/v3/objects/contacts/{objectId}': 2,
      'POST /crm/v3/objects/contacts/batch/upsert': 2,
    });
    expect(stats.totals).toEqual({ calls: 5, byStatus: { '200': 4, '401': 1 }, rateLimited: 0, faultsInjected: 0 });
  });

  it('injects a 5xx on a chosen endpoint that the client retries', async () => {
    const sandbox = await boot();
    const setFaults = await rawJson(sandbox, 'POST', '/__sandbox/faults', {
      http: [{ method: 'POST', path: '/crm/v3/objects/*/batch/**', status: 503, count: 1 }],
    });
    expect(setFaults.status).toBe(200);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const response = await clientFor(sandbox, { numberOfApiCallRetries: 2 }).crm.contacts.batchApi.create({
      inputs: [{ properties: { email: 'five@example.com' }, associations: [] }],
    });
    expect(response.results).toHaveLength(1);
    expect(sandbox.stats().totals).toMatchObject({ faultsInjected: 1, byStatus: { '503': 1, '201': 1 } });
    expect(sandbox.faults().config.http ?? []).toEqual([]);
  });

  it('injects the real 429 body on a chosen endpoint with a probability', async () => {
    const sandbox = await boot();
    sandbox.setFaults({ seed: 9, http: [{ path: '/crm/v3/objects/contacts/search', status: 429, probability: 1 }] });
    const failure = await failureOf(
      clientFor(sandbox).crm.contacts.searchApi.doSearch({ filterGroups: [], sorts: [], properties: [], limit: 1 }),
    );
    expect(failure.code).toBe(429);
    expect(failure.body).toMatchObject({
      status: 'error',
      errorType: 'RATE_LIMIT',
      policyName: 'SECONDLY',
      message: 'You have reached your secondly limit.',
    });
    expect((await clientFor(sandbox).crm.contacts.basicApi.getPage()).results).toEqual([]);
  });

  it('holds a request for the configured delay, so a UI edit made meanwhile lands first', async () => {
    const sandbox = await boot();
    const hubspot = clientFor(sandbox);
    const contact = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'slow@example.com' }, associations: [] });
    const refused = await rawJson(sandbox, 'POST', '/__sandbox/faults', { http: [{ path: '/crm/v3/objects/contacts/batch/update' }] });
    expect(refused.status).toBe(400);
    sandbox.setFaults({ http: [{ method: 'POST', path: '/crm/v3/objects/contacts/batch/update', delayMs: 5_000, count: 1 }] });
    const write = hubspot.crm.contacts.batchApi.update({ inputs: [{ id: contact.id, properties: { jobtitle: 'CTO' } }] });
    await waitFor(() => sandbox.faults().counters.httpDelayed === 1, 5_000, 'the write to be held');
    sandbox.editInUi('contacts', contact.id, { jobtitle: 'Founder' });
    expect((await write).results[0]?.properties.jobtitle).toBe('CTO');
    const read = await hubspot.crm.contacts.basicApi.getById(contact.id, ['jobtitle'], ['jobtitle']);
    expect(read.propertiesWithHistory?.jobtitle?.map((version) => [version.value, version.sourceType])).toEqual([
      ['CTO', 'INTEGRATION'],
      ['Founder', 'CRM_UI'],
    ]);
    expect(sandbox.faults().counters).toMatchObject({ httpDelayed: 1, httpInjected: 0 });
    expect(sandbox.stats().totals.faultsInjected).toBe(0);
  });

  it('simulates a HubSpot UI edit over HTTP', async () => {
    const sandbox = await boot();
    const hubspot = clientFor(sandbox);
    const created = await rawJson(sandbox, 'POST', '/__sandbox/ui/contacts', { properties: { email: 'ui@example.com' }, userId: 5 });
    expect(created.status).toBe(201);
    expect(created.body.properties.lifecyclestage).toBe('lead');
    const edited = await rawJson(sandbox, 'PATCH', `/__sandbox/ui/contacts/${created.body.id}`, {
      properties: { lifecyclestage: 'subscriber' },
    });
    expect(edited.body.properties.lifecyclestage).toBe('subscriber');
    const read = await hubspot.crm.contacts.basicApi.getById(created.body.id, ['lifecyclestage'], ['lifecyclestage']);
    expect(read.propertiesWithHistory?.lifecyclestage?.map((version) => version.sourceId)).toEqual(['userId:3000001', 'userId:5']);
    const invalid = await rawJson(sandbox, 'PATCH', `/__sandbox/ui/contacts/${created.body.id}`, { properties: { nope: 'x' } });
    expect(invalid.status).toBe(400);
  });

  it('simulates a recipient unsubscribing from all email over HTTP', async () => {
    const sandbox = await boot();
    const created = await rawJson(sandbox, 'POST', '/__sandbox/ui/contacts', { properties: { email: 'leaving@example.com' } });
    const unsubscribed = await rawJson(sandbox, 'POST', `/__sandbox/ui/contacts/${created.body.id}/unsubscribe`, undefined);
    expect(unsubscribed.status).toBe(204);
    const read = await clientFor(sandbox).crm.contacts.basicApi.getById(created.body.id, ['hs_email_optout'], ['hs_email_optout']);
    expect(read.properties.hs_email_optout).toBe('true');
    expect(read.propertiesWithHistory?.hs_email_optout?.[0]?.sourceType).toBe('EMAIL');
    expect((await rawJson(sandbox, 'POST', '/__sandbox/ui/contacts/999999/unsubscribe', undefined)).status).toBe(404);
  });

  it('answers an unknown route with a HubSpot-shaped 404', async () => {
    const sandbox = await boot();
    const response = await rawJson(sandbox, 'GET', '/crm/v3/objects/contacts/1/nothing', undefined, {
      Authorization: 'Bearer pat-sandbox-hubspot',
    });
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND' });
  });
});
