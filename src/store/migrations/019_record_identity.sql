-- Record identity (docs/architecture.md §18): merges, deletions and restores.

-- A link set aside because one of its records was deleted (restorable: HubSpot keeps a deleted
-- contact 90 days, Salesforce's recycle bin 15 days) or merged away as a duplicate. While a record
-- is set aside the sync leaves it alone; a restore puts the link back.
CREATE TABLE record_unlinks (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  hubspot_contact_id text NOT NULL,
  email text,
  salesforce_lead_id text,
  salesforce_contact_id text,
  salesforce_opportunity_id text,
  deleted_side text NOT NULL CHECK (deleted_side IN ('hubspot', 'salesforce')),
  deleted_id text NOT NULL,
  reason text NOT NULL CHECK (reason IN ('deleted', 'merged')),
  unlinked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, deleted_side, deleted_id)
);
CREATE INDEX record_unlinks_contact ON record_unlinks (installation_id, hubspot_contact_id);
CREATE INDEX record_unlinks_lead ON record_unlinks (installation_id, salesforce_lead_id) WHERE salesforce_lead_id IS NOT NULL;

-- Every merge the app applied: a merged-away id and the record it lives on in.
CREATE TABLE record_merges (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  side text NOT NULL CHECK (side IN ('hubspot', 'salesforce')),
  merged_id text NOT NULL,
  survivor_id text NOT NULL,
  merged_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, side, merged_id)
);
