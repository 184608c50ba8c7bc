-- Where the app stands in each installation's HubSpot webhooks journal (docs/reference/
-- hubspot-webhooks-journal.md): the offset of the last entry whose events were enqueued, when HubSpot
-- published that entry, when the feed last found nothing newer (caught up) and its last failure, for
-- the dashboard's position, lag and health. The feed resumes after the offset; the offset advances
-- only after the entry's events are durably enqueued.
CREATE TABLE hubspot_journal_offsets (
  installation_id text PRIMARY KEY REFERENCES installations (id) ON DELETE CASCADE,
  journal_offset text,
  published_at timestamptz,
  stored_at timestamptz,
  caught_up_at timestamptz,
  last_error text,
  last_error_at timestamptz
);
