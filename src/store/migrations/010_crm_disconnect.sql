-- When an admin disconnected one side (its grant revoked and forgotten) while the other stays:
-- the installation's sync waits, like a pause, until that side is connected again through OAuth.
ALTER TABLE installations ADD COLUMN hubspot_disconnected_at timestamptz;
ALTER TABLE installations ADD COLUMN salesforce_disconnected_at timestamptz;
