/**
 * Deals, customer accounts and campaign costs (migration 011, docs/architecture.md §14): what the
 * revenue loop records from Salesforce and the report reads. Amounts in integer cents of the
 * corporate currency.
 */
import {
  DEFAULT_REVENUE_POLICY,
  validateRevenuePolicy,
  type CurrencyRates,
  type DealStatus,
  type RevenuePolicy,
  type WonDeal,
} from '../domain/revenue.ts';
import type { Queryable } from './db.ts';
import { settingInEffect } from './installation-admin.ts';

/** The revenue policy in effect for an installation. */
export async function revenuePolicyOf(db: Queryable, installationId: string): Promise<RevenuePolicy> {
  return settingInEffect(db, installationId, 'revenuePolicy', validateRevenuePolicy, DEFAULT_REVENUE_POLICY);
}

/** How a deal reaches a contact: converted from its Lead, another deal of its Account, or neither. */
export type DealOrigin = 'lead' | 'account' | 'unlinked';

/** One Opportunity as the revenue loop keeps it. */
export interface DealRecord {
  salesforceOpportunityId: string;
  salesforceAccountId: string | null;
  hubspotContactId: string | null;
  origin: DealOrigin;
  status: DealStatus;
  amount: number | null;
  currency: string | null;
  amountCents: number | null;
  closeDate: string | null;
  wonAt: Date | null;
  closedAt: Date | null;
  openedAt: Date | null;
  ownerId: string | null;
  reason: string | null;
  campaignId: string | null;
  /** The Opportunity's Name and StageName (the review's lists and its pipeline by stage). */
  name: string | null;
  stage: string | null;
}

/** The state a deal was last recorded in (what decides its won time). */
export interface KnownDeal {
  status: DealStatus;
  wonAt: Date | null;
  closedAt: Date | null;
  hubspotContactId: string | null;
  origin: DealOrigin;
  amountCents: number | null;
  accountId: string | null;
}

/** `($1, $2, …), (…)` rows after the installation id ($1), with their values. */
function rowsOf(installationId: string, rows: readonly (readonly unknown[])[]): { sql: string; values: unknown[] } {
  const values: unknown[] = [installationId];
  const sql = rows
    .map((cells) => {
      const base = values.length;
      values.push(...cells);
      return `($1, ${cells.map((_, index) => `$${base + index + 1}`).join(', ')})`;
    })
    .join(', ');
  return { sql, values };
}

const dateOrNull = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

/** The recorded state of the given Opportunities. */
export async function knownDeals(
  db: Queryable,
  installationId: string,
  opportunityIds: readonly string[],
): Promise<Map<string, KnownDeal>> {
  if (opportunityIds.length === 0) return new Map();
  const rows = await db.query<{
    id: string;
    status: DealStatus;
    won_at: Date | string | null;
    closed_at: Date | string | null;
    hubspot_contact_id: string | null;
    origin: DealOrigin;
    amount_cents: string | number | null;
    account: string | null;
  }>(
    `SELECT salesforce_opportunity_id AS id, status, won_at, closed_at, hubspot_contact_id, origin, amount_cents, salesforce_account_id AS account
     FROM deals WHERE installation_id = $1 AND salesforce_opportunity_id = ANY($2)`,
    [installationId, [...new Set(opportunityIds)]],
  );
  return new Map(
    rows.map((row) => [
      row.id,
      {
        status: row.status,
        wonAt: dateOrNull(row.won_at),
        closedAt: dateOrNull(row.closed_at),
        hubspotContactId: row.hubspot_contact_id,
        origin: row.origin,
        amountCents: row.amount_cents === null ? null : Number(row.amount_cents),
        accountId: row.account,
      },
    ]),
  );
}

const DEAL_COLUMNS = [
  'salesforce_opportunity_id',
  'salesforce_account_id',
  'hubspot_contact_id',
  'origin',
  'status',
  'amount',
  'currency',
  'amount_cents',
  'close_date',
  'won_at',
  'closed_at',
  'opened_at',
  'owner_id',
  'reason',
  'campaign_id',
  'name',
  'stage',
] as const;

