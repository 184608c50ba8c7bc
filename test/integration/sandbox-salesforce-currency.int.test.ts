/**
 * Single- and multi-currency orgs in the sandbox Salesforce org, through the real jsforce client:
 * what a single-currency org answers for CurrencyType and CurrencyIsoCode, the currency setting the
 * sandbox control turns on, CurrencyType rows as an admin edits them, and amounts kept in their
 * record's currency.
 */
import type { Connection } from 'jsforce';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../src/sandbox/salesforce/server.ts';
import { createdId, sandboxOrgPerTest, sessionAs } from '../support/salesforce-org.ts';

interface CurrencyTypeRow {
  Id: string;
  IsoCode: string;
  ConversionRate: number;
  DecimalPlaces: number;
  IsActive: boolean;
  IsCorporate: boolean;
}

let sandbox: SalesforceSandbox;
let integration: Connection;
let admin: Connection;

sandboxOrgPerTest((org) => {
  ({ sandbox, integration, admin } = org);
});
const created = createdId;

/** Turns multi-currency on through the sandbox's HTTP control, as the demo and tests outside the process do. */
async function postCurrency(body: unknown): Promise<Response> {
  return fetch(`${sandbox.url}/__sandbox/currency`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function currencyTypes(conn: Connection): Promise<CurrencyTypeRow[]> {
  const rows = await conn.query<CurrencyTypeRow>(
    'SELECT Id, IsoCode, ConversionRate, DecimalPlaces, IsActive, IsCorporate FROM CurrencyType ORDER BY IsoCode',
  );
  return rows.records.map(({ Id, IsoCode, ConversionRate, DecimalPlaces, IsActive, IsCorporate }) => ({
    Id,
    IsoCode,
    ConversionRate,
    DecimalPlaces,
    IsActive,
    IsCorporate,
  }));
}

describe('a single-currency org (the default)', () => {
  it('answers INVALID_TYPE for CurrencyType and 404 for its describe', async () => {
    await expect(integration.query('SELECT IsoCode, ConversionRate FROM CurrencyType')).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE',
      message: expect.stringContaining("sObject type 'CurrencyType' is not supported") as unknown,
    });
    await expect(integration.sobject('CurrencyType').describe()).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
  });

  it('answers INVALID_FIELD for CurrencyIsoCode and describes no such field', async () => {
    await expect(integration.query('SELECT Id, Amount, CurrencyIsoCode FROM Opportunity')).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
      message: expect.stringContaining("No such column 'CurrencyIsoCode' on entity 'Opportunity'") as unknown,
    });
    const described = await integration.sobject('Opportunity').describe();
    expect(described.fields.map((f) => f.name)).not.toContain('CurrencyIsoCode');
  });

  it('names its currency in getUserInfo', async () => {
    const info = (await integration.soap.getUserInfo()) as unknown as Record<string, unknown>;
    expect(info).toMatchObject({ organizationMultiCurrency: false, orgDefaultCurrencyIsoCode: 'USD' });
  });
});

