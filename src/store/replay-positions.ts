/** The replay id of the last change event handed to the intake, per installation and channel (`salesforce_replay_positions`). */
import type { Queryable } from './db.ts';

/** The stored replay id, or null when the channel was never followed. */
export async function readReplayId(db: Queryable, installationId: string, channel: string): Promise<Buffer | null> {
  const rows = await db.query<{ replay_id: Uint8Array }>(
    'SELECT replay_id FROM salesforce_replay_positions WHERE installation_id = $1 AND channel = $2',
    [installationId, channel],
  );
  const stored = rows[0]?.replay_id;
  return stored === undefined ? null : Buffer.from(stored);
}

/** Stores the replay id the channel resumes after. */
export async function saveReplayId(db: Queryable, installationId: string, channel: string, replayId: Buffer): Promise<void> {
  await db.query(
    `INSERT INTO salesforce_replay_positions (installation_id, channel, replay_id) VALUES ($1, $2, $3)
     ON CONFLICT (installation_id, channel) DO UPDATE SET replay_id = EXCLUDED.replay_id, stored_at = now()`,
    [installationId, channel, replayId],
  );
}

/** Forgets a channel's position (its replay id expired): the next subscription starts from LATEST. */
export async function forgetReplayId(db: Queryable, installationId: string, channel: string): Promise<void> {
  await db.query('DELETE FROM salesforce_replay_positions WHERE installation_id = $1 AND channel = $2', [installationId, channel]);
}
