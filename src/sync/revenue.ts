/**
 * The revenue loop in the live sync (docs/architecture.md §14). Every Opportunity the sync reads is
 * recorded as a deal — open, won or lost, with amount, currency, close date, owner and reason — so
 * the report needs no backfill: an amount or close date edited after closing updates the deal, a
 * reopened deal leaves the won figures. Each Account a change touches gets its customer lifetime
 * value (every won deal over time) written back to its HubSpot contacts and their companies, and
 * its size kept for the report's segments.
 */
import { formatCents } from '../domain/money.ts';
import { dealStatusOf, lifetimeValues, settledAt, toCorporateCents, type CurrencyRates, type LifetimeValue } from '../domain/revenue.ts';
import { refusalOf, type SalesforcePort, type SalesforceRecord } from '../crm/ports.ts';
import {
  dealContactsOfAccounts,
  knownDeals,
  saveCustomerAccounts,
  saveDeals,
  saveOrgCurrencies,
  wonDealsOfAccounts,
  type CustomerAccount,
  type DealRecord,
  type KnownDeal,
} from '../store/deals.ts';
import { linksBySalesforceIds } from '../store/record-links.ts';
import { OPPORTUNITY_SYNC_FIELDS, contactRef, recordText, salesforceRef, type SyncContext, type LogLine } from './context.ts';
import { salesforceTime } from '../domain/salesforce-time.ts';

/** Currency reads already stored (by object identity: a new read is a new object). */
const savedRates = new WeakSet<CurrencyRates>();

/** Opportunity fields the revenue loop reads besides the stage sync's. */
export const DEAL_FIELDS = [
  'AccountId',
  'CreatedDate',
  'CampaignId',
  'Win_Reason__c',
  'Loss_Reason__c',
  'OwnerId',
  'Name',
  'StageName',
] as const;
/** Account fields a customer's size comes from. */
const ACCOUNT_SIZE_FIELDS = ['Id', 'Name', 'NumberOfEmployees', 'AnnualRevenue'] as const;
/** Company properties a customer's size comes from (HubSpot's default company properties). */
const COMPANY_SIZE_PROPERTIES = ['numberofemployees', 'annualrevenue'] as const;

/** The Opportunity fields a sync reads, with `CurrencyIsoCode` in a multi-currency org, and the org's currencies. */
export async function opportunityReadFields(
  salesforce: Pick<SalesforcePort, 'currencyRates'>,
): Promise<{ fields: string[]; rates: CurrencyRates | null }> {
  const rates = await salesforce.currencyRates();
  return {
    fields: [...new Set([...OPPORTUNITY_SYNC_FIELDS, ...DEAL_FIELDS, ...(rates?.multiCurrency === true ? ['CurrencyIsoCode'] : [])])],
    rates,
  };
}

export type RevenueContext = Pick<SyncContext, 'db' | 'installationId' | 'salesforce' | 'hubspot' | 'ledger' | 'now'>;
export interface DealSummary {
  recorded: number;
  won: number;
  lost: number;
  reopened: number;
  /** Accounts whose lifetime value was written back. */
  accounts: number;
}

const numberOrNull = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value)
    ? value
    : typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
      ? Number(value)
      : null;
const timeOrNull = (value: unknown): Date | null => {
  const at = salesforceTime(value);
  return at === null ? null : new Date(at);
};
const money = (cents: number | null): string => (cents === null ? 'unknown' : formatCents(cents));

/**
 * Records the deals of the given Opportunities (read with `opportunityReadFields`). `contactOf`
 * names the contact each Opportunity converted from (its link); another Opportunity of a known
 * Account is credited through that Account's contact. Then writes lifetime value back for every
 * Account whose deals changed.
 */