/** Records deals (insert or replace; the caller decided each won time from `knownDeals`). */
export async function saveDeals(db: Queryable, installationId: string, deals: readonly DealRecord[]): Promise<void> {
  const unique = [...new Map(deals.map((deal) => [deal.salesforceOpportunityId, deal])).values()];
  if (unique.length === 0) return;
  const { sql, values } = rowsOf(
    installationId,
    unique.map((deal) => [
      deal.salesforceOpportunityId,
      deal.salesforceAccountId,
      deal.hubspotContactId,
      deal.origin,
      deal.status,
      deal.amount,
      deal.currency,
      deal.amountCents,
      deal.closeDate,
      deal.wonAt,
      deal.closedAt,
      deal.openedAt,
      deal.ownerId,
      deal.reason,
      deal.campaignId,
      deal.name,
      deal.stage,
    ]),
  );
  await db.query(
    `INSERT INTO deals (installation_id, ${DEAL_COLUMNS.join(', ')}) VALUES ${sql}
     ON CONFLICT (installation_id, salesforce_opportunity_id) DO UPDATE SET
       ${DEAL_COLUMNS.filter((column) => column !== 'salesforce_opportunity_id')
         .map((column) => `${column} = EXCLUDED.${column}`)
         .join(', ')}, updated_at = now()`,
    values,
  );
}

/** Won deals of the given accounts (every won deal counts toward lifetime value). */
export async function wonDealsOfAccounts(db: Queryable, installationId: string, accountIds: readonly string[]): Promise<WonDeal[]> {
  if (accountIds.length === 0) return [];
  const rows = await db.query<{ account: string; amount_cents: string | number; won_at: Date | string }>(
    `SELECT salesforce_account_id AS account, amount_cents, won_at FROM deals
     WHERE installation_id = $1 AND salesforce_account_id = ANY($2) AND status = 'won' AND amount_cents IS NOT NULL AND won_at IS NOT NULL`,
    [installationId, [...new Set(accountIds)]],
  );
  return rows.map((row) => ({ accountId: row.account, amountCents: Number(row.amount_cents), wonAt: new Date(row.won_at) }));
}

/** The HubSpot contacts deals of the given accounts are credited through, per account (oldest deal first). */
export async function dealContactsOfAccounts(
  db: Queryable,
  installationId: string,
  accountIds: readonly string[],
): Promise<Map<string, string[]>> {
  if (accountIds.length === 0) return new Map();
  const rows = await db.query<{ account: string; contact: string }>(
    `SELECT salesforce_account_id AS account, hubspot_contact_id AS contact FROM deals
     WHERE installation_id = $1 AND salesforce_account_id = ANY($2) AND hubspot_contact_id IS NOT NULL AND origin = 'lead'
     ORDER BY opened_at NULLS LAST, salesforce_opportunity_id`,
    [installationId, [...new Set(accountIds)]],
  );
  const contacts = new Map<string, string[]>();
  for (const row of rows) {
    const list = contacts.get(row.account) ?? [];
    if (!list.includes(row.contact)) list.push(row.contact);
    contacts.set(row.account, list);
  }
  return contacts;
}

/** A won deal with the contact it is credited through (what revenue credit splits). */
/** A customer account's size, from Salesforce and (when its contact has one) the HubSpot company. */
export interface CustomerAccount {
  salesforceAccountId: string;
  name: string | null;
  employees: number | null;
  annualRevenue: number | null;
  hubspotCompanyId: string | null;
  companyEmployees: number | null;
  companyAnnualRevenue: number | null;
}

