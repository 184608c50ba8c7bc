-- The SLA alert target (URL and signing secret) sealed like the OAuth credentials, instead of in
-- the settings jsonb. Targets saved there before are moved in (and removed) at boot.
ALTER TABLE installations ADD COLUMN alert_target bytea;