export async function recordDeals(
  ctx: RevenueContext,
  opportunities: readonly SalesforceRecord[],
  rates: CurrencyRates | null,
  contactOf: ReadonlyMap<string, string>,
  entry: LogLine,
): Promise<DealSummary> {
  const summary: DealSummary = { recorded: 0, won: 0, lost: 0, reopened: 0, accounts: 0 };
  if (opportunities.length === 0) return summary;
  const now = ctx.now();
  const known = await knownDeals(
    ctx.db,
    ctx.installationId,
    opportunities.map((o) => o.Id),
  );
  const needContact = opportunities
    .filter((o) => !contactOf.has(o.Id) && known.get(o.Id)?.origin !== 'lead')
    .map((o) => recordText(o, 'AccountId'))
    .filter((id): id is string => id !== null);
  const accountContacts = await dealContactsOfAccounts(ctx.db, ctx.installationId, needContact);

  const deals: DealRecord[] = [];
  const touchedAccounts = new Set<string>();
  for (const opportunity of opportunities) {
    const previous = known.get(opportunity.Id) ?? null;
    const deal = dealOf(opportunity, previous, { contactOf, accountContacts, rates, now });
    deals.push(deal);
    summary.recorded += 1;
    logDealChange(deal, previous, summary, entry);
    const changed =
      previous === null ||
      previous.status !== deal.status ||
      previous.amountCents !== deal.amountCents ||
      previous.accountId !== deal.salesforceAccountId;
    if (changed && deal.salesforceAccountId !== null) touchedAccounts.add(deal.salesforceAccountId);
    if (changed && previous?.accountId && previous.accountId !== deal.salesforceAccountId) touchedAccounts.add(previous.accountId);
  }
  await saveDeals(ctx.db, ctx.installationId, deals);
  // The adapter keeps one rates object per read (every 15 minutes): it is stored once, not per batch.
  if (rates !== null && !savedRates.has(rates)) {
    await saveOrgCurrencies(ctx.db, ctx.installationId, rates);
    savedRates.add(rates);
  }
  summary.accounts = await writeCustomerValues(ctx, [...touchedAccounts], entry);
  return summary;
}

/** An Opportunity's deal: credited to its linked contact, else through its Account's contact; its amount in corporate cents. */
function dealOf(
  opportunity: SalesforceRecord,
  previous: KnownDeal | null,
  known: {
    contactOf: ReadonlyMap<string, string>;
    accountContacts: ReadonlyMap<string, string[]>;
    rates: CurrencyRates | null;
    now: Date;
  },
): DealRecord {
  const { rates, now } = known;
  const status = dealStatusOf({ IsWon: opportunity.IsWon === true, IsClosed: opportunity.IsClosed === true });
  const accountId = recordText(opportunity, 'AccountId');
  const linked = known.contactOf.get(opportunity.Id) ?? (previous?.origin === 'lead' ? previous.hubspotContactId : null);
  const viaAccount = linked === null && accountId !== null ? (known.accountContacts.get(accountId)?.[0] ?? null) : null;
  const amount = numberOrNull(opportunity.Amount);
  const currency = rates?.multiCurrency === true ? (recordText(opportunity, 'CurrencyIsoCode') ?? rates.corporate) : null;
  const closeDate = recordText(opportunity, 'CloseDate');
  return {
    salesforceOpportunityId: opportunity.Id,
    salesforceAccountId: accountId,
    hubspotContactId: linked ?? viaAccount,
    origin: linked !== null ? 'lead' : viaAccount !== null ? 'account' : 'unlinked',
    status,
    amount,
    currency,
    amountCents: amount === null ? null : toCorporateCents(amount, currency, rates),
    closeDate,
    wonAt: settledAt({
      settled: status === 'won',
      previous: previous && { settled: previous.status === 'won', at: previous.wonAt },
      closeDate,
      now,
    }),
    closedAt: settledAt({
      settled: status !== 'open',
      previous: previous && { settled: previous.status !== 'open', at: previous.closedAt },
      closeDate,
      now,
    }),
    openedAt: timeOrNull(opportunity.CreatedDate),
    ownerId: recordText(opportunity, 'OwnerId'),
    reason:
      status === 'won' ? recordText(opportunity, 'Win_Reason__c') : status === 'lost' ? recordText(opportunity, 'Loss_Reason__c') : null,
    campaignId: recordText(opportunity, 'CampaignId'),
    name: recordText(opportunity, 'Name'),
    stage: recordText(opportunity, 'StageName'),
  };
}