describe('turning multi-currency on', () => {
  it('adds CurrencyType with the corporate currency and stamps existing records with it', async () => {
    const accountId = await created(integration, 'Account', { Name: 'Before' });
    const opportunityId = await created(integration, 'Opportunity', {
      Name: 'Before',
      AccountId: accountId,
      StageName: 'Prospecting',
      CloseDate: '2026-10-01',
      Amount: 700,
    });
    const response = await postCurrency({
      multiCurrency: true,
      currencies: [
        { isoCode: 'EUR', conversionRate: 0.9 },
        { isoCode: 'JPY', conversionRate: 150 },
      ],
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ multiCurrency: true, corporateCurrency: 'USD' });

    expect((await currencyTypes(integration)).map(({ Id: _id, ...rest }) => rest)).toEqual([
      { IsoCode: 'EUR', ConversionRate: 0.9, DecimalPlaces: 2, IsActive: true, IsCorporate: false },
      { IsoCode: 'JPY', ConversionRate: 150, DecimalPlaces: 0, IsActive: true, IsCorporate: false },
      { IsoCode: 'USD', ConversionRate: 1, DecimalPlaces: 2, IsActive: true, IsCorporate: true },
    ]);
    const [row] = (
      await integration.query<{ Amount: number; CurrencyIsoCode: string; Account: { CurrencyIsoCode: string } }>(
        `SELECT Amount, CurrencyIsoCode, Account.CurrencyIsoCode FROM Opportunity WHERE Id = '${opportunityId}'`,
      )
    ).records;
    expect(row).toMatchObject({ Amount: 700, CurrencyIsoCode: 'USD', Account: { CurrencyIsoCode: 'USD' } });
    const info = (await integration.soap.getUserInfo()) as unknown as Record<string, unknown>;
    expect(info).toMatchObject({ organizationMultiCurrency: true, userDefaultCurrencyIsoCode: 'USD' });
  });

  it('describes CurrencyIsoCode as a restricted picklist of the active currencies, on the objects that carry a currency', async () => {
    sandbox.currency.set({
      multiCurrency: true,
      currencies: [
        { isoCode: 'EUR', conversionRate: 0.9 },
        { isoCode: 'GBP', conversionRate: 0.8, isActive: false },
      ],
    });
    for (const type of ['Lead', 'Contact', 'Account', 'Opportunity', 'Campaign', 'CampaignMember', 'User']) {
      const field = (await integration.sobject(type).describe()).fields.find((f) => f.name === 'CurrencyIsoCode');
      expect(field, type).toMatchObject({ type: 'picklist', restrictedPicklist: true, defaultedOnCreate: true, length: 3 });
      expect(
        (field?.picklistValues ?? []).map((p: { value: string }) => p.value),
        type,
      ).toEqual(['USD', 'EUR']);
    }
    const global = await integration.describeGlobal();
    expect(global.sobjects.map((o) => o.name)).toContain('CurrencyType');
  });

  it('keeps each amount in its record’s currency and refuses a currency the org does not use', async () => {
    sandbox.currency.set({ multiCurrency: true, currencies: [{ isoCode: 'EUR', conversionRate: 0.9 }] });
    const accountId = await created(integration, 'Account', { Name: 'Euro GmbH', CurrencyIsoCode: 'EUR' });
    const euro = await created(integration, 'Opportunity', {
      Name: 'Euro deal',
      AccountId: accountId,
      StageName: 'Closed Won',
      CloseDate: '2026-10-01',
      Amount: 900,
      CurrencyIsoCode: 'EUR',
    });
    const dollar = await created(integration, 'Opportunity', {
      Name: 'Dollar deal',
      AccountId: accountId,
      StageName: 'Closed Won',
      CloseDate: '2026-10-01',
      Amount: 1000,
    });
    const rows = await integration.query<{ Id: string; Amount: number; CurrencyIsoCode: string }>(
      `SELECT Id, Amount, CurrencyIsoCode FROM Opportunity WHERE CurrencyIsoCode IN ('EUR', 'USD') ORDER BY Amount`,
    );
    expect(rows.records.map((r) => [r.Id, r.Amount, r.CurrencyIsoCode])).toEqual([
      [euro, 900, 'EUR'],
      [dollar, 1000, 'USD'],
    ]);
    await expect(integration.sobject('Opportunity').update({ Id: dollar, CurrencyIsoCode: 'CHF' })).rejects.toMatchObject({
      errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
    });
  });

  it('gives a user’s new records the user’s default currency', async () => {
    sandbox.currency.set({ multiCurrency: true, currencies: [{ isoCode: 'EUR', conversionRate: 0.9 }] });
    const repId = sandbox.salesRepIds[0] ?? '';
    await admin.sobject('User').update({ Id: repId, DefaultCurrencyIsoCode: 'EUR' });
    const rep = sessionAs(sandbox, repId);
    const leadId = await created(rep, 'Lead', { LastName: 'Mueller', Company: 'Mueller AG' });
    const lead = (await integration.sobject('Lead').retrieve(leadId)) as unknown as { CurrencyIsoCode: string };
    expect(lead.CurrencyIsoCode).toBe('EUR');
  });

  it('converts campaign amounts to the campaign’s currency with the org’s rates, and again when a rate changes', async () => {
    sandbox.currency.set({ multiCurrency: true, currencies: [{ isoCode: 'EUR', conversionRate: 0.9 }] });
    const campaignId = await created(admin, 'Campaign', { Name: 'EMEA webinar' });
    const accountId = await created(integration, 'Account', { Name: 'Acme' });
    const opportunity = (amount: number, currency: string) =>
      created(integration, 'Opportunity', {
        Name: `${currency} deal`,
        AccountId: accountId,
        CampaignId: campaignId,
        StageName: 'Closed Won',
        CloseDate: '2026-10-01',
        Amount: amount,
        CurrencyIsoCode: currency,
      });
    await opportunity(900, 'EUR');
    await opportunity(1000, 'USD');
    const won = async () =>
      (await integration.sobject('Campaign').retrieve(campaignId)) as unknown as {
        AmountWonOpportunities: number;
        CurrencyIsoCode: string;
      };
    // 900 EUR at 0.9 EUR per USD is 1000 USD.
    expect(await won()).toMatchObject({ CurrencyIsoCode: 'USD', AmountWonOpportunities: 2000 });
    sandbox.currency.set({ currencies: [{ isoCode: 'EUR', conversionRate: 0.8 }] });
    expect((await won()).AmountWonOpportunities).toBe(2125);
  });

  it('cannot be turned off again', async () => {
    sandbox.currency.set({ multiCurrency: true });
    const response = await postCurrency({ multiCurrency: false });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual([expect.objectContaining({ errorCode: 'INVALID_INPUT' })]);
    expect(sandbox.currency.get().multiCurrency).toBe(true);
  });

  it('rescales every rate when the corporate currency changes', async () => {
    sandbox.currency.set({
      multiCurrency: true,
      currencies: [
        { isoCode: 'EUR', conversionRate: 0.8 },
        { isoCode: 'GBP', conversionRate: 0.5 },
      ],
    });
    const settings = sandbox.currency.set({ corporateCurrency: 'EUR' });
    expect(settings.corporateCurrency).toBe('EUR');
    expect(Object.fromEntries(settings.currencies.map((c) => [c.isoCode, c.conversionRate]))).toEqual({ EUR: 1, GBP: 0.625, USD: 1.25 });
  });
});

