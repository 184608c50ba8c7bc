-- The sales side of the SLA beyond the first touch (docs/architecture.md §5): per clock, the
-- follow-up cadence (K logged touches within D days of handoff), the disposition deadline
-- (accepted, rejected with a reason, recycled or converted within X days) and their states.
-- A rule that was off at handoff leaves its columns null: that handoff is not judged by it.
-- A decided state (met/missed) is final: the delayed check and the sync only move 'pending'.
ALTER TABLE sla_clocks ADD COLUMN lead_name text;
ALTER TABLE sla_clocks ADD COLUMN cadence_required integer CHECK (cadence_required >= 1);
ALTER TABLE sla_clocks ADD COLUMN cadence_due_at timestamptz;
ALTER TABLE sla_clocks ADD COLUMN cadence_touches integer NOT NULL DEFAULT 0;
ALTER TABLE sla_clocks ADD COLUMN cadence_status text CHECK (cadence_status IN ('pending', 'met', 'missed'));
ALTER TABLE sla_clocks ADD COLUMN cadence_decided_at timestamptz;
ALTER TABLE sla_clocks ADD COLUMN disposition_due_at timestamptz;
ALTER TABLE sla_clocks ADD COLUMN disposition text CHECK (disposition IN ('accepted', 'rejected', 'recycled', 'converted'));
ALTER TABLE sla_clocks ADD COLUMN disposition_at timestamptz;
ALTER TABLE sla_clocks ADD COLUMN disposition_status text CHECK (disposition_status IN ('pending', 'met', 'missed'));
ALTER TABLE sla_clocks ADD COLUMN disposition_decided_at timestamptz;
-- The sync looks up the clocks of a batch's Leads that still wait on a follow-up rule.
CREATE INDEX sla_clocks_follow_up ON sla_clocks (installation_id, salesforce_lead_id) WHERE cadence_status = 'pending' OR disposition_status = 'pending';
