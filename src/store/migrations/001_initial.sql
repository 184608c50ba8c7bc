-- Installations: one HubSpot portal + one Salesforce org. Credentials are AES-256-GCM ciphertext.
CREATE TABLE installations (
  id text PRIMARY KEY,
  name text NOT NULL,
  hubspot_portal_id bigint UNIQUE,
  salesforce_org_id text UNIQUE,
  salesforce_webhook_token text NOT NULL UNIQUE,
  hubspot_credentials bytea,
  salesforce_credentials bytea,
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'active',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every inbound event the workers took in, keyed by the intake's deterministic dedupe key.
CREATE TABLE inbound_events (
  dedupe_key text PRIMARY KEY,
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  source text NOT NULL CHECK (source IN ('hubspot', 'salesforce', 'reconciler', 'backfill')),
  object_type text NOT NULL,
  object_id text NOT NULL,
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  payload jsonb NOT NULL
);
CREATE INDEX inbound_events_object ON inbound_events (installation_id, object_type, object_id, occurred_at);

-- HubSpot contact <-> Salesforce Lead / Contact / Opportunity.
CREATE TABLE record_links (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  hubspot_contact_id text NOT NULL,
  email text,
  salesforce_lead_id text,
  salesforce_contact_id text,
  salesforce_opportunity_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, hubspot_contact_id)
);
CREATE UNIQUE INDEX record_links_lead ON record_links (installation_id, salesforce_lead_id) WHERE salesforce_lead_id IS NOT NULL;
CREATE INDEX record_links_email ON record_links (installation_id, lower(email));

-- Shared-stage history: the funnel report reads it.
CREATE TABLE stage_history (
  id bigserial PRIMARY KEY,
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  hubspot_contact_id text NOT NULL,
  stage text NOT NULL,
  source text NOT NULL,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX stage_history_contact ON stage_history (installation_id, hubspot_contact_id, occurred_at);

-- What happened to each record, and why: which rule, which values, which call.
CREATE TABLE sync_log (
  id bigserial PRIMARY KEY,
  installation_id text REFERENCES installations (id) ON DELETE CASCADE,
  record_ref text,
  level text NOT NULL CHECK (level IN ('info', 'warn', 'error')),
  action text NOT NULL,
  reason text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  job_queue text,
  job_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_log_record ON sync_log (installation_id, record_ref, created_at);
CREATE INDEX sync_log_created ON sync_log (created_at);
