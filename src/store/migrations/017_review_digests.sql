-- The scheduled digest of the pipeline review (docs/architecture.md §13): one row per installation
-- and slot (`2026-W49`), inserted before anything is sent, so the digest goes out once however many
-- workers, ticks and restarts see the slot due. A sender claims the row for a short lease under a
-- token; each channel is stamped when it went out (or was given up), only by the lease holder, so a
-- retry after a failure sends only the channel still pending. A test digest from the settings page
-- has its own row (kind `test`, slot `test:<request>`) and never consumes a slot.
CREATE TABLE review_digests (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  slot_id text NOT NULL,
  kind text NOT NULL DEFAULT 'scheduled' CHECK (kind IN ('scheduled', 'test')),
  -- `2026-Q4` or `2026-12`: the review period the digest shows.
  period_id text NOT NULL,
  due_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  claim_token text,
  claimed_until timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  -- pending, sent, failed (given up, reason in *_detail) or skipped (the channel is off).
  email_state text NOT NULL CHECK (email_state IN ('pending', 'sent', 'failed', 'skipped')),
  email_to jsonb NOT NULL DEFAULT '[]',
  email_at timestamptz,
  email_detail text,
  chat_state text NOT NULL CHECK (chat_state IN ('pending', 'sent', 'failed', 'skipped')),
  chat_at timestamptz,
  chat_detail text,
  completed_at timestamptz,
  PRIMARY KEY (installation_id, slot_id)
);
CREATE INDEX review_digests_latest ON review_digests (installation_id, kind, created_at DESC);
