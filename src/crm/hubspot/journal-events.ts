/**
 * Journal subscriptions and events in terms of the webhook events the push path receives: the
 * journal subscriptions are derived from the one list of wanted webhook subscriptions, and each
 * journal event becomes the webhook event(s) the push path would have received for the same change
 * (one `contact.propertyChange` per changed property), so both feeds make the same intake jobs.
 * Reference: docs/reference/hubspot-webhooks-journal.md §4–5.
 */
import type { HubSpotEvent } from '../../queue/catalog.ts';
import type { JournalEvent, JournalSubscription, NewJournalSubscription } from './journal.ts';
import { wantedSubscriptions } from './webhook-subscriptions.ts';

/** Object type ids of the objects webhook event types name (`contact.…`). */
const OBJECT_OF_TYPE_ID: Readonly<Record<string, string>> = { '0-1': 'contact', '0-2': 'company', '0-3': 'deal' };
const TYPE_ID_OF_OBJECT: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(OBJECT_OF_TYPE_ID).map(([typeId, object]) => [object, typeId]),
);

/** Which journal subscription type and action carry each kind of webhook event. */
const JOURNAL_KIND: Readonly<Record<string, { subscriptionType: string; action: string }>> = {
  creation: { subscriptionType: 'OBJECT', action: 'CREATE' },
  propertyChange: { subscriptionType: 'OBJECT', action: 'UPDATE' },
  deletion: { subscriptionType: 'OBJECT', action: 'DELETE' },
  merge: { subscriptionType: 'OBJECT', action: 'MERGE' },
  restore: { subscriptionType: 'OBJECT', action: 'RESTORE' },
  privacyDeletion: { subscriptionType: 'GDPR_PRIVACY_DELETION', action: 'GDPR_DELETE' },
};
const KIND_OF_ACTION: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(JOURNAL_KIND).map(([kind, { action }]) => [action, kind]),
);

/**
 * The journal subscriptions of a portal that carry the wanted webhook events: one per subscription
 * type and object, with every action it needs and the watched properties of its updates.
 */
export function wantedJournalSubscriptions(portalId: number, contactProperties: readonly string[]): NewJournalSubscription[] {
  const byKey = new Map<string, NewJournalSubscription>();
  for (const wanted of wantedSubscriptions(contactProperties)) {
    const [object = '', kind = ''] = wanted.eventType.split('.');
    const journal = JOURNAL_KIND[kind];
    const objectTypeId = TYPE_ID_OF_OBJECT[object];
    if (journal === undefined || objectTypeId === undefined) throw new Error(`no journal subscription carries ${wanted.eventType}`);
    const isObject = journal.subscriptionType === 'OBJECT';
    const key = `${journal.subscriptionType}:${isObject ? objectTypeId : ''}`;
    const subscription = byKey.get(key) ?? {
      subscriptionType: journal.subscriptionType,
      portalId,
      actions: [],
      ...(isObject ? { objectTypeId } : {}),
    };
    if (!subscription.actions.includes(journal.action)) subscription.actions.push(journal.action);
    if (wanted.propertyName !== null) subscription.properties = [...(subscription.properties ?? []), wanted.propertyName];
    byKey.set(key, subscription);
  }
  return [...byKey.values()];
}

/** Whether an existing subscription already carries everything a wanted one asks for. */
export function coversSubscription(existing: JournalSubscription, wanted: NewJournalSubscription): boolean {
  return (
    existing.subscriptionType === wanted.subscriptionType &&
    existing.portalId === String(wanted.portalId) &&
    (existing.objectTypeId ?? undefined) === wanted.objectTypeId &&
    wanted.actions.every((action) => existing.actions.includes(action)) &&
    // No property list on an update subscription means every property.
    (existing.properties === null ||
      existing.properties === undefined ||
      (wanted.properties ?? []).every((p) => existing.properties?.includes(p)))
  );
}

/**
 * The webhook events a journal event stands for; none for an object or action the push path has
 * no event type for. `entryOffset` names the events (the journal has no event ids).
 */
export function webhookEventsOf(event: JournalEvent, entryOffset: string, index: number): HubSpotEvent[] {
  const kind = KIND_OF_ACTION[event.action];
  const object = event.action === 'GDPR_DELETE' ? 'contact' : OBJECT_OF_TYPE_ID[event.objectTypeId ?? ''];
  if (kind === undefined || object === undefined) return [];
  const base: HubSpotEvent = {
    eventId: `${entryOffset}:${index}`,
    subscriptionId: 'journal',
    portalId: event.portalId,
    occurredAt: event.occurredAt,
    subscriptionType: `${object}.${kind}`,
    attemptNumber: 0,
    objectId: event.objectId,
    ...(event.objectTypeId === undefined ? {} : { objectTypeId: event.objectTypeId }),
  };
  if (kind === 'creation') base.changeFlag = 'NEW';
  if (kind === 'deletion' || kind === 'privacyDeletion') base.changeFlag = 'DELETED';
  if (event.primaryObjectId !== undefined) base.primaryObjectId = event.primaryObjectId;
  if (event.mergedObjectIds !== undefined) base.mergedObjectIds = event.mergedObjectIds;
  if (event.newObjectId !== undefined) base.newObjectId = event.newObjectId;
  if (kind !== 'propertyChange') return [base];
  return Object.entries(event.propertyChanges ?? {}).map(([propertyName, value]) => ({
    ...base,
    eventId: `${entryOffset}:${index}:${propertyName}`,
    propertyName,
    propertyValue: value === null ? '' : String(value),
  }));
}
