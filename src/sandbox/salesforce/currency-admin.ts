/**
 * What the platform does around currencies (rules and sources in currency.ts): who may edit
 * CurrencyType, the currency a new record takes, and the admin's switches the sandbox control
 * exposes (turning multi-currency on, editing rates, changing the corporate currency).
 */
import { auditFields } from './audit-fields.ts';
import { CURRENCY_OBJECTS, ISO_CURRENCY_CODES, activeCurrencyCodes, currencyRows } from './currency.ts';
import { httpError, sfError } from './errors.ts';
import { ADMIN_USER_ID } from './seed.ts';
import { formatDateTime } from './sf-time.ts';
import type { OrgStore, Txn } from './state-store.ts';
import type { FieldDef, ObjectDef, SfError, SfRecord } from './types.ts';

/** The System Administrator profile has "Customize Application"; others get it from a permission set. */
export function canCustomizeApplication(store: OrgStore, userId: string): boolean {
  if (userId === ADMIN_USER_ID) return true;
  const live = (type: string) => Object.values(store.table(type)).filter((r) => r.IsDeleted !== true);
  const sets = new Set(
    live('PermissionSetAssignment')
      .filter((a) => a.AssigneeId === userId)
      .map((a) => String(a.PermissionSetId)),
  );
  return live('PermissionSet').some((p) => sets.has(String(p.Id)) && p.PermissionsCustomizeApplication === true);
}

/**
 * A CurrencyType write by a user without "Customize Application" is refused like a write to any
 * object describe shows the user as not createable/updateable (records.ts, campaign-rules.ts).
 */
export function currencyTypeRefusal(
  store: OrgStore,
  obj: ObjectDef,
  operation: 'inserted' | 'updated' | 'deleted',
  userId: string,
): SfError | undefined {
  if (obj.name !== 'CurrencyType' || canCustomizeApplication(store, userId)) return undefined;
  return sfError('INVALID_TYPE_FOR_OPERATION', `entity type cannot be ${operation}: ${obj.label}`);
}

/** Describe as `userId` sees it: CurrencyType read-only without "Customize Application". */
export function currencyDescribedFor(store: OrgStore, userId: string, obj: ObjectDef): ObjectDef {
  if (obj.name !== 'CurrencyType' || canCustomizeApplication(store, userId)) return obj;
  const readOnly = (f: FieldDef): FieldDef => ({ ...f, createable: false, updateable: false });
  return { ...obj, createable: false, updateable: false, fields: obj.fields.map(readOnly) };
}

function corporateCode(store: OrgStore): string {
  return String(currencyRows(store).find((r) => r.IsCorporate === true)?.IsoCode ?? store.state.currency.corporateCurrency);
}

/** A new record's currency when none is given: its creator's default currency, else the corporate one. */
export function applyCurrencyDefault(store: OrgStore, obj: ObjectDef, record: SfRecord, userId: string): void {
  if (!store.state.currency.multiCurrency || !CURRENCY_OBJECTS.has(obj.name) || record.CurrencyIsoCode) return;
  const userDefault = store.get('User', userId)?.DefaultCurrencyIsoCode;
  record.CurrencyIsoCode = typeof userDefault === 'string' ? userDefault : corporateCode(store);
  if (obj.name === 'User' && !record.DefaultCurrencyIsoCode) record.DefaultCurrencyIsoCode = record.CurrencyIsoCode;
}

/** "IsActive … defaults to false if no value is provided when updating or inserting a record" (CurrencyType object reference). */
export function currencyTypeUpdateInput(obj: ObjectDef, input: Record<string, unknown>): Record<string, unknown> {
  if (obj.name !== 'CurrencyType' || Object.keys(input).some((k) => k.toLowerCase() === 'isactive')) return input;
  return { ...input, IsActive: false };
}

export interface CurrencyRow {
  isoCode: string;
  conversionRate: number;
  decimalPlaces: number;
  isActive: boolean;
  isCorporate: boolean;
}

export interface CurrencySettings {
  multiCurrency: boolean;
  /** The org's currency: the only one of a single-currency org, the corporate one of a multi-currency org. */
  corporateCurrency: string;
  /** CurrencyType rows (empty in a single-currency org). */
  currencies: CurrencyRow[];
}

export interface CurrencySettingsInput {
  multiCurrency?: boolean | undefined;
  corporateCurrency?: string | undefined;
  currencies?:
    Array<{ isoCode: string; conversionRate: number; decimalPlaces?: number | undefined; isActive?: boolean | undefined }> | undefined;
}

export function currencySettings(store: OrgStore): CurrencySettings {
  const rows = currencyRows(store).sort((a, b) => String(a.IsoCode).localeCompare(String(b.IsoCode)));
  return {
    multiCurrency: store.state.currency.multiCurrency,
    corporateCurrency: corporateCode(store),
    currencies: rows.map((r) => ({
      isoCode: String(r.IsoCode),
      conversionRate: Number(r.ConversionRate),
      decimalPlaces: Number(r.DecimalPlaces),
      isActive: r.IsActive === true,
      isCorporate: r.IsCorporate === true,
    })),
  };
}

/** Decimal places of a currency (JPY 0, USD 2), from the runtime's ISO 4217 data. */
function defaultDecimalPlaces(isoCode: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency: isoCode }).resolvedOptions().maximumFractionDigits ?? 2;
}

function checkCode(isoCode: string): string {
  const code = isoCode.toUpperCase();
  if (!ISO_CURRENCY_CODES.includes(code)) throw httpError(400, 'INVALID_INPUT', `not an ISO 4217 currency code: ${isoCode}`);
  return code;
}

