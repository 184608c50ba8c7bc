-- Initial sync runs (backfill_runs.kind = 'initial'): besides the shared cursor and counters, how
-- many pairs were linked, how many stages were brought into agreement, and how many historical
-- records were left unmatched on purpose (no Lead or contact is created for them).
ALTER TABLE backfill_runs ADD COLUMN linked integer NOT NULL DEFAULT 0;
ALTER TABLE backfill_runs ADD COLUMN stages_aligned integer NOT NULL DEFAULT 0;
ALTER TABLE backfill_runs ADD COLUMN unmatched integer NOT NULL DEFAULT 0;
