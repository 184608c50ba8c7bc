-- Attribution (docs/architecture.md §3): the touches the app observed per contact, where each person entered,
-- the revenue won per Opportunity, and the admin-triggered backfill runs.

-- Every touch seen on a contact: the first touch and each later conversion / latest source, with
-- the page it happened on. One row per contact and moment; revenue credit reads them in time order.
CREATE TABLE attribution_touches (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  hubspot_contact_id text NOT NULL,
  occurred_at timestamptz NOT NULL,
  is_first boolean NOT NULL DEFAULT false,
  channel text NOT NULL,
  source text,
  medium text,
  campaign text,
  content text,
  term text,
  landing_page text,
  page_url text,
  form text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, hubspot_contact_id, occurred_at)
);

-- Where a person entered the funnel, keyed by lower-cased email so it is known before the HubSpot
-- contact exists: 'salesforce' when a rep created the Lead (sales-sourced unless a source is known).
CREATE TABLE attribution_origins (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  email text NOT NULL,
  origin text NOT NULL CHECK (origin IN ('hubspot', 'salesforce')),
  salesforce_lead_id text,
  entered_at timestamptz,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, email)
);

-- Revenue won per Opportunity and the contact it is credited through (amounts in integer cents).
CREATE TABLE attribution_revenue (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  salesforce_opportunity_id text NOT NULL,
  hubspot_contact_id text NOT NULL,
  amount_cents bigint NOT NULL,
  won_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, salesforce_opportunity_id)
);
CREATE INDEX attribution_revenue_contact ON attribution_revenue (installation_id, hubspot_contact_id);

-- Admin-triggered backfills: the cursor to resume from and the progress counters. At most one
-- queued or running run per installation and kind.
CREATE TABLE backfill_runs (
  id text PRIMARY KEY,
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  kind text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  phase text NOT NULL,
  cursor text,
  done integer NOT NULL DEFAULT 0,
  total integer,
  stamped_contacts integer NOT NULL DEFAULT 0,
  stamped_leads integer NOT NULL DEFAULT 0,
  failed integer NOT NULL DEFAULT 0,
  active_ms bigint NOT NULL DEFAULT 0,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE UNIQUE INDEX backfill_runs_one_active ON backfill_runs (installation_id, kind) WHERE status IN ('queued', 'running');