/** Counts and logs what a deal's new state changes for the report: won, lost, reopened, a new amount, or an unknown currency. */
function logDealChange(deal: DealRecord, previous: KnownDeal | null, summary: DealSummary, entry: LogLine): void {
  const { status, amount, amountCents, currency } = deal;
  const ref = salesforceRef('Opportunity', deal.salesforceOpportunityId);
  const details = {
    amount: money(amountCents),
    currency: currency ?? undefined,
    account: deal.salesforceAccountId ?? undefined,
    contact: deal.hubspotContactId ?? undefined,
  };
  if (amount !== null && amountCents === null)
    entry(
      ref,
      'warn',
      'deal_currency_unknown',
      `Opportunity in ${currency ?? '?'}: the org has no active rate for it, so its amount is left out of the sums`,
      details,
    );
  if (status === 'won' && previous?.status !== 'won') {
    summary.won += 1;
    entry(ref, 'info', 'deal_won', `Deal won: ${money(amountCents)} recorded for the report and the account's lifetime value`, details);
  } else if (status === 'lost' && previous?.status !== 'lost') {
    summary.lost += 1;
    entry(ref, 'info', 'deal_lost', `Deal lost${deal.reason === null ? '' : ` (${deal.reason})`}: recorded for the report`, details);
  } else if (status === 'open' && previous !== null && previous.status !== 'open') {
    summary.reopened += 1;
    entry(ref, 'info', 'deal_reopened', `Deal reopened: it leaves the ${previous.status} figures`, details);
  } else if (status !== 'open' && previous !== null && previous.amountCents !== amountCents) {
    entry(
      ref,
      'info',
      'deal_amount_changed',
      `Amount of the ${status} deal changed from ${money(previous.amountCents)} to ${money(amountCents)}`,
      details,
    );
  }
}

/**
 * Lifetime value of each account (its won deals), written to the HubSpot contacts of the account —
 * those its deals are credited through and those linked to its Salesforce Contacts — and to their
 * companies; the account's size is kept for the report. Returns the accounts written.
 */
async function writeCustomerValues(ctx: RevenueContext, accountIds: readonly string[], entry: LogLine): Promise<number> {
  if (accountIds.length === 0) return 0;
  const values = lifetimeValues(await wonDealsOfAccounts(ctx.db, ctx.installationId, accountIds));
  const contactsOf = await contactsOfAccounts(ctx, accountIds);
  const allContacts = [...new Set([...contactsOf.values()].flat())];
  const companiesOf = allContacts.length === 0 ? new Map<string, string[]>() : await ctx.hubspot.companiesOfContacts(allContacts);
  const accounts = new Map(
    (await ctx.salesforce.readRecords('Account', accountIds, ACCOUNT_SIZE_FIELDS)).map((record) => [record.Id, record]),
  );
  // The account's company: the primary company of its first contact that has one.
  const companyOf = new Map<string, string>();
  for (const accountId of accountIds) {
    const company = (contactsOf.get(accountId) ?? [])
      .map((contact) => companiesOf.get(contact)?.[0])
      .find((id): id is string => id !== undefined);
    if (company !== undefined) companyOf.set(accountId, company);
  }
  const companies =
    companyOf.size === 0
      ? new Map<string, Record<string, string | null>>()
      : new Map(
          (await ctx.hubspot.readCompanies([...new Set(companyOf.values())], COMPANY_SIZE_PROPERTIES)).map((c) => [c.id, c.properties]),
        );

  const contactWrites: PropertyWrite[] = [];
  const companyWrites: PropertyWrite[] = [];
  const sizes: CustomerAccount[] = [];
  for (const accountId of accountIds) {
    const properties = customerValueProperties(values.get(accountId));
    const contacts = contactsOf.get(accountId) ?? [];
    for (const contact of contacts) {
      contactWrites.push({ id: contact, properties });
      for (const company of companiesOf.get(contact) ?? []) companyWrites.push({ id: company, properties });
    }
    const companyId = companyOf.get(accountId) ?? null;
    sizes.push(accountSize(accountId, accounts.get(accountId), companyId, companyId === null ? undefined : companies.get(companyId)));
    if (contacts.length > 0) {
      entry(
        salesforceRef('Account', accountId),
        'info',
        'customer_value',
        `Lifetime value ${properties.customer_lifetime_value} over ${properties.customer_deals_won} won deal(s), written to ${contacts.length} HubSpot contact(s)`,
        { contacts },
      );
    }
  }
  await saveCustomerAccounts(ctx.db, ctx.installationId, sizes);
  await writeCustomerValueProperties(ctx, contactWrites, companyWrites, entry);
  return accountIds.length;
}

