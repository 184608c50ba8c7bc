-- A link remembers the email each side last showed: `email` the HubSpot contact's, `salesforce_email`
-- the linked Lead's. With one column the two sides overwrote each other, so two links sharing an
-- email stayed reported only until the other side's next sync (docs/architecture.md §18).
ALTER TABLE record_links ADD COLUMN salesforce_email text;
CREATE INDEX record_links_salesforce_email ON record_links (installation_id, lower(salesforce_email));
