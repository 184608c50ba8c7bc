/**
 * HubSpot wire shapes ⇄ the port's types: zod checks of the client's answers, request bodies, and
 * the attribution of a failed batch's validation errors to the inputs that caused them.
 */
import { z } from 'zod';
import type { HubSpotContact, PropertyDefinition, WriteOutcome } from '../ports.ts';
import { WRITE_IGNORED } from '../../domain/sync-failures.ts';

/** Inputs per batch request of the CRM v3 batch endpoints (docs/reference/hubspot-api.md §4.1). */
export const BATCH_LIMIT = 100;
/** Inputs per batch read that asks for `propertiesWithHistory` (HubSpot's lower cap for history reads). */
export const HISTORY_BATCH_LIMIT = 50;
/** Results per search page (the search API allows up to 200). */
export const SEARCH_PAGE_SIZE = 100;
/** The association type of a note to a contact (HUBSPOT_DEFINED, docs/reference/hubspot-api.md §5.6). */
export const NOTE_TO_CONTACT_ASSOCIATION = 202;

/** Inputs per v4 associations batch read (HubSpot allows more; the CRM batch size keeps each call small). */
export const ASSOCIATION_BATCH_LIMIT = 100;
/** The contact → company association type HubSpot labels "Primary" (HUBSPOT_DEFINED 1, docs/reference/hubspot-api.md). */
const PRIMARY_COMPANY_ASSOCIATION = 1;

/** A v4 associations batch read answer (the client renames `from` to `_from`). */
export const associationBatchSchema = z.looseObject({
  results: z.array(
    z
      .looseObject({
        _from: z.looseObject({ id: z.union([z.string(), z.number()]) }).optional(),
        from: z.looseObject({ id: z.union([z.string(), z.number()]) }).optional(),
        to: z.array(
          z.looseObject({
            toObjectId: z.union([z.string(), z.number()]),
            associationTypes: z
              .array(z.looseObject({ typeId: z.number().optional(), label: z.string().nullable().optional() }))
              .default([]),
          }),
        ),
      })
      .transform((result) => ({ ...result, _from: result._from ?? result.from ?? { id: '' } })),
  ),
});

/** Whether one of the association types is the primary company. */
export function isPrimaryCompany(types: readonly { typeId?: number | undefined; label?: string | null | undefined }[]): boolean {
  return types.some((type) => type.typeId === PRIMARY_COMPANY_ASSOCIATION || type.label === 'Primary');
}

/** A contact as the generated client returns it (`updatedAt` is deserialized into a Date). */
const contactSchema = z.looseObject({
  id: z.string().min(1),
  properties: z.record(z.string(), z.string().nullable().optional()),
  updatedAt: z.date(),
  archived: z.boolean().optional(),
});

/** One entry of `errors[]` in a 207 or a 400 body. */
const standardErrorSchema = z.looseObject({
  category: z.string().optional(),
  message: z.string().optional(),
  context: z.record(z.string(), z.array(z.string())).optional(),
});

/** Batch read / update answer (200 or 207). */
export const batchResponseSchema = z.looseObject({
  results: z.array(contactSchema),
  errors: z.array(standardErrorSchema).optional(),
});

/** Batch read answer with `propertiesWithHistory`: each version's time (a Date once the client deserialized it). */
export const historyResponseSchema = z.looseObject({
  results: z.array(
    z.looseObject({
      id: z.string().min(1),
      propertiesWithHistory: z.record(z.string(), z.array(z.looseObject({ timestamp: z.union([z.date(), z.string()]) }))).optional(),
    }),
  ),
});

/** The newest version time of each property in a history answer's result (epoch ms). */
export function changeTimesOf(result: z.output<typeof historyResponseSchema>['results'][number]): Record<string, number> {
  const times: Record<string, number> = {};
  for (const [name, versions] of Object.entries(result.propertiesWithHistory ?? {})) {
    const newest = Math.max(...versions.map((version) => new Date(version.timestamp).getTime()).filter((ms) => Number.isFinite(ms)));
    if (Number.isFinite(newest)) times[name] = newest;
  }
  return times;
}

/** Batch upsert answer: each result says whether it was created (`new`, deserialized as `_new`). */
export const upsertResponseSchema = z.looseObject({
  results: z.array(contactSchema.extend({ _new: z.boolean() })),
  errors: z.array(standardErrorSchema).optional(),
});

