-- Admin sessions: the browser cookie holds a random session id; only its SHA-256 is stored, so a
-- copy of this table signs nobody in. The CSRF token is per session and goes into pages and forms.
CREATE TABLE admin_sessions (
  id_hash text PRIMARY KEY,
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- OAuth installs in flight: the `state` sent to HubSpot / Salesforce (hashed), the browser that
-- started the flow (hash of a cookie nonce), the installation being connected and, for
-- Salesforce, the sealed PKCE code verifier. Single use, short lived.
CREATE TABLE oauth_states (
  state_hash text PRIMARY KEY,
  provider text NOT NULL CHECK (provider IN ('hubspot', 'salesforce')),
  installation_id text REFERENCES installations (id) ON DELETE CASCADE,
  browser_hash text NOT NULL,
  code_verifier bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);

-- What admins did (connect, provision, edit settings, replay, uninstall): shown on the dashboard.
CREATE TABLE admin_audit (
  id bigserial PRIMARY KEY,
  installation_id text REFERENCES installations (id) ON DELETE CASCADE,
  action text NOT NULL,
  summary text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_audit_installation ON admin_audit (installation_id, created_at);

ALTER TABLE installations ADD COLUMN uninstalled_at timestamptz;

-- The funnel report filters stage history by time and the sync log by record.
CREATE INDEX stage_history_time ON stage_history (installation_id, occurred_at);
CREATE INDEX record_links_contact_email ON record_links (installation_id, salesforce_contact_id) WHERE salesforce_contact_id IS NOT NULL;