describe('CurrencyType rows', () => {
  beforeEach(() => {
    sandbox.currency.set({ multiCurrency: true, currencies: [{ isoCode: 'EUR', conversionRate: 0.9 }] });
  });

  it('are created and updated by an administrator through REST', async () => {
    const id = await created(admin, 'CurrencyType', { IsoCode: 'CAD', ConversionRate: 1.35, DecimalPlaces: 2, IsActive: true });
    const eur = (await currencyTypes(admin)).find((r) => r.IsoCode === 'EUR');
    await admin.sobject('CurrencyType').update({ Id: eur?.Id ?? '', ConversionRate: 0.92, DecimalPlaces: 2, IsActive: true });
    const rows = await currencyTypes(integration);
    expect(rows.find((r) => r.Id === id)).toMatchObject({ IsoCode: 'CAD', ConversionRate: 1.35, IsActive: true, IsCorporate: false });
    expect(rows.find((r) => r.IsoCode === 'EUR')).toMatchObject({ ConversionRate: 0.92, IsActive: true });
    const picklist = (
      (await integration.sobject('Opportunity').describe()).fields.find((f) => f.name === 'CurrencyIsoCode')?.picklistValues ?? []
    ).map((p: { value: string }) => p.value);
    expect(picklist).toEqual(['USD', 'CAD', 'EUR']);
  });

  it('deactivate a currency updated without IsActive, as the object reference warns', async () => {
    const eur = (await currencyTypes(admin)).find((r) => r.IsoCode === 'EUR');
    await admin.sobject('CurrencyType').update({ Id: eur?.Id ?? '', ConversionRate: 0.95 });
    expect((await currencyTypes(admin)).find((r) => r.IsoCode === 'EUR')).toMatchObject({ ConversionRate: 0.95, IsActive: false });
  });

  it('refuse a second row for one ISO code, an unknown code, and a delete', async () => {
    await expect(
      admin.sobject('CurrencyType').create({ IsoCode: 'EUR', ConversionRate: 1, DecimalPlaces: 2, IsActive: true }),
    ).rejects.toMatchObject({ errorCode: 'DUPLICATE_VALUE' });
    await expect(admin.sobject('CurrencyType').create({ IsoCode: 'XYZ', ConversionRate: 1, DecimalPlaces: 2 })).rejects.toMatchObject({
      errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
    });
    const eur = (await currencyTypes(admin)).find((r) => r.IsoCode === 'EUR');
    await expect(admin.sobject('CurrencyType').destroy(eur?.Id ?? '')).rejects.toMatchObject({ errorCode: 'INVALID_TYPE_FOR_OPERATION' });
  });

  it('are read-only to the integration user, who lacks Customize Application', async () => {
    const described = await integration.sobject('CurrencyType').describe();
    expect(described).toMatchObject({ createable: false, updateable: false });
    await expect(
      integration.sobject('CurrencyType').create({ IsoCode: 'CAD', ConversionRate: 1.35, DecimalPlaces: 2, IsActive: true }),
    ).rejects.toMatchObject({ errorCode: 'INVALID_TYPE_FOR_OPERATION' });
  });
});
