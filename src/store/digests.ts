/**
 * The review digests sent (review_digests, migration 017): one row per installation and slot,
 * claimed under a lease and a token, each channel stamped once. See the migration for the rules.
 */
import type { Queryable } from './db.ts';

/** The two ways a digest goes out. */
export type DigestChannel = 'email' | 'chat';
/** Where a channel of one digest stands. */
export type ChannelState = 'pending' | 'sent' | 'failed' | 'skipped';

/** One digest row. */
export interface DigestRecord {
  installationId: string;
  slotId: string;
  kind: 'scheduled' | 'test';
  periodId: string;
  dueAt: Date;
  createdAt: Date;
  attempts: number;
  email: { state: ChannelState; to: string[]; at: Date | null; detail: string | null };
  chat: { state: ChannelState; at: Date | null; detail: string | null };
  completedAt: Date | null;
}

interface DigestRow extends Record<string, unknown> {
  installation_id: string;
  slot_id: string;
  kind: 'scheduled' | 'test';
  period_id: string;
  due_at: Date | string;
  created_at: Date | string;
  attempts: number;
  email_state: ChannelState;
  email_to: string[] | string;
  email_at: Date | string | null;
  email_detail: string | null;
  chat_state: ChannelState;
  chat_at: Date | string | null;
  chat_detail: string | null;
  completed_at: Date | string | null;
}

const COLUMNS =
  'installation_id, slot_id, kind, period_id, due_at, created_at, attempts, email_state, email_to, email_at, email_detail, chat_state, chat_at, chat_detail, completed_at';
const dateOrNull = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));

function fromRow(row: DigestRow): DigestRecord {
  return {
    installationId: row.installation_id,
    slotId: row.slot_id,
    kind: row.kind,
    periodId: row.period_id,
    dueAt: new Date(row.due_at),
    createdAt: new Date(row.created_at),
    attempts: row.attempts,
    email: {
      state: row.email_state,
      to: typeof row.email_to === 'string' ? (JSON.parse(row.email_to) as string[]) : row.email_to,
      at: dateOrNull(row.email_at),
      detail: row.email_detail,
    },
    chat: { state: row.chat_state, at: dateOrNull(row.chat_at), detail: row.chat_detail },
    completedAt: dateOrNull(row.completed_at),
  };
}

/** What a digest is to send, decided when its row is first written (a later settings change does not alter it). */
export interface DigestPlan {
  installationId: string;
  slotId: string;
  kind: 'scheduled' | 'test';
  periodId: string;
  dueAt: Date;
  emailTo: readonly string[];
  toChat: boolean;
}

/** Writes the digest's row unless the slot has one already (the first plan of a slot stands). */
export async function planDigest(db: Queryable, plan: DigestPlan, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO review_digests (installation_id, slot_id, kind, period_id, due_at, created_at, email_state, email_to, chat_state)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
     ON CONFLICT (installation_id, slot_id) DO NOTHING`,
    [
      plan.installationId,
      plan.slotId,
      plan.kind,
      plan.periodId,
      plan.dueAt,
      now,
      plan.emailTo.length > 0 ? 'pending' : 'skipped',
      JSON.stringify(plan.emailTo),
      plan.toChat ? 'pending' : 'skipped',
    ],
  );
}

/**
 * Claims an unfinished digest for `leaseMs` under `token`: while the lease runs no other sender
 * takes it. Null when it is finished or another sender holds it.
 */
export async function claimDigest(
  db: Queryable,
  installationId: string,
  slotId: string,
  token: string,
  now: Date,
  leaseMs: number,
): Promise<DigestRecord | null> {
  const rows = await db.query<DigestRow>(
    `UPDATE review_digests SET claim_token = $3, claimed_until = $5, attempts = attempts + 1
     WHERE installation_id = $1 AND slot_id = $2 AND completed_at IS NULL AND (claimed_until IS NULL OR claimed_until < $4)
     RETURNING ${COLUMNS}`,
    [installationId, slotId, token, now, new Date(now.getTime() + leaseMs)],
  );
  return rows[0] ? fromRow(rows[0]) : null;
}

/**
 * Stamps one channel of a claimed digest (sent, or given up) — only while `token` holds it and the
 * channel is still pending, so a channel is stamped once. False when the claim was lost.
 */
export async function stampDigestChannel(
  db: Queryable,
  installationId: string,
  slotId: string,
  token: string,
  channel: DigestChannel,
  outcome: { state: 'sent' | 'failed'; at: Date; detail: string },
): Promise<boolean> {
  const [state, at, detail] = channel === 'email' ? ['email_state', 'email_at', 'email_detail'] : ['chat_state', 'chat_at', 'chat_detail'];
  const rows = await db.query(
    `UPDATE review_digests SET ${state} = $4, ${at} = $5, ${detail} = $6
     WHERE installation_id = $1 AND slot_id = $2 AND claim_token = $3 AND ${state} = 'pending'
     RETURNING slot_id`,
    [installationId, slotId, token, outcome.state, outcome.at, outcome.detail],
  );
  return rows.length > 0;
}

/** Notes why a pending channel has not gone out yet (it stays pending for the next attempt). */
export async function noteDigestRetry(
  db: Queryable,
  installationId: string,
  slotId: string,
  token: string,
  channel: DigestChannel,
  reason: string,
): Promise<void> {
  const [state, detail] = channel === 'email' ? ['email_state', 'email_detail'] : ['chat_state', 'chat_detail'];
  await db.query(
    `UPDATE review_digests SET ${detail} = $4 WHERE installation_id = $1 AND slot_id = $2 AND claim_token = $3 AND ${state} = 'pending'`,
    [installationId, slotId, token, reason],
  );
}

/** Ends a claim: the digest is complete once no channel is pending; otherwise it waits for the next attempt. */
export async function releaseDigest(
  db: Queryable,
  installationId: string,
  slotId: string,
  token: string,
  now: Date,
): Promise<DigestRecord | null> {
  const rows = await db.query<DigestRow>(
    `UPDATE review_digests SET claim_token = NULL, claimed_until = NULL,
       completed_at = CASE WHEN email_state <> 'pending' AND chat_state <> 'pending' THEN $4::timestamptz ELSE NULL END
     WHERE installation_id = $1 AND slot_id = $2 AND claim_token = $3
     RETURNING ${COLUMNS}`,
    [installationId, slotId, token, now],
  );
  return rows[0] ? fromRow(rows[0]) : null;
}

/** One digest row (tests, the settings page). */
export async function digestOf(db: Queryable, installationId: string, slotId: string): Promise<DigestRecord | null> {
  const rows = await db.query<DigestRow>(`SELECT ${COLUMNS} FROM review_digests WHERE installation_id = $1 AND slot_id = $2`, [
    installationId,
    slotId,
  ]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/** The latest digest of a kind for an installation, or null. */
export async function latestDigest(db: Queryable, installationId: string, kind: 'scheduled' | 'test'): Promise<DigestRecord | null> {
  const rows = await db.query<DigestRow>(
    `SELECT ${COLUMNS} FROM review_digests WHERE installation_id = $1 AND kind = $2 ORDER BY created_at DESC LIMIT 1`,
    [installationId, kind],
  );
  return rows[0] ? fromRow(rows[0]) : null;
}
