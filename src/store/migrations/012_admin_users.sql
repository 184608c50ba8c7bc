-- People invited to one installation: installation admins manage it, viewers read its report.
-- The operator (ADMIN_TOKEN) is not a row: the token administers every installation.
CREATE TABLE admin_users (
  id text PRIMARY KEY,
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('installation_admin', 'viewer')),
  name text NOT NULL,
  invited_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX admin_users_installation ON admin_users (installation_id);

-- Invitation links: only the SHA-256 of the link's token is stored; single use (accepted_at),
-- expiring, and cancellable until accepted.
CREATE TABLE admin_invitations (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('installation_admin', 'viewer')),
  name text NOT NULL,
  invited_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  cancelled_at timestamptz,
  user_id text REFERENCES admin_users (id) ON DELETE SET NULL
);
CREATE INDEX admin_invitations_installation ON admin_invitations (installation_id, created_at);

-- Sessions are bound to the credential that created them: the operator's carry a fingerprint of
-- ADMIN_TOKEN (rotating the token ends them), a user's carry the user (revoking the user ends
-- them). Sessions from before this migration were bound to nothing: they end here.
DELETE FROM admin_sessions;
ALTER TABLE admin_sessions ADD COLUMN credential text NOT NULL DEFAULT '';
ALTER TABLE admin_sessions ADD COLUMN user_id text REFERENCES admin_users (id) ON DELETE CASCADE;
ALTER TABLE admin_sessions ADD COLUMN absolute_expires_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX admin_sessions_user ON admin_sessions (user_id);
