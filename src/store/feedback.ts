/**
 * Sales feedback as it reached marketing (docs/architecture.md §4): one row per new piece of feedback, with
 * the HubSpot timeline note written for it. The latest row of a contact is what the next change
 * is compared with; the funnel report counts outcomes and reasons from here.
 */
import type { Feedback, FeedbackOutcome, PreviousFeedback } from '../domain/feedback.ts';
import { toCents } from '../domain/money.ts';
import type { Queryable } from './db.ts';

/** A feedback event to record. */
export interface FeedbackEvent {
  installationId: string;
  contactId: string;
  object: 'Lead' | 'Opportunity';
  recordId: string;
  outcome: FeedbackOutcome;
  reasonCode: string | null;
  reasonLabel: string | null;
  notes: string | null;
  repName: string | null;
  /** Two-decimal amount (`50000.00`), or null. */
  amount: string | null;
  closeDate: string | null;
  occurredAt: Date;
}

/** A recorded event whose timeline note is not written yet. */
export interface UnwrittenNote {
  id: number;
  contactId: string;
  feedback: Feedback;
}

interface LatestRow extends Record<string, unknown> {
  hubspot_contact_id: string;
  outcome: FeedbackOutcome;
  reason_code: string | null;
  notes: string | null;
  amount: number | string | null;
  occurred_at: Date | string;
}

/** The latest recorded feedback of each contact, keyed by contact id. */
export async function latestFeedbackByContact(
  db: Queryable,
  installationId: string,
  contactIds: readonly string[],
): Promise<Map<string, PreviousFeedback>> {
  if (contactIds.length === 0) return new Map();
  const rows = await db.query<LatestRow>(
    `SELECT DISTINCT ON (hubspot_contact_id) hubspot_contact_id, outcome, reason_code, notes, amount, occurred_at
     FROM feedback_events WHERE installation_id = $1 AND hubspot_contact_id = ANY($2)
     ORDER BY hubspot_contact_id, occurred_at DESC, id DESC`,
    [installationId, contactIds],
  );
  return new Map(
    rows.map((row) => [
      row.hubspot_contact_id,
      {
        outcome: row.outcome,
        reasonCode: row.reason_code,
        notes: row.notes,
        amountCents: row.amount === null ? null : toCents(row.amount),
        at: new Date(row.occurred_at).getTime(),
      },
    ]),
  );
}

/** Records feedback events; one already recorded (same record, outcome and time) is kept as it is. */
export async function recordFeedbackEvents(db: Queryable, events: readonly FeedbackEvent[]): Promise<void> {
  for (const event of events) {
    await db.query(
      `INSERT INTO feedback_events (installation_id, hubspot_contact_id, salesforce_object, salesforce_record_id, outcome, reason_code,
         reason_label, notes, rep_name, amount, close_date, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (installation_id, salesforce_record_id, outcome, occurred_at) DO NOTHING`,
      [
        event.installationId,
        event.contactId,
        event.object,
        event.recordId,
        event.outcome,
        event.reasonCode,
        event.reasonLabel,
        event.notes,
        event.repName,
        event.amount,
        event.closeDate,
        event.occurredAt,
      ],
    );
  }
}

interface EventRow extends Record<string, unknown> {
  id: number;
  hubspot_contact_id: string;
  salesforce_object: 'Lead' | 'Opportunity';
  salesforce_record_id: string;
  outcome: FeedbackOutcome;
  reason_code: string | null;
  reason_label: string | null;
  notes: string | null;
  rep_name: string | null;
  amount: number | string | null;
  close_date: string | null;
  occurred_at: Date | string;
}

/** Events of these contacts whose timeline note is still to be written, oldest first. */
export async function unwrittenNotes(db: Queryable, installationId: string, contactIds: readonly string[]): Promise<UnwrittenNote[]> {
  if (contactIds.length === 0) return [];
  const rows = await db.query<EventRow>(
    `SELECT id, hubspot_contact_id, salesforce_object, salesforce_record_id, outcome, reason_code, reason_label, notes, rep_name, amount, close_date, occurred_at
     FROM feedback_events WHERE installation_id = $1 AND note_id IS NULL AND hubspot_contact_id = ANY($2) ORDER BY occurred_at, id`,
    [installationId, contactIds],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    contactId: row.hubspot_contact_id,
    feedback: {
      outcome: row.outcome,
      object: row.salesforce_object,
      recordId: row.salesforce_record_id,
      reasonCode: row.reason_code,
      reasonLabel: row.reason_label,
      notes: row.notes,
      by: row.rep_name,
      at: new Date(row.occurred_at).getTime(),
      amountCents: row.amount === null ? null : toCents(row.amount),
      closeDate: row.close_date,
    },
  }));
}

/** Remembers the timeline notes written for events (one statement). */
export async function setFeedbackNotes(db: Queryable, notes: readonly { id: number; noteId: string }[]): Promise<void> {
  if (notes.length === 0) return;
  await db.query(
    'UPDATE feedback_events AS f SET note_id = n.note_id FROM unnest($1::bigint[], $2::text[]) AS n (id, note_id) WHERE f.id = n.id',
    [notes.map((n) => n.id), notes.map((n) => n.noteId)],
  );
}
