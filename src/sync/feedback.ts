/**
 * Sales feedback back to marketing (docs/architecture.md §4): while sales-progress decides the lifecycle of
 * a batch of Salesforce records, this derives the standardized feedback of each record
 * (src/domain/feedback.ts), merges its HubSpot properties into the same writes, and afterwards
 * records it and adds the timeline note a marketer reads at a glance. Rep names come from one
 * `User` query per batch, and only when the batch carries new feedback.
 */
import { refusalOf, type HubSpotContact, type SalesforceRecord } from '../crm/ports.ts';
import {
  deriveFeedback,
  renderTimelineNote,
  type FeedbackDecision,
  type FeedbackSnapshot,
  type PreviousFeedback,
} from '../domain/feedback.ts';
import { formatCents } from '../domain/money.ts';
import type { HubSpotContactSnapshot, HubSpotDecision, HubSpotPropertyMap } from '../domain/stages.ts';
import { sameValue } from '../domain/validation.ts';
import { latestFeedbackByContact, recordFeedbackEvents, setFeedbackNotes, unwrittenNotes, type FeedbackEvent } from '../store/feedback.ts';
import { writeSyncLog } from '../store/sync-log.ts';
import { contactRef, recordText, salesforceRef, type LogLine, type SyncContext, syncLogLines } from './context.ts';
import { salesforceId15, sameSalesforceId } from '../domain/salesforce-id.ts';

/** A Salesforce record moving a HubSpot contact, as sales-progress pairs them. */
export interface FeedbackMove {
  readonly type: 'Lead' | 'Opportunity';
  readonly record: SalesforceRecord;
  readonly contactId: string;
}

/** The feedback work of one batch. */
export interface FeedbackBatch {
  /**
   * The HubSpot writes for one record, in order: the lifecycle decision's steps with the feedback
   * properties merged into the last one. A refused lifecycle move carries no feedback either.
   */
  stepsFor(move: FeedbackMove, lifecycle: HubSpotDecision, current: HubSpotContactSnapshot): HubSpotPropertyMap[];
  /** Records the feedback of the contacts written without error, then writes their timeline notes. */
  finish(failedContacts: ReadonlySet<string>): Promise<void>;
}

/** Who gave the feedback: the rep who last changed the record, or its owner when that was the app. */
function repIdOf(record: SalesforceRecord, integrationUserId: string): string | null {
  const modifiedBy = recordText(record, 'LastModifiedById');
  return modifiedBy !== null && !sameSalesforceId(modifiedBy, integrationUserId) ? modifiedBy : recordText(record, 'OwnerId');
}

/** The feedback snapshot of a Lead or Opportunity record. */
export function feedbackSnapshotOf(type: 'Lead' | 'Opportunity', record: SalesforceRecord, ownerName: string | null): FeedbackSnapshot {
  const modified = recordText(record, 'LastModifiedDate') ?? recordText(record, 'SystemModstamp') ?? '';
  if (type === 'Lead') {
    return {
      object: 'Lead',
      Id: record.Id,
      Status: recordText(record, 'Status') ?? '',
      IsConverted: record.IsConverted === true,
      ConvertedOpportunityId: recordText(record, 'ConvertedOpportunityId'),
      Feedback_Reason__c: recordText(record, 'Feedback_Reason__c'),
      Feedback_Notes__c: recordText(record, 'Feedback_Notes__c'),
      OwnerName: ownerName,
      LastModifiedDate: modified,
    };
  }
  const amount = record.Amount;
  return {
    object: 'Opportunity',
    Id: record.Id,
    StageName: recordText(record, 'StageName') ?? '',
    IsClosed: record.IsClosed === true,
    IsWon: record.IsWon === true,
    Amount: typeof amount === 'number' || typeof amount === 'string' ? amount : null,
    CloseDate: recordText(record, 'CloseDate'),
    Loss_Reason__c: recordText(record, 'Loss_Reason__c'),
    Win_Reason__c: recordText(record, 'Win_Reason__c'),
    OwnerName: ownerName,
    LastModifiedDate: modified,
  };
}

