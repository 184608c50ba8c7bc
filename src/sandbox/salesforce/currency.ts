/**
 * Currencies of the sandbox org, as a real org has them.
 *
 * - A fresh org uses one currency (most orgs do). Multi-currency is an org setting the sandbox
 *   control turns on (`POST /__sandbox/currency`); like `CurrencySettings.enableMultiCurrency` it
 *   cannot be turned off again (Metadata API, CurrencySettings), only a reset brings back a
 *   single-currency org.
 * - In a single-currency org CurrencyType does not exist ("This object is not available in
 *   single-currency organizations": CurrencyType object reference), so SOQL answers INVALID_TYPE
 *   ("sObject type 'CurrencyType' is not supported", the answer scripts test to tell a
 *   single-currency org) and describe answers 404 NOT_FOUND; no object has `CurrencyIsoCode`, so
 *   selecting it answers INVALID_FIELD ("No such column 'CurrencyIsoCode' on entity
 *   'Opportunity'", the answer integrations test for the same purpose).
 * - With multi-currency on, the objects below gain `CurrencyIsoCode` ("Available only for
 *   organizations with the multicurrency feature enabled. Contains the ISO code for any currency
 *   allowed by the organization": Campaign, CampaignMember, Opportunity… object references; a
 *   restricted picklist of the active currencies, defaulted on create) and User also gains
 *   `DefaultCurrencyIsoCode`, the currency a user's new records take. Turning it on stamps every
 *   existing record with the corporate currency (Salesforce Help, "Considerations for Enabling
 *   Multiple Currencies").
 * - CurrencyType rows (IsoCode, ConversionRate, DecimalPlaces, IsActive, IsCorporate) are created
 *   and updated through the API, never deleted ("Your client application can't delete this
 *   object"), by users with "Customize Application" ("You need the Customize Application permission
 *   to edit this object"): the administrator, or a permission set with
 *   `PermissionsCustomizeApplication`. Others read them, and describe shows them read-only.
 *   `ConversionRate` is "Conversion rate of this currency type against the corporate currency": an
 *   amount of `rate` units of the currency is worth one unit of the corporate currency. `IsActive`
 *   "defaults to false if no value is provided when updating or inserting a record", so an update
 *   that leaves it out deactivates the currency, as the reference warns.
 * - Amounts are stored in their record's currency; nothing converts `Opportunity.Amount`.
 * Not modelled: changing the corporate currency through the API (IsCorporate is read-only here;
 * the sandbox control changes it and rescales the rates, as the reference describes), Advanced
 * Currency Management (`DatedConversionRate`), `convertCurrency()` and `FORMAT()` in SOQL, and a
 * user's personal currency for display.
 */
import { fields, systemFields } from './field-builders.ts';
import { KEY_PREFIXES } from './ids.ts';
import type { FieldDef, ObjectDef, SfRecord } from './types.ts';

/** The standard objects of the sandbox that carry `CurrencyIsoCode` in a multi-currency org. */
export const CURRENCY_OBJECTS: ReadonlySet<string> = new Set([
  'Lead',
  'Contact',
  'Account',
  'Opportunity',
  'Campaign',
  'CampaignMember',
  'Task',
  'User',
]);

/** ISO 4217 codes (Node's list); CurrencyType.IsoCode "Must be one of the valid alphabetic, three-letter currency ISO codes defined by the ISO 4217 standard". */
export const ISO_CURRENCY_CODES: readonly string[] = Intl.supportedValuesOf('currency');

/** Where the org's rates live: its CurrencyType rows. */
export interface RateSource {
  table(type: string): Record<string, SfRecord>;
}

/**
 * CurrencyType as the field reference lists it: IsoCode (picklist), ConversionRate (double 18/6),
 * DecimalPlaces (int 9), IsActive, IsCorporate. Created and updated, never deleted; IsoCode is set
 * on create only.
 */
export const CURRENCY_TYPE_OBJECT: ObjectDef = {
  name: 'CurrencyType',
  label: 'Currency Type',
  labelPlural: 'Currency Types',
  keyPrefix: KEY_PREFIXES.CurrencyType,
  fields: [
    fields.id(),
    fields.picklist('IsoCode', 'Currency ISO Code', ISO_CURRENCY_CODES, {
      length: 3,
      nillable: false,
      restrictedPicklist: true,
      unique: true,
      updateable: false,
    }),
    { ...fields.custom('ConversionRate', 'Conversion Rate', 'double'), precision: 18, scale: 6, nillable: false },
    { ...fields.int('DecimalPlaces', 'Decimal Places'), precision: 9, nillable: false },
    fields.boolean('IsActive', 'Active'),
    fields.readOnly(fields.boolean('IsCorporate', 'Corporate Currency')),
    ...systemFields({ owner: false }).filter((f) => f.name !== 'IsDeleted'),
  ],
  createable: true,
  updateable: true,
  deletable: false,
  queryable: true,
  childRelationships: [],
};

function currencyIsoCode(
  object: ObjectDef,
  codes: readonly string[],
  name = 'CurrencyIsoCode',
  label = `${object.label} Currency`,
): FieldDef {
  return fields.picklist(name, label, codes, { length: 3, restrictedPicklist: true, defaultedOnCreate: true });
}

/** An object as a multi-currency org describes it (`codes`: the active currencies). */
export function withCurrencyFields(object: ObjectDef, codes: readonly string[]): ObjectDef {
  if (!CURRENCY_OBJECTS.has(object.name)) return object;
  const extra = [currencyIsoCode(object, codes)];
  if (object.name === 'User') extra.push(currencyIsoCode(object, codes, 'DefaultCurrencyIsoCode', 'Default Currency ISO Code'));
  return { ...object, fields: [...object.fields, ...extra] };
}

/** The org's CurrencyType rows. */
export function currencyRows(source: RateSource): SfRecord[] {
  return Object.values(source.table('CurrencyType'));
}

/** The ISO codes of the active currencies, corporate first. */
export function activeCurrencyCodes(source: RateSource): string[] {
  return currencyRows(source)
    .filter((r) => r.IsActive === true)
    .sort((a, b) => Number(b.IsCorporate === true) - Number(a.IsCorporate === true) || String(a.IsoCode).localeCompare(String(b.IsoCode)))
    .map((r) => String(r.IsoCode));
}

/** The rate of an ISO code among the org's CurrencyType rows (active or not); undefined when the org has none. */
export function conversionRate(source: RateSource, isoCode: string): number | undefined {
  const row = currencyRows(source).find((r) => r.IsoCode === isoCode);
  return typeof row?.ConversionRate === 'number' ? row.ConversionRate : undefined;
}

/** Converts an amount between two of the org's currencies through the corporate currency; unchanged when either side is unknown. */
export function convertAmount(source: RateSource, amount: number, from: string | null, to: string | null): number {
  if (from === null || to === null || from === to) return amount;
  const fromRate = conversionRate(source, from);
  const toRate = conversionRate(source, to);
  if (fromRate === undefined || toRate === undefined || fromRate === 0) return amount;
  return (amount / fromRate) * toRate;
}