/** Records customer accounts (insert or replace). */
export async function saveCustomerAccounts(db: Queryable, installationId: string, accounts: readonly CustomerAccount[]): Promise<void> {
  const unique = [...new Map(accounts.map((account) => [account.salesforceAccountId, account])).values()];
  if (unique.length === 0) return;
  const { sql, values } = rowsOf(
    installationId,
    unique.map((a) => [
      a.salesforceAccountId,
      a.name,
      a.employees,
      a.annualRevenue,
      a.hubspotCompanyId,
      a.companyEmployees,
      a.companyAnnualRevenue,
    ]),
  );
  await db.query(
    `INSERT INTO customer_accounts (installation_id, salesforce_account_id, name, employees, annual_revenue, hubspot_company_id, company_employees, company_annual_revenue)
     VALUES ${sql}
     ON CONFLICT (installation_id, salesforce_account_id) DO UPDATE SET name = EXCLUDED.name, employees = EXCLUDED.employees,
       annual_revenue = EXCLUDED.annual_revenue, hubspot_company_id = COALESCE(EXCLUDED.hubspot_company_id, customer_accounts.hubspot_company_id),
       company_employees = COALESCE(EXCLUDED.company_employees, customer_accounts.company_employees),
       company_annual_revenue = COALESCE(EXCLUDED.company_annual_revenue, customer_accounts.company_annual_revenue), updated_at = now()`,
    values,
  );
}

/** A Salesforce Campaign's cost. */
export interface CampaignCost {
  salesforceCampaignId: string;
  name: string;
  type: string | null;
  status: string | null;
  startDate: string | null;
  endDate: string | null;
  createdDate: string | null;
  budgetedCostCents: number | null;
  actualCostCents: number | null;
}

/** Records Campaigns and their cost (insert or replace). */
export async function saveCampaignCosts(db: Queryable, installationId: string, campaigns: readonly CampaignCost[]): Promise<void> {
  const unique = [...new Map(campaigns.map((campaign) => [campaign.salesforceCampaignId, campaign])).values()];
  if (unique.length === 0) return;
  const { sql, values } = rowsOf(
    installationId,
    unique.map((c) => [
      c.salesforceCampaignId,
      c.name,
      c.type,
      c.status,
      c.startDate,
      c.endDate,
      c.createdDate,
      c.budgetedCostCents,
      c.actualCostCents,
    ]),
  );
  await db.query(
    `INSERT INTO campaign_costs (installation_id, salesforce_campaign_id, name, type, status, start_date, end_date, created_date, budgeted_cost_cents, actual_cost_cents)
     VALUES ${sql}
     ON CONFLICT (installation_id, salesforce_campaign_id) DO UPDATE SET name = EXCLUDED.name, type = EXCLUDED.type, status = EXCLUDED.status,
       start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date, created_date = EXCLUDED.created_date, budgeted_cost_cents = EXCLUDED.budgeted_cost_cents,
       actual_cost_cents = EXCLUDED.actual_cost_cents, updated_at = now()`,
    values,
  );
}

/** Records the org's currencies as read (null: they could not be read). */
export async function saveOrgCurrencies(db: Queryable, installationId: string, rates: CurrencyRates | null): Promise<void> {
  if (rates === null) return;
  await db.query(
    `INSERT INTO org_currencies (installation_id, corporate, multi_currency, rates) VALUES ($1, $2, $3, $4)
     ON CONFLICT (installation_id) DO UPDATE SET corporate = EXCLUDED.corporate, multi_currency = EXCLUDED.multi_currency, rates = EXCLUDED.rates, updated_at = now()`,
    [installationId, rates.corporate, rates.multiCurrency, JSON.stringify(Object.fromEntries(rates.rates))],
  );
}

/** The org's currencies as last read: the corporate ISO code, whether it has several, and their rates. */
export async function orgCurrencies(
  db: Queryable,
  installationId: string,
): Promise<{ corporate: string; multiCurrency: boolean; rates: Record<string, number> } | null> {
  const rows = await db.query<{ corporate: string; multi_currency: boolean; rates: Record<string, number> | string }>(
    'SELECT corporate, multi_currency, rates FROM org_currencies WHERE installation_id = $1',
    [installationId],
  );
  const row = rows[0];
  if (row === undefined) return null;
  return {
    corporate: row.corporate,
    multiCurrency: row.multi_currency,
    rates: typeof row.rates === 'string' ? (JSON.parse(row.rates) as Record<string, number>) : row.rates,
  };
}