/**
 * Merges a feedback decision into the lifecycle steps of the same record: the feedback
 * properties go on the last step. A recycle is the one lifecycle move feedback makes itself
 * (the taxonomy's explicit rule, e.g. a lost Opportunity recycled to nurture): when the
 * dictionary did not already move the contact back, lifecyclestage is cleared first, then set.
 */
export function mergeFeedbackSteps(
  lifecycle: HubSpotDecision,
  feedback: FeedbackDecision,
  current: HubSpotContactSnapshot,
): HubSpotPropertyMap[] {
  const steps: Record<string, string>[] = lifecycle.action === 'update' ? lifecycle.steps.map((step) => ({ ...step })) : [];
  if (feedback.kind === 'none') return steps;
  const intent = feedback.lifecycleIntent;
  const alreadyRecycled = lifecycle.action === 'update' && lifecycle.clearFirst;
  if (intent.kind === 'clear_then_set' && !alreadyRecycled) {
    const values = steps.reduce<Record<string, string>>((merged, step) => ({ ...merged, ...step }), {});
    const target = intent.properties['lifecyclestage'];
    const have = current.lifecyclestage ?? '';
    const moveBack = target !== undefined && have.trim() !== '' && !sameValue(have, target);
    const last = { ...values, ...intent.properties, ...feedback.hubspotProperties };
    return moveBack ? [{ lifecyclestage: '' }, last] : [last];
  }
  const last = steps.pop() ?? {};
  return [...steps, { ...last, ...feedback.hubspotProperties }];
}

interface Pending {
  readonly contactId: string;
  readonly move: FeedbackMove;
  readonly decision: Extract<FeedbackDecision, { kind: 'feedback' }>;
}

/** Prepares the feedback of a batch: previous feedback from Postgres, rep names from Salesforce. */
export async function prepareFeedback(
  ctx: SyncContext,
  moves: readonly FeedbackMove[],
  contacts: ReadonlyMap<string, HubSpotContact>,
): Promise<FeedbackBatch> {
  const settings = ctx.feedback;
  if (settings === undefined || moves.length === 0) {
    return {
      stepsFor: (_move, lifecycle) => (lifecycle.action === 'update' ? lifecycle.steps.map((step) => ({ ...step })) : []),
      finish: async () => undefined,
    };
  }
  const { taxonomy, integrationUserId } = settings;
  const previous = await latestFeedbackByContact(ctx.db, ctx.installationId, [...new Set(moves.map((move) => move.contactId))]);
  const names = await repNames(ctx, moves, previous, settings);
  const pending: Pending[] = [];
  const { log, entry } = syncLogLines(ctx);

  return {
    stepsFor(move, lifecycle, current) {
      if (lifecycle.action === 'none' && lifecycle.reason.startsWith('refused')) return [];
      const repId = repIdOf(move.record, integrationUserId);
      const ownerName = repId === null ? null : (names.get(salesforceId15(repId)) ?? null);
      const decision = deriveFeedback(
        previous.get(move.contactId) ?? null,
        feedbackSnapshotOf(move.type, move.record, ownerName),
        taxonomy,
        ctx.dictionary,
      );
      if (decision.kind === 'feedback') {
        const { feedback } = decision;
        previous.set(move.contactId, {
          outcome: feedback.outcome,
          reasonCode: feedback.reasonCode,
          notes: feedback.notes,
          amountCents: feedback.amountCents,
          at: feedback.at,
        });
        pending.push({ contactId: move.contactId, move, decision });
      }
      return mergeFeedbackSteps(lifecycle, decision, current);
    },

    async finish(failedContacts) {
      // 1. Record what reached HubSpot; a failed write is derived again on the record's next sync.
      await recordFeedbackEvents(ctx.db, writtenFeedback(ctx, pending, failedContacts, entry));
      await writeSyncLog(ctx.db, log.splice(0));
      // 2. Timeline notes for every recorded event of these contacts still without one (also
      //    those a crashed run recorded but did not get to), oldest first.
      const contactIds = [...new Set(pending.map((item) => item.contactId))].filter((id) => !failedContacts.has(id) && contacts.has(id));
      await addTimelineNotes(ctx, contactIds, entry);
      await writeSyncLog(ctx.db, log);
    },
  };
}

