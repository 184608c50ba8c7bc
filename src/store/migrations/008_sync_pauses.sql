-- An admin's pause of one direction of an installation's sync. While a row exists, drains of that
-- direction wait: webhooks are still acknowledged and recorded and records still marked pending
-- (in Redis), so resuming (deleting the row) syncs them. Kept in Postgres so a pause survives a
-- restart or a Redis loss.
CREATE TABLE sync_pauses (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  direction text NOT NULL CHECK (direction IN ('to-salesforce', 'to-hubspot')),
  paused_at timestamptz NOT NULL DEFAULT now(),
  paused_by text NOT NULL,
  PRIMARY KEY (installation_id, direction)
);
