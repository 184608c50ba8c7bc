-- Reconciler watermarks: per installation and stream, the newest modification time already
-- compared, with the record id that broke the tie at that instant.
CREATE TABLE reconcile_watermarks (
  installation_id text NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
  stream text NOT NULL,
  watermark timestamptz NOT NULL,
  last_id text NOT NULL DEFAULT '',
  caught bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (installation_id, stream)
);
