/**
 * Each installation's position in its HubSpot webhooks journal (`hubspot_journal_offsets`): the
 * offset of the last entry handed to the intake, and what the dashboard shows of the feed.
 */
import type { FeedRecord } from '../domain/change-feed.ts';
import type { Queryable } from './db.ts';

/** The feed's state as the domain reads it (src/domain/change-feed.ts `FeedRecord`). */
export type JournalPosition = FeedRecord;

interface Row extends Record<string, unknown> {
  journal_offset: string | null;
  published_at: Date | string | null;
  stored_at: Date | string | null;
  caught_up_at: Date | string | null;
  last_error: string | null;
  last_error_at: Date | string | null;
}

const at = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

/** The installation's position and feed state, or null when its journal was never read. */
export async function readJournalPosition(db: Queryable, installationId: string): Promise<JournalPosition | null> {
  const rows = await db.query<Row>(
    'SELECT journal_offset, published_at, stored_at, caught_up_at, last_error, last_error_at FROM hubspot_journal_offsets WHERE installation_id = $1',
    [installationId],
  );
  const row = rows[0];
  if (row === undefined) return null;
  return {
    offset: row.journal_offset,
    publishedAt: at(row.published_at),
    storedAt: at(row.stored_at),
    caughtUpAt: at(row.caught_up_at),
    lastError: row.last_error,
    lastErrorAt: at(row.last_error_at),
  };
}

/** Stores the offset the feed resumes after (and clears the last failure). */
export async function saveJournalOffset(db: Queryable, installationId: string, offset: string, publishedAt: Date | null): Promise<void> {
  await db.query(
    `INSERT INTO hubspot_journal_offsets (installation_id, journal_offset, published_at, stored_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (installation_id) DO UPDATE SET journal_offset = EXCLUDED.journal_offset, published_at = EXCLUDED.published_at,
       stored_at = now(), last_error = NULL, last_error_at = NULL`,
    [installationId, offset, publishedAt],
  );
}

/** Notes that the feed found nothing after its offset (it is caught up). */
export async function markJournalCaughtUp(db: Queryable, installationId: string): Promise<void> {
  await db.query(
    `INSERT INTO hubspot_journal_offsets (installation_id, caught_up_at) VALUES ($1, now())
     ON CONFLICT (installation_id) DO UPDATE SET caught_up_at = now(), last_error = NULL, last_error_at = NULL`,
    [installationId],
  );
}

/** Notes the feed's last failure (the message only: never a token or a URL's signature). */
export async function markJournalFailure(db: Queryable, installationId: string, message: string): Promise<void> {
  await db.query(
    `INSERT INTO hubspot_journal_offsets (installation_id, last_error, last_error_at) VALUES ($1, $2, now())
     ON CONFLICT (installation_id) DO UPDATE SET last_error = EXCLUDED.last_error, last_error_at = now()`,
    [installationId, message.slice(0, 500)],
  );
}

/** Forgets the offset: the feed starts again from the earliest entry kept. */
export async function forgetJournalOffset(db: Queryable, installationId: string): Promise<void> {
  await db.query(
    'UPDATE hubspot_journal_offsets SET journal_offset = NULL, published_at = NULL, stored_at = NULL WHERE installation_id = $1',
    [installationId],
  );
}
