-- Email consent (src/domain/consent.ts): what the app last saw of each side's opt-out per contact,
-- so an opt-out crosses once and a late or stale opt-in is never taken for a new one.
CREATE TABLE consent_states (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  hubspot_contact_id text NOT NULL,
  hubspot_opted_out boolean NOT NULL,
  salesforce_opted_out boolean NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, hubspot_contact_id)
);

-- GDPR erasures (contact.privacyDeletion). `identifiers` holds what the erasure must find (emails,
-- names, Salesforce ids) only while it runs: it is read before the Salesforce record is anonymized
-- and cleared in the transaction that erases the app's copy, so a retried job still knows them.
CREATE TABLE privacy_erasures (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  hubspot_contact_id text NOT NULL,
  requested_at timestamptz NOT NULL,
  completed_at timestamptz,
  salesforce_policy text NOT NULL,
  identifiers jsonb,
  PRIMARY KEY (installation_id, hubspot_contact_id)
);