function putStamped(txn: Txn, type: string, row: SfRecord, previous: SfRecord, now: number): void {
  const stamp = formatDateTime(now);
  const next: SfRecord = { ...row, LastModifiedDate: stamp, LastModifiedById: ADMIN_USER_ID, SystemModstamp: stamp };
  txn.put(type, next);
  const changedFields = Object.keys(next).filter(
    (k) => next[k] !== previous[k] && !['LastModifiedDate', 'LastModifiedById', 'SystemModstamp'].includes(k),
  );
  txn.emit({ kind: 'update', type, id: String(next.Id), changedFields, userId: ADMIN_USER_ID });
}

/** Turns multi-currency on: the corporate currency's CurrencyType row, and every record stamped with it. */
function enableMultiCurrency(txn: Txn, now: number): void {
  const { store } = txn;
  const corporate = store.state.currency.corporateCurrency;
  store.state.currency.multiCurrency = true;
  txn.onRollback(() => {
    store.state.currency.multiCurrency = false;
    store.refreshSchema();
  });
  const row: SfRecord = {
    Id: store.newRecordId('CurrencyType'),
    IsoCode: corporate,
    ConversionRate: 1,
    DecimalPlaces: defaultDecimalPlaces(corporate),
    IsActive: true,
    IsCorporate: true,
    ...auditFields(ADMIN_USER_ID, now),
  };
  delete row.IsDeleted;
  txn.put('CurrencyType', row);
  for (const type of CURRENCY_OBJECTS) {
    for (const record of Object.values(store.table(type))) {
      const stamped: SfRecord = {
        ...record,
        CurrencyIsoCode: corporate,
        ...(type === 'User' ? { DefaultCurrencyIsoCode: corporate } : {}),
      };
      txn.put(type, stamped);
    }
  }
}

/**
 * Makes `isoCode` the corporate currency: "When a non-corporate currency is set to a corporate
 * currency, the system reconfigures all conversion rates based on the new corporate currency"
 * (CurrencyType object reference, IsCorporate).
 */
function changeCorporateCurrency(txn: Txn, isoCode: string, now: number): void {
  const rows = currencyRows(txn.store);
  const next = rows.find((r) => r.IsoCode === isoCode);
  if (!next) throw httpError(400, 'INVALID_INPUT', `${isoCode} is not one of the org's currencies; add it before making it corporate`);
  const base = Number(next.ConversionRate);
  for (const row of rows) {
    putStamped(
      txn,
      'CurrencyType',
      {
        ...row,
        ConversionRate: Number(row.ConversionRate) / base,
        IsCorporate: row.IsoCode === isoCode,
        ...(row.IsoCode === isoCode ? { IsActive: true } : {}),
      },
      row,
      now,
    );
  }
}

/** Applies the admin's currency settings in one transaction; answers the settings that result. */
export function updateCurrencySettings(store: OrgStore, input: CurrencySettingsInput, now: number): CurrencySettings {
  const txn = store.txn();
  try {
    const state = store.state.currency;
    if (input.multiCurrency === false && state.multiCurrency)
      throw httpError(400, 'INVALID_INPUT', 'multi-currency cannot be turned off once enabled; reset the org instead');
    const corporate = input.corporateCurrency === undefined ? undefined : checkCode(input.corporateCurrency);
    if (!state.multiCurrency && corporate !== undefined) {
      const before = state.corporateCurrency;
      state.corporateCurrency = corporate;
      txn.onRollback(() => {
        state.corporateCurrency = before;
      });
    }
    if (input.multiCurrency === true && !state.multiCurrency) enableMultiCurrency(txn, now);
    if (input.currencies !== undefined && input.currencies.length > 0) {
      if (!store.state.currency.multiCurrency)
        throw httpError(400, 'INVALID_INPUT', 'currencies need a multi-currency org (multiCurrency: true)');
      for (const wanted of input.currencies) {
        const code = checkCode(wanted.isoCode);
        if (!(wanted.conversionRate > 0)) throw httpError(400, 'INVALID_INPUT', `conversionRate of ${code} must be positive`);
        const existing = currencyRows(store).find((r) => r.IsoCode === code);
        const values = {
          ConversionRate: wanted.conversionRate,
          DecimalPlaces: wanted.decimalPlaces ?? existing?.DecimalPlaces ?? defaultDecimalPlaces(code),
          IsActive: wanted.isActive ?? true,
        };
        if (existing) {
          if (existing.IsCorporate === true && wanted.conversionRate !== 1)
            throw httpError(400, 'INVALID_INPUT', `${code} is the corporate currency: its rate is 1`);
          putStamped(txn, 'CurrencyType', { ...existing, ...values }, existing, now);
        } else {
          const row: SfRecord = {
            Id: store.newRecordId('CurrencyType'),
            IsoCode: code,
            ...values,
            IsCorporate: false,
            ...auditFields(ADMIN_USER_ID, now),
          };
          delete row.IsDeleted;
          txn.put('CurrencyType', row);
          txn.emit({ kind: 'create', type: 'CurrencyType', id: String(row.Id), changedFields: Object.keys(row), userId: ADMIN_USER_ID });
        }
      }
    }
    if (corporate !== undefined && store.state.currency.multiCurrency && corporate !== corporateCode(store))
      changeCorporateCurrency(txn, corporate, now);
    if (store.state.currency.multiCurrency && activeCurrencyCodes(store).length === 0)
      throw httpError(400, 'INVALID_INPUT', 'the org needs an active currency');
    txn.commit();
  } catch (error) {
    txn.rollback();
    throw error;
  }
  store.refreshSchema();
  store.markDirty();
  return currencySettings(store);
}
