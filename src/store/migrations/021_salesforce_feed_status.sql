-- The health of each Salesforce change event channel the worker follows (pull mode, docs/architecture.md
-- §12), per installation and channel, for the dashboard: connected, reconnecting or error with the
-- message, the commit time of the last event taken and how far behind it was taken. The position
-- itself stays in salesforce_replay_positions (020).
CREATE TABLE salesforce_feed_status (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  channel text NOT NULL,
  state text NOT NULL CHECK (state IN ('connecting', 'connected', 'reconnecting', 'error', 'stopped')),
  message text,
  last_event_at timestamptz,
  lag_seconds double precision,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, channel)
);
