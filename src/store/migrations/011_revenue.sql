-- The revenue loop (docs/architecture.md §14). Every Opportunity the sync has seen, open, won or
-- lost, recorded by the live sync (and by the attribution backfill): amounts in the record's
-- currency and, converted with the org's rates, in the corporate currency's integer cents.
CREATE TABLE deals (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  salesforce_opportunity_id text NOT NULL,
  salesforce_account_id text,
  -- The contact the deal is credited through: the one whose Lead converted into it ('lead'), or for
  -- another deal of the same Account (renewal, upsell) a contact of that Account ('account').
  hubspot_contact_id text,
  origin text NOT NULL CHECK (origin IN ('lead', 'account', 'unlinked')),
  status text NOT NULL CHECK (status IN ('open', 'won', 'lost')),
  amount numeric,
  -- ISO code in a multi-currency org, null in a single-currency org.
  currency text,
  -- In the corporate currency; null when the amount, or its currency's rate, is unknown.
  amount_cents bigint,
  close_date date,
  -- When it was won (domain/revenue.ts wonAtOf); null unless won. closed_at: first seen closed.
  won_at timestamptz,
  closed_at timestamptz,
  opened_at timestamptz,
  owner_id text,
  -- Win_Reason__c when won, Loss_Reason__c when lost.
  reason text,
  campaign_id text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, salesforce_opportunity_id)
);
CREATE INDEX deals_account ON deals (installation_id, salesforce_account_id);
CREATE INDEX deals_contact ON deals (installation_id, hubspot_contact_id);
CREATE INDEX deals_won ON deals (installation_id, won_at) WHERE status = 'won';

-- Won revenue recorded by earlier versions (by the backfill only) becomes won deals.
INSERT INTO deals (installation_id, salesforce_opportunity_id, hubspot_contact_id, origin, status, amount, amount_cents, won_at, closed_at, close_date, updated_at)
  SELECT installation_id, salesforce_opportunity_id, hubspot_contact_id, 'lead', 'won', amount_cents / 100.0, amount_cents, won_at, won_at, (won_at AT TIME ZONE 'UTC')::date, updated_at
  FROM attribution_revenue;
DROP TABLE attribution_revenue;

-- Customer accounts: size (for segments) from the Salesforce Account and the HubSpot company.
CREATE TABLE customer_accounts (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  salesforce_account_id text NOT NULL,
  name text,
  employees integer,
  annual_revenue numeric,
  hubspot_company_id text,
  company_employees integer,
  company_annual_revenue numeric,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, salesforce_account_id)
);

-- Salesforce Campaigns with their cost (BudgetedCost / ActualCost, corporate currency cents), kept
-- by the reconciler's Campaign stream; matched to touches by name (a touch's UTM campaign).
CREATE TABLE campaign_costs (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  salesforce_campaign_id text NOT NULL,
  name text NOT NULL,
  type text,
  status text,
  start_date date,
  end_date date,
  -- The day it was created: where its cost counts when it has neither start nor end date.
  created_date date,
  budgeted_cost_cents bigint,
  actual_cost_cents bigint,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, salesforce_campaign_id)
);
CREATE INDEX campaign_costs_name ON campaign_costs (installation_id, lower(name));

-- The org's currencies as last read: the corporate currency the report's sums are in (a
-- single-currency org's one currency) and, in a multi-currency org, each active currency's rate.
CREATE TABLE org_currencies (
  installation_id text PRIMARY KEY REFERENCES installations (id) ON DELETE CASCADE,
  corporate text NOT NULL,
  multi_currency boolean NOT NULL DEFAULT false,
  rates jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