interface PropertyWrite {
  id: string;
  properties: Record<string, string>;
}

/** The HubSpot contacts of each account: those its deals are credited through, then those linked to its Salesforce Contacts. */
async function contactsOfAccounts(ctx: RevenueContext, accountIds: readonly string[]): Promise<Map<string, string[]>> {
  const contactsOf = await dealContactsOfAccounts(ctx.db, ctx.installationId, accountIds);
  const salesforceContacts = await ctx.salesforce.contactsOfAccounts(accountIds);
  const links = await linksBySalesforceIds(
    ctx.db,
    ctx.installationId,
    salesforceContacts.map((c) => c.id),
  );
  for (const contact of salesforceContacts) {
    const hubspotId = links.get(contact.id)?.hubspotContactId;
    if (hubspotId === undefined) continue;
    const list = contactsOf.get(contact.accountId) ?? [];
    if (!list.includes(hubspotId)) list.push(hubspotId);
    contactsOf.set(contact.accountId, list);
  }
  return contactsOf;
}

/** The customer properties of an account's lifetime value (none won: zero and a blank first win). */
function customerValueProperties(
  value: LifetimeValue | undefined,
): Record<string, string> & { customer_lifetime_value: string; customer_deals_won: string } {
  return {
    customer_lifetime_value: formatCents(value?.valueCents ?? 0),
    customer_first_won_at: value === undefined ? '' : value.firstWonAt.toISOString(),
    customer_deals_won: String(value?.dealsWon ?? 0),
  };
}

/** An account's size on both sides, kept for the report. */
function accountSize(
  accountId: string,
  account: SalesforceRecord | undefined,
  companyId: string | null,
  company: Record<string, string | null> | undefined,
): CustomerAccount {
  return {
    salesforceAccountId: accountId,
    name: account === undefined ? null : recordText(account, 'Name'),
    employees: account === undefined ? null : numberOrNull(account.NumberOfEmployees),
    annualRevenue: account === undefined ? null : numberOrNull(account.AnnualRevenue),
    hubspotCompanyId: companyId,
    companyEmployees: numberOrNull(company?.numberofemployees),
    companyAnnualRevenue: numberOrNull(company?.annualrevenue),
  };
}

/** Writes the lifetime values to the contacts (remembered first as the app's own) and their companies, logging refusals. */
async function writeCustomerValueProperties(
  ctx: RevenueContext,
  contactWrites: readonly PropertyWrite[],
  companyWrites: readonly PropertyWrite[],
  entry: LogLine,
): Promise<void> {
  if (contactWrites.length > 0) {
    await ctx.ledger.remember(
      ctx.installationId,
      'hubspot',
      contactWrites.map((w) => ({ recordId: w.id, values: w.properties })),
    );
    for (const [id, outcome] of await ctx.hubspot.updateContacts(contactWrites)) {
      if (!outcome.ok)
        entry(contactRef(id), 'error', 'customer_value_failed', `HubSpot did not take the lifetime value: ${refusalOf(outcome)}`, {
          code: outcome.code,
        });
    }
  }
  if (companyWrites.length === 0) return;
  for (const [id, outcome] of await ctx.hubspot.updateCompanies(companyWrites)) {
    if (!outcome.ok)
      entry(
        `hubspot:company:${id}`,
        'error',
        'customer_value_failed',
        `HubSpot did not take the company's lifetime value: ${refusalOf(outcome)}`,
        { code: outcome.code },
      );
  }
}

/** The link each Opportunity converted from (record_links), for `recordDeals`. */
export async function linkedContacts(
  ctx: Pick<SyncContext, 'db' | 'installationId'>,
  opportunityIds: readonly string[],
): Promise<Map<string, string>> {
  const links = await linksBySalesforceIds(ctx.db, ctx.installationId, opportunityIds);
  return new Map(
    opportunityIds.flatMap((id) => {
      const contact = links.get(id)?.hubspotContactId;
      return contact === undefined ? [] : [[id, contact] as const];
    }),
  );
}
