-- Inbound events are deduplicated per installation: a notification Id (or any other sender's key)
-- seen by one installation must not make another installation drop its own event with the same key.
ALTER TABLE inbound_events DROP CONSTRAINT inbound_events_pkey;
ALTER TABLE inbound_events ADD PRIMARY KEY (installation_id, dedupe_key);
