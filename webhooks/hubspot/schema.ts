/**
 * The body of a HubSpot webhook delivery: a JSON array of at most 100 events. Ids may exceed
 * 2^53, so integer ids are captured as strings from the raw text before JSON parsing.
 */
import { z } from 'zod';
import type { HubSpotEvent } from '../../src/queue/catalog.ts';

export const MAX_EVENTS_PER_REQUEST = 100;

const ID_KEYS = [
  'objectId',
  'eventId',
  'subscriptionId',
  'portalId',
  'appId',
  'primaryObjectId',
  'newObjectId',
  'fromObjectId',
  'toObjectId',
];
const ID_LITERAL = new RegExp(`"(${ID_KEYS.join('|')})"(\\s*):(\\s*)(-?\\d+)`, 'g');

/** The id list of a merge event (`"mergedObjectIds": [1, 2]`), captured as strings like the single ids. */
const ID_ARRAY = /"mergedObjectIds"\s*:\s*\[[\s\d,-]*\]/g;

const id = z.union([z.string().regex(/^-?\d+$/), z.number().int()]).transform(String);

/** One wire event, validated and turned into the queue's event shape in a single pass. */
const WireEventSchema = z
  .object({
    eventId: id,
    subscriptionId: id,
    portalId: id,
    appId: id.optional(),
    occurredAt: z.number().int().nonnegative(),
    subscriptionType: z.string().min(1).optional(),
    eventType: z.string().min(1).optional(),
    attemptNumber: z.number().int().nonnegative().default(0),
    objectId: id,
    objectTypeId: z.string().optional(),
    propertyName: z.string().optional(),
    propertyValue: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
    changeSource: z.string().optional(),
    sourceId: z.string().optional(),
    changeFlag: z.string().optional(),
    // Merge events (https://developers.hubspot.com/changelog/new-subscription-types-for-webhooks).
    primaryObjectId: id.optional(),
    mergedObjectIds: z.array(id).optional(),
    newObjectId: id.optional(),
  })
  .refine((e) => e.subscriptionType ?? e.eventType, { message: 'subscriptionType is required' })
  .transform((e): HubSpotEvent => {
    const event: HubSpotEvent = {
      eventId: e.eventId,
      subscriptionId: e.subscriptionId,
      portalId: e.portalId,
      occurredAt: e.occurredAt,
      subscriptionType: e.subscriptionType ?? e.eventType ?? '',
      attemptNumber: e.attemptNumber,
      objectId: e.objectId,
    };
    if (e.appId !== undefined) event.appId = e.appId;
    if (e.objectTypeId !== undefined) event.objectTypeId = e.objectTypeId;
    if (e.propertyName !== undefined) event.propertyName = e.propertyName;
    if (e.propertyValue !== undefined && e.propertyValue !== null) event.propertyValue = String(e.propertyValue);
    if (e.changeSource !== undefined) event.changeSource = e.changeSource;
    if (e.sourceId !== undefined) event.sourceId = e.sourceId;
    if (e.changeFlag !== undefined) event.changeFlag = e.changeFlag;
    if (e.primaryObjectId !== undefined) event.primaryObjectId = e.primaryObjectId;
    if (e.mergedObjectIds !== undefined) event.mergedObjectIds = e.mergedObjectIds;
    if (e.newObjectId !== undefined) event.newObjectId = e.newObjectId;
    return event;
  });
const BodySchema = z.array(WireEventSchema);

export type BodyParse = { ok: true; events: HubSpotEvent[] } | { ok: false; message: string };

/** Parses and validates a delivery body (the raw bytes that were verified). */
export function parseHubSpotBody(rawBody: Buffer): BodyParse {
  let json: unknown;
  try {
    json = JSON.parse(
      rawBody
        .toString('utf8')
        .replace(ID_LITERAL, '"$1"$2:$3"$4"')
        .replace(ID_ARRAY, (list: string) => list.replace(/-?\d+/g, '"$&"')),
    );
  } catch {
    return { ok: false, message: 'body is not valid JSON' };
  }
  if (!Array.isArray(json)) return { ok: false, message: 'body must be a JSON array of events' };
  if (json.length === 0) return { ok: false, message: 'body has no events' };
  if (json.length > MAX_EVENTS_PER_REQUEST)
    return { ok: false, message: `body has ${json.length} events; at most ${MAX_EVENTS_PER_REQUEST} are accepted per request` };
  const parsed = BodySchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, message: `invalid event at ${first?.path.join('.') ?? '?'}: ${first?.message ?? 'invalid'}` };
  }
  return { ok: true, events: parsed.data };
}

/** Object events the app syncs; any other subscription type is accepted and ignored. */
export function isHandledSubscription(subscriptionType: string): boolean {
  return (
    /^(contact|deal|company)\.(creation|deletion|propertyChange|merge|restore|associationChange)$/.test(subscriptionType) ||
    subscriptionType === 'contact.privacyDeletion'
  );
}
