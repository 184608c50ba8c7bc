-- Sales feedback and the follow-up SLA (docs/architecture.md §4–§5).

-- One SLA clock per handoff of a Lead to sales. It runs until the first sales touch; a breach
-- (untouched past due_at) does not stop it, so a late touch still gives the time to first touch.
-- schedule_n is the n of the clock's delayed job id (sla-<installation>-<lead>-<n>); it grows with
-- each new clock of the Lead and each reschedule, so a job of an older schedule is recognised.
-- Owner, team, channel and campaign are taken at handoff: the compliance report groups by them.
CREATE TABLE sla_clocks (
  id bigserial PRIMARY KEY,
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  salesforce_lead_id text NOT NULL,
  hubspot_contact_id text,
  handoff_at timestamptz NOT NULL,
  due_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'met', 'breached')),
  first_touch_at timestamptz,
  first_touch_source text CHECK (first_touch_source IN ('status', 'Task', 'Event')),
  breached_at timestamptz,
  escalated_at timestamptz,
  -- Set when the Lead disappeared before its first touch (deleted or merged): nothing to escalate.
  closed_at timestamptz,
  schedule_n integer NOT NULL,
  owner_id text,
  owner_name text,
  manager_id text,
  team text,
  lead_source text,
  channel text,
  campaign text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- At most one running clock per Lead: a repeated handoff event starts nothing new.
CREATE UNIQUE INDEX sla_clocks_running ON sla_clocks (installation_id, salesforce_lead_id) WHERE first_touch_at IS NULL AND closed_at IS NULL;
CREATE UNIQUE INDEX sla_clocks_schedule ON sla_clocks (installation_id, salesforce_lead_id, schedule_n);
CREATE INDEX sla_clocks_handoff ON sla_clocks (installation_id, handoff_at);

-- The escalation of a breached clock: exactly one per clock (the unique clock_id), owned by the
-- job that claimed it. Each step is stamped when done, so a retried job resumes where it stopped.
CREATE TABLE sla_escalations (
  id bigserial PRIMARY KEY,
  clock_id bigint NOT NULL UNIQUE REFERENCES sla_clocks (id) ON DELETE CASCADE,
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  job_id text NOT NULL,
  breached_at timestamptz NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  task_ids jsonb NOT NULL DEFAULT '[]'::jsonb,
  tasks_created_at timestamptz,
  stamped_at timestamptz,
  alert_enqueued_at timestamptz,
  alert_delivered_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Standardized sales feedback as it reached marketing: the last row of a contact is the feedback
-- the next change is compared with; the funnel report reads outcomes and reasons from here.
CREATE TABLE feedback_events (
  id bigserial PRIMARY KEY,
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  hubspot_contact_id text NOT NULL,
  salesforce_object text NOT NULL CHECK (salesforce_object IN ('Lead', 'Opportunity')),
  salesforce_record_id text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'recycled', 'opportunity', 'won', 'lost')),
  reason_code text,
  reason_label text,
  notes text,
  rep_name text,
  amount numeric(18, 2),
  close_date text,
  occurred_at timestamptz NOT NULL,
  -- The HubSpot timeline note; null until it is written.
  note_id text,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX feedback_events_once ON feedback_events (installation_id, salesforce_record_id, outcome, occurred_at);
CREATE INDEX feedback_events_contact ON feedback_events (installation_id, hubspot_contact_id, occurred_at);
CREATE INDEX feedback_events_report ON feedback_events (installation_id, occurred_at);
CREATE INDEX feedback_events_unwritten_notes ON feedback_events (installation_id) WHERE note_id IS NULL;
