-- Where the app stands on each Salesforce change event channel (Pub/Sub API, docs/architecture.md
-- §12): the replay id of the last event handed to the intake, per installation and channel. Replay
-- ids are opaque bytes (Pub/Sub API guide, "Event Message Durability"); a restart resumes after it.
CREATE TABLE salesforce_replay_positions (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  channel text NOT NULL,
  replay_id bytea NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, channel)
);