/** Names only for the reps whose records carry new feedback (a re-read of known feedback needs none), by 15-character id. */
async function repNames(
  ctx: SyncContext,
  moves: readonly FeedbackMove[],
  previous: ReadonlyMap<string, PreviousFeedback>,
  settings: NonNullable<SyncContext['feedback']>,
): Promise<Map<string, string | null>> {
  const repIds = new Set<string>();
  for (const move of moves) {
    const decision = deriveFeedback(
      previous.get(move.contactId) ?? null,
      feedbackSnapshotOf(move.type, move.record, null),
      settings.taxonomy,
      ctx.dictionary,
    );
    const repId = repIdOf(move.record, settings.integrationUserId);
    if (decision.kind === 'feedback' && repId !== null) repIds.add(repId);
  }
  const users = repIds.size === 0 ? [] : await ctx.salesforce.readRecords('User', [...repIds], ['Id', 'Name']);
  return new Map(users.map((user) => [salesforceId15(user.Id), recordText(user, 'Name')]));
}

/** The feedback events whose contact write HubSpot took; the others are logged, to be written on the record's next sync. */
function writtenFeedback(
  ctx: SyncContext,
  pending: readonly Pending[],
  failedContacts: ReadonlySet<string>,
  entry: LogLine,
): FeedbackEvent[] {
  const events: FeedbackEvent[] = [];
  for (const { contactId, move, decision } of pending) {
    const { feedback } = decision;
    const ref = salesforceRef(move.type, move.record.Id);
    if (failedContacts.has(contactId)) {
      entry(
        ref,
        'warn',
        'feedback_not_written',
        `HubSpot did not take the ${feedback.outcome} feedback; it is written on the record's next sync`,
        {
          contact: contactId,
        },
      );
      continue;
    }
    events.push({
      installationId: ctx.installationId,
      contactId,
      object: feedback.object,
      recordId: feedback.recordId,
      outcome: feedback.outcome,
      reasonCode: feedback.reasonCode,
      reasonLabel: feedback.reasonLabel,
      notes: feedback.notes,
      repName: feedback.by,
      amount: feedback.amountCents === null ? null : formatCents(feedback.amountCents),
      closeDate: feedback.closeDate,
      occurredAt: new Date(feedback.at),
    });
    entry(
      contactRef(contactId),
      'info',
      'feedback',
      `${decision.reason}: sales feedback ${feedback.outcome}${feedback.reasonCode === null ? '' : ` (${feedback.reasonCode})`}`,
      { record: ref, properties: decision.hubspotProperties },
    );
  }
  return events;
}

/**
 * Adds the timeline note of every recorded event of the contacts still without one. One batch
 * create per 100 notes; a note HubSpot refuses (the contact is gone) is logged, not retried with
 * the whole batch; a rate limit or outage fails the batch, which comes back and writes the rest.
 */
async function addTimelineNotes(ctx: SyncContext, contactIds: readonly string[], entry: LogLine): Promise<void> {
  const notes = await unwrittenNotes(ctx.db, ctx.installationId, contactIds);
  const outcomes = await ctx.hubspot.addTimelineNotes(
    notes.map(({ contactId, feedback }) => ({
      contactId,
      html: renderTimelineNote(feedback, { salesforceUrl: ctx.salesforce.recordUrl(feedback.object, feedback.recordId) }),
      at: new Date(feedback.at),
    })),
  );
  const written: { id: number; noteId: string }[] = [];
  notes.forEach((note, index) => {
    const outcome = outcomes[index];
    if (outcome?.ok) written.push({ id: note.id, noteId: outcome.id });
    else {
      entry(contactRef(note.contactId), 'error', 'feedback_note_failed', `HubSpot refused the timeline note: ${refusalOf(outcome)}`, {
        record: salesforceRef(note.feedback.object, note.feedback.recordId),
      });
    }
  });
  await setFeedbackNotes(ctx.db, written);
}