/** Search answer: one page and the cursor of the next. */
export const searchResponseSchema = z.looseObject({
  results: z.array(contactSchema),
  paging: z.looseObject({ next: z.looseObject({ after: z.string().min(1) }).optional() }).optional(),
});

/** The `total` of a search answer (how many records match). */
export const searchTotalSchema = z.looseObject({ total: z.number().int().nonnegative() });

/** The created note. */
export const noteSchema = z.looseObject({ id: z.string().min(1) });

/** Batch note create answer: the notes with the properties they were created with (in no set order). */
export const noteBatchSchema = z.looseObject({
  results: z.array(z.looseObject({ id: z.string().min(1), properties: z.record(z.string(), z.string().nullable()).optional() })),
});

/** `GET /crm/v3/properties/contacts`: only the names matter. */
export const propertyListSchema = z.looseObject({ results: z.array(z.looseObject({ name: z.string() })) });

/**
 * The part of a property definition the settings check reads (GET /crm/v3/properties/contacts):
 * `options[].value` of an enumeration and `modificationMetadata.readOnlyValue` (HubSpot computes the
 * value), as the CRM v3 properties API answers them. docs/reference/hubspot-api.md §3: lifecycle
 * stages and lead statuses are per-portal options, read through the Properties API.
 */
export const propertyDefinitionsSchema = z.looseObject({
  results: z.array(
    z.looseObject({
      name: z.string(),
      label: z.string(),
      type: z.string(),
      fieldType: z.string().optional(),
      options: z.array(z.looseObject({ value: z.string() })).optional(),
      modificationMetadata: z.looseObject({ readOnlyValue: z.boolean() }).optional(),
    }),
  ),
});

/** Batch property create answer (201 or 207). */
export const propertyBatchResponseSchema = z.looseObject({
  results: z.array(z.looseObject({ name: z.string() })),
  errors: z.array(standardErrorSchema).optional(),
});

/** A validation problem of one property, as HubSpot reports it in a 400. */
export interface PropertyIssue {
  propertyName: string;
  code: string;
  message: string;
}

const errorDetailSchema = z.looseObject({
  message: z.string().optional(),
  code: z.string().optional(),
  context: z.record(z.string(), z.array(z.string())).optional(),
});

const validationBodySchema = z.looseObject({
  message: z.string().optional(),
  errors: z.array(errorDetailSchema).optional(),
});

/** `Property values were not valid: [{"isValid":false,"message":…,"error":…,"name":…}]` — the legacy form. */
const legacyIssueSchema = z.array(z.looseObject({ name: z.string(), error: z.string().optional(), message: z.string().optional() }));
const LEGACY_PREFIX = 'Property values were not valid: ';

/** Reads the contact into the port's shape (missing property values become null). */
export function toHubSpotContact(raw: z.output<typeof contactSchema>): HubSpotContact {
  const properties: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(raw.properties)) properties[name] = value ?? null;
  return { id: raw.id, properties, updatedAt: raw.updatedAt.toISOString(), archived: raw.archived ?? false };
}

/** The property issues a 400 body names: structured `errors[]` first, else the legacy JSON in `message`. */
export function propertyIssuesOf(body: unknown): PropertyIssue[] {
  const parsed = validationBodySchema.safeParse(body);
  if (!parsed.success) return [];
  const issues: PropertyIssue[] = [];
  for (const detail of parsed.data.errors ?? []) {
    for (const propertyName of detail.context?.propertyName ?? []) {
      issues.push({ propertyName, code: detail.code ?? 'VALIDATION_ERROR', message: detail.message ?? 'invalid value' });
    }
  }
  const message = parsed.data.message ?? '';
  if (issues.length === 0 && message.startsWith(LEGACY_PREFIX)) {
    try {
      const legacy = legacyIssueSchema.safeParse(JSON.parse(message.slice(LEGACY_PREFIX.length)));
      if (legacy.success) {
        for (const item of legacy.data)
          issues.push({ propertyName: item.name, code: item.error ?? 'VALIDATION_ERROR', message: item.message ?? 'invalid value' });
      }
    } catch {
      // Not JSON after all: the issues stay unknown and the caller treats the batch as a whole.
    }
  }
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.propertyName}\u0000${issue.code}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Whether `message` mentions `value` as a whole token (not inside a longer word). The list of
 * allowed options that enum errors append is cut off first: it quotes every valid value.
 */
