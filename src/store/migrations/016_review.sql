-- The pipeline review (docs/architecture.md §13): a deal's Opportunity name and stage, so the review
-- can list new customers and losses by name and show the open pipeline by stage. Filled by the live
-- sync from every Opportunity it reads (src/sync/revenue.ts); deals recorded earlier get them at
-- their next change or the next backfill.
ALTER TABLE deals ADD COLUMN name text;
ALTER TABLE deals ADD COLUMN stage text;
CREATE INDEX deals_open ON deals (installation_id) WHERE status = 'open';
