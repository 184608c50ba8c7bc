-- An inbound event that was the app's own write coming back (an echo). The reconciler does not take
-- it for news of a person's change: a change whose webhook was lost just before the app wrote the
-- same record would otherwise look covered by the echo's time, and stay unsynced (chaos suite).
ALTER TABLE inbound_events ADD COLUMN own_write boolean NOT NULL DEFAULT false;