function mentions(message: string, value: string): boolean {
  if (value === '') return false;
  const cut = message.search(/allowed options|one of:?\s*\[/i);
  const text = cut === -1 ? message : message.slice(0, cut);
  const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_])${escaped}($|[^A-Za-z0-9_])`).test(text);
}

/**
 * Which inputs a batch's validation issues belong to. HubSpot names the property, not the input,
 * so an issue is pinned on the inputs that write that property — narrowed to those whose value the
 * message quotes when it quotes one (a bad enum option, a bad number). `unattributed` lists the
 * issues no input matches; then the batch cannot be split and the caller throws.
 */
export function attributeIssues(
  inputs: readonly { properties: Readonly<Record<string, string>> }[],
  issues: readonly PropertyIssue[],
): { failed: Map<number, PropertyIssue>; unattributed: PropertyIssue[] } {
  const failed = new Map<number, PropertyIssue>();
  const unattributed: PropertyIssue[] = [];
  for (const issue of issues) {
    const writers = inputs.flatMap((input, index) => (Object.hasOwn(input.properties, issue.propertyName) ? [index] : []));
    const quoted = writers.filter((index) => mentions(issue.message, inputs[index]?.properties[issue.propertyName] ?? ''));
    const culprits = quoted.length > 0 ? quoted : writers;
    if (culprits.length === 0) unattributed.push(issue);
    for (const index of culprits) if (!failed.has(index)) failed.set(index, issue);
  }
  return { failed, unattributed };
}

const namedIdsSchema = z.looseObject({
  category: z.string().optional(),
  message: z.string().optional(),
  context: z.record(z.string(), z.array(z.string())).optional(),
  errors: z
    .array(
      z.looseObject({
        message: z.string().optional(),
        code: z.string().optional(),
        context: z.record(z.string(), z.array(z.string())).optional(),
      }),
    )
    .optional(),
});

/** Inputs a refused batch names directly (`context.id`/`context.ids`, top level or in `errors[]`), with the reason. */
export function namedInputsOf(body: unknown): Map<string, { code: string; message: string }> {
  const parsed = namedIdsSchema.safeParse(body);
  const named = new Map<string, { code: string; message: string }>();
  if (!parsed.success) return named;
  const fallback = { code: parsed.data.category ?? 'VALIDATION_ERROR', message: parsed.data.message ?? 'refused' };
  for (const id of [...(parsed.data.context?.id ?? []), ...(parsed.data.context?.ids ?? [])]) named.set(id, fallback);
  for (const detail of parsed.data.errors ?? []) {
    const reason = { code: detail.code ?? fallback.code, message: detail.message ?? fallback.message };
    for (const id of [...(detail.context?.id ?? []), ...(detail.context?.ids ?? [])]) named.set(id, reason);
  }
  return named;
}

/** A value HubSpot answered a write with (2xx) without keeping what was sent. */
export interface IgnoredWrite {
  property: string;
  sent: string;
  /** What HubSpot kept; null when the property has no value. */
  kept: string | null;
}

/** Outcome code of a write HubSpot answered without an error but did not keep (named once, with the failure causes). */
export { WRITE_IGNORED };

const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const EPOCH_MILLIS = /^-?\d+$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/;
const BOOLEAN = /^(true|false)$/i;

/** A date or datetime value as epoch milliseconds (HubSpot takes either form and answers ISO 8601). */
function instantOf(value: string): number | undefined {
  if (EPOCH_MILLIS.test(value)) return Number(value);
  if (!ISO_DATE_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The options of a multiple-checkbox value (`a;b`), in a stable order. */
function optionSet(value: string): string {
  return value
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .sort()
    .join(';');
}

/**
 * Whether the value HubSpot answered is the value sent, as HubSpot stores it: `""` clears (answered
 * as null); numbers come back in canonical form (`17.0` → `17`); dates and datetimes sent as epoch
 * milliseconds or ISO 8601 come back as ISO 8601 (`2026-04-01`, `2026-04-01T08:00:00.000Z`);
 * booleans in lower case; multiple-checkbox options in any order; emails case-insensitively (HubSpot
 * matches contacts by email that way); surrounding whitespace is not kept. Anything else is a
 * real difference.
 */
export function keptAsSent(property: string, sent: string, kept: string | null): boolean {
  const a = sent.trim();
  const b = (kept ?? '').trim();
  if (a === b) return true;
  if (a === '' || b === '') return false;
  if (NUMERIC.test(a) && NUMERIC.test(b) && Number(a) === Number(b)) return true;
  const sentAt = instantOf(a);
  if (sentAt !== undefined && sentAt === instantOf(b)) return true;
  if (BOOLEAN.test(a) && a.toLowerCase() === b.toLowerCase()) return true;
  if (property === 'email' && a.toLowerCase() === b.toLowerCase()) return true;
  return (a.includes(';') || b.includes(';')) && optionSet(a) === optionSet(b);
}

/**
 * The written properties whose value in HubSpot's answer is not the one sent. A property the
 * answer leaves out is not judged (nothing says it was not kept).
 */
export function ignoredWrites(
  sent: Readonly<Record<string, string>>,
  answered: Readonly<Record<string, string | null | undefined>>,
): IgnoredWrite[] {
  const ignored: IgnoredWrite[] = [];
  for (const [property, value] of Object.entries(sent)) {
    if (!Object.hasOwn(answered, property)) continue;
    const kept = answered[property];
    if (kept === undefined) continue;
    if (!keptAsSent(property, value, kept)) ignored.push({ property, sent: value, kept });
  }
  return ignored;
}

/**
 * The failed outcome of a write HubSpot answered 2xx but did not keep, naming each property, the
 * value sent and the value kept. HubSpot does this with a move to an earlier lifecycle stage
 * (docs/reference/hubspot-api.md §3.1; docs/architecture.md §11: "read what a batch update returns").
 */
export function ignoredWriteOutcome(ignored: readonly IgnoredWrite[]): WriteOutcome {
  const parts = ignored.map(({ property, sent, kept }) => {
    const wrote = sent === '' ? 'the clear that was sent' : `the "${sent}" that was sent`;
    return `${property} is ${kept === null || kept === '' ? 'empty' : `"${kept}"`}, not ${wrote}`;
  });
  const lifecycle = ignored.some((write) => write.property === 'lifecyclestage')
    ? ' (HubSpot ignores a move to an earlier lifecycle stage unless the stage is cleared first)'
    : '';
  return {
    ok: false,
    code: WRITE_IGNORED,
    message: `HubSpot answered the update without an error but kept other values: ${parts.join('; ')}${lifecycle}`,
    fields: ignored.map((write) => write.property),
  };
}

/** The `sorts` of a CRM search: one `{ propertyName, direction }` (only the first sort is applied). */
export interface SearchSort {
  propertyName: string;
  direction: 'ASCENDING' | 'DESCENDING';
}

/**
 * Sorts in the object form the search API documents. @hubspot/api-client 14 types `sorts` as
 * `string[]` (its generated `PublicObjectSearchRequest`), yet its serializer sends the items as they
 * are and its README shows the object form (HubSpot/hubspot-api-nodejs issues #350 and #559: the type
 * is known to be too narrow); hence the cast, in this one place.
 */
export function searchSorts(sorts: readonly SearchSort[]): string[] {
  return sorts.map((sort) => ({ ...sort })) as unknown as string[];
}

/** A failed outcome for one property issue. */
export function issueOutcome(issue: PropertyIssue): WriteOutcome {
  return { ok: false, code: issue.code, message: issue.message, fields: [issue.propertyName] };
}

/** Ids a 207 names as not found (`context.ids`), with the error's category and message. */
export function missingIdsOf(errors: readonly z.output<typeof standardErrorSchema>[] | undefined): Map<string, WriteOutcome> {
  const outcomes = new Map<string, WriteOutcome>();
  for (const error of errors ?? []) {
    const ids = [...(error.context?.ids ?? []), ...(error.context?.id ?? [])];
    for (const id of ids) {
      outcomes.set(id, { ok: false, code: error.category ?? 'OBJECT_NOT_FOUND', message: error.message ?? `object ${id} not found` });
    }
  }
  return outcomes;
}

/** Merges inputs with the same key (later values win), keeping first-seen order: one write per record. */
export function coalesce<T extends { properties: Record<string, string> }>(
  items: readonly T[],
  keyOf: (item: T) => string,
): { key: string; item: T }[] {
  const merged = new Map<string, T>();
  for (const item of items) {
    const key = keyOf(item);
    const earlier = merged.get(key);
    merged.set(
      key,
      earlier === undefined
        ? { ...item, properties: { ...item.properties } }
        : { ...earlier, ...item, properties: { ...earlier.properties, ...item.properties } },
    );
  }
  return [...merged].map(([key, item]) => ({ key, item }));
}

/** Splits a list into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** The body of a property create for one definition in `groupName`. */
export function toPropertyCreate(
  definition: PropertyDefinition,
  groupName: string,
): {
  name: string;
  label: string;
  type: PropertyDefinition['type'];
  fieldType: PropertyDefinition['fieldType'];
  groupName: string;
  description?: string;
  options?: { label: string; value: string; displayOrder: number; hidden: boolean }[];
} {
  return {
    name: definition.name,
    label: definition.label,
    type: definition.type,
    fieldType: definition.fieldType,
    groupName,
    ...(definition.description === undefined ? {} : { description: definition.description }),
    ...(definition.options === undefined
      ? {}
      : {
          options: definition.options.map((option, index) => ({
            label: option.label,
            value: option.value,
            displayOrder: index,
            hidden: false,
          })),
        }),
  };
}

/**
 * Pairs created notes with their inputs: batch create answers in no set order, so by timestamp and
 * body, then by timestamp alone (HubSpot may tidy the HTML), then by position among the rest.
 */
export function matchCreatedNotes(
  inputs: readonly { html: string; at: Date }[],
  results: readonly { id: string; properties?: Record<string, string | null> | undefined }[],
): WriteOutcome[] {
  const left = [...results];
  const take = (index: number): string | undefined => (index < 0 ? undefined : left.splice(index, 1)[0]?.id);
  const timeOf = (result: (typeof results)[number]): number => Date.parse(result.properties?.hs_timestamp ?? '');
  const ids: (string | undefined)[] = inputs.map((input) =>
    take(left.findIndex((r) => timeOf(r) === input.at.getTime() && r.properties?.hs_note_body === input.html)),
  );
  inputs.forEach((input, index) => {
    if (ids[index] !== undefined) return;
    const sameTime = left.filter((r) => timeOf(r) === input.at.getTime());
    if (sameTime.length === 1 && sameTime[0]) ids[index] = take(left.indexOf(sameTime[0]));
  });
  const unmatched = ids.flatMap((id, index) => (id === undefined ? [index] : []));
  if (unmatched.length === left.length) unmatched.forEach((index, n) => (ids[index] = left[n]?.id));
  return ids.map((id): WriteOutcome =>
    id === undefined
      ? { ok: false, code: 'NOT_WRITTEN', message: 'the note is missing from the batch create answer' }
      : { ok: true, id, created: true },
  );
}

/**
 * One page of `GET /marketing/v3/campaigns` (Marketing campaigns API v3, "Campaign search"):
 * `{ total, results: [{ id, properties, createdAt, updatedAt, businessUnits }], paging?.next.after }`.
 * Only the properties asked for come back, and only those with a value.
 */
export const campaignPageSchema = z.looseObject({
  results: z.array(z.looseObject({ id: z.string(), properties: z.record(z.string(), z.string().nullable()).default({}) })),
  paging: z.looseObject({ next: z.looseObject({ after: z.string() }).optional() }).optional(),
});

/** Campaigns per page of the campaigns API (its maximum). */
export const CAMPAIGN_PAGE_SIZE = 100;
/** The campaign properties the review reads. */
export const CAMPAIGN_PROPERTIES = ['hs_name', 'hs_start_date', 'hs_end_date', 'hs_campaign_status'] as const;

/**
 * One page of the owners API (`GET /crm/v3/owners`, developers.hubspot.com "CRM API | Owners"):
 * `results[]` of `{ id, email, type, firstName, lastName, userId, userIdIncludingInactive,
 * createdAt, updatedAt, archived, teams? }`, `paging.next.after`. `archived=true` lists the
 * archived (deactivated) owners only, the default the active ones; `limit` is at most 500.
 */
export const ownerPageSchema = z.looseObject({
  results: z.array(
    z.looseObject({
      id: z.string(),
      email: z.string().nullish(),
      firstName: z.string().nullish(),
      lastName: z.string().nullish(),
      archived: z.boolean().optional(),
    }),
  ),
  paging: z.looseObject({ next: z.looseObject({ after: z.string() }).optional() }).optional(),
});
export const OWNER_PAGE_SIZE = 500;
