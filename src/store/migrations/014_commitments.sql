-- Marketing commitments (docs/architecture.md §13): one row per commitment and period whose pacing
-- fell to at risk or behind, so its alert goes out once however many checks, workers and restarts
-- see it. A check claims a row for a short lease before it posts the alert; delivered_at (or
-- failed_reason: refused by the receiver or the outbound policy, or no alert target) ends it.
CREATE TABLE commitment_alerts (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  -- `2026-12` or `2026-Q4`.
  period_id text NOT NULL,
  -- domain/commitments.ts commitmentKey: metric and lower-cased channel.
  commitment_key text NOT NULL,
  status text NOT NULL CHECK (status IN ('at_risk', 'behind')),
  details jsonb NOT NULL,
  raised_at timestamptz NOT NULL,
  claimed_until timestamptz,
  delivered_at timestamptz,
  failed_reason text,
  PRIMARY KEY (installation_id, period_id, commitment_key)
);
