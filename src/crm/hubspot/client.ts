/**
 * The HubSpot adapter: `HubSpotPort` over the real `@hubspot/api-client` (CRM v3 batch, search,
 * notes and properties APIs). Every HTTP call waits for the shared limiter first; failures leave as
 * the classes of `../errors.ts`; per-record failures come back as `WriteOutcome` values.
 */
import { Client } from '@hubspot/api-client';
import type { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/contacts/models/Filter.js';
import type { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/objects/notes/models/AssociationSpec.js';
import type { PropertyCreate } from '@hubspot/api-client/lib/codegen/crm/properties/models/PropertyCreate.js';
import type { z } from 'zod';
import { CrmRejectedError } from '../errors.ts';
import { createNoopLimiter, type RequestLimiter } from '../limiter.ts';
import type {
  ApiLimitUsage,
  ContactPropertyInfo,
  HubSpotCompany,
  HubSpotContact,
  HubSpotPort,
  PropertyDefinition,
  ScheduledCampaign,
  WriteOutcome,
} from '../ports.ts';
import type { HubSpotOwner } from '../../domain/owners.ts';
import { err, ok, type Result } from '../../domain/result.ts';
import { describeBody, toHubSpotError } from './errors.ts';
import {
  ASSOCIATION_BATCH_LIMIT,
  CAMPAIGN_PAGE_SIZE,
  CAMPAIGN_PROPERTIES,
  campaignPageSchema,
  OWNER_PAGE_SIZE,
  ownerPageSchema,
  associationBatchSchema,
  isPrimaryCompany,
  BATCH_LIMIT,
  HISTORY_BATCH_LIMIT,
  NOTE_TO_CONTACT_ASSOCIATION,
  SEARCH_PAGE_SIZE,
  attributeIssues,
  batchResponseSchema,
  chunk,
  coalesce,
  ignoredWriteOutcome,
  ignoredWrites,
  issueOutcome,
  matchCreatedNotes,
  missingIdsOf,
  namedInputsOf,
  noteBatchSchema,
  noteSchema,
  propertyBatchResponseSchema,
  propertyIssuesOf,
  propertyDefinitionsSchema,
  propertyListSchema,
  searchResponseSchema,
  searchSorts,
  searchTotalSchema,
  toHubSpotContact,
  toPropertyCreate,
  upsertResponseSchema,
  changeTimesOf,
  historyResponseSchema,
} from './mapper.ts';

/** How the adapter reaches one HubSpot account. */
export interface HubSpotAdapterOptions {
  /**
   * A private-app token, or a function returning a valid OAuth access token, asked before each request
   * (refresh by the token's TTL; throw CrmAuthError when the grant is gone).
   */
  accessToken: string | (() => Promise<string>);
  /** API root without a trailing slash, e.g. `https://api.hubapi.com` or the sandbox URL. */
  basePath: string;
  /** Shared pacing (default: none — HubSpot's 429 is then the only brake). */
  limiter?: RequestLimiter;
  /** The portal the token belongs to: names the limiter key (`hubspot:<portalId>`); default the basePath. */
  portalId?: number | string;
}

/** The generated APIs the adapter uses, built for one access token. */
interface HubSpotApis {
  contacts: Client['crm']['contacts'];
  companies: Client['crm']['companies'];
  associations: Client['crm']['associations']['v4'];
  notes: Client['crm']['objects']['notes'];
  properties: Client['crm']['properties'];
}

/**
 * A client for one token. The client keeps its retry/limiter decorators in a process-wide singleton
 * and applies them when an API object is first touched; touching ours right away pins them to this
 * client's settings (none: retries are the queue's job, pacing the limiter's).
 */
function apisFor(accessToken: string, basePath: string): HubSpotApis {
  const client = new Client({ accessToken, basePath, numberOfApiCallRetries: 0 });
  return {
    contacts: client.crm.contacts,
    companies: client.crm.companies,
    associations: client.crm.associations.v4,
    notes: client.crm.objects.notes,
    properties: client.crm.properties,
  };
}

/** Checks an answer against its schema; a mismatch is a contract break, not something to retry. */
function parseAnswer<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new CrmRejectedError(
      'hubspot',
      'UNEXPECTED_RESPONSE',
      `HubSpot ${what}: unexpected answer: ${parsed.error.issues[0]?.message ?? 'shape mismatch'}`,
    );
  }
  return parsed.data;
}

/** The HTTP status and body of a client failure, when it is one. */
function apiFailureOf(error: unknown): { status: number; body: unknown } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { code?: unknown; body?: unknown };
  return typeof candidate.code === 'number' ? { status: candidate.code, body: candidate.body } : undefined;
}

/** What every method of the HubSpot adapter shares: the token, the client for it, the limiter, error translation. */
class HubSpotTransport {
  readonly limiter: RequestLimiter;
  readonly limiterKey: string;
  readonly basePath: string;
  readonly tokenOf: () => Promise<string>;
  /** The token of the latest request, kept out of error messages. */
  lastToken: string;
  private current: { token: string; apis: HubSpotApis } | undefined;

  constructor(options: HubSpotAdapterOptions) {
    this.limiter = options.limiter ?? createNoopLimiter();
    this.limiterKey = `hubspot:${options.portalId ?? options.basePath}`;
    this.basePath = options.basePath.replace(/\/+$/, '');
    const { accessToken } = options;
    this.tokenOf = typeof accessToken === 'string' ? async () => accessToken : accessToken;
    this.lastToken = typeof accessToken === 'string' ? accessToken : '';
  }

  /**
   * The APIs for the current token. A token function is asked before every request; a new token
   * (an OAuth refresh, every ~30 min) gets a new client, because the generated APIs of this client
   * version ignore configured middleware and `setAccessToken` rebuilds everything anyway.
   */
  async apis(): Promise<HubSpotApis> {
    const token = await this.tokenOf();
    this.lastToken = token;
    if (this.current?.token !== token) this.current = { token, apis: apisFor(token, this.basePath) };
    return this.current.apis;
  }

  /** One HTTP call: wait for the limiter, run, translate failures. */
  async call<T>(what: string, run: (api: HubSpotApis) => Promise<T>): Promise<T> {
    const api = await this.apis();
    await this.limiter.acquire(this.limiterKey);
    try {
      return await run(api);
    } catch (error) {
      throw toHubSpotError(error, what, [this.lastToken]);
    }
  }

  /**
   * Sends one batch write. HubSpot refuses a whole batch for one bad input and writes nothing; when
   * the 400 names inputs (by id, or by a property only some inputs write) those fail as values and
   * the rest go again, once. A refusal that names nothing usable is thrown.
   */
  async writeBatch<T extends { properties: Record<string, string> }, R>(
    what: string,
    inputs: readonly T[],
    keyOf: (input: T) => string,
    send: (api: HubSpotApis, inputs: readonly T[]) => Promise<R>,
  ): Promise<{ sent: T[]; answer: R | undefined; failed: Map<T, WriteOutcome> }> {
    const failed = new Map<T, WriteOutcome>();
    let pending = [...inputs];
    for (let attempt = 0; attempt < 2 && pending.length > 0; attempt++) {
      const api = await this.apis();
      await this.limiter.acquire(this.limiterKey);
      try {
        return { sent: pending, answer: await send(api, pending), failed };
      } catch (error) {
        const failure = apiFailureOf(error);
        if (failure?.status !== 400 || attempt > 0) throw toHubSpotError(error, what, [this.lastToken]);
        const culprits = culpritsOf(pending, keyOf, failure.body);
        if (culprits === undefined) throw toHubSpotError(error, what, [this.lastToken]);
        for (const [index, outcome] of culprits) {
          const input = pending[index];
          if (input !== undefined) failed.set(input, outcome);
        }
        pending = pending.filter((_, index) => !culprits.has(index));
      }
    }
    return { sent: [], answer: undefined, failed };
  }

  /**
   * One call the SDK has no typed API for, through its `apiRequest` (token, rate limiter, no SDK
   * retries): the answer with its parsed body and lower-cased headers, and `failure` — the error the
   * adapter throws — when it is not a 2xx. A call that never got an answer throws.
   */
  async rawRequest(operation: string, request: { method: 'GET' | 'POST'; path: string; qs: Record<string, string | number> }) {
    const token = await this.tokenOf();
    this.lastToken = token;
    await this.limiter.acquire(this.limiterKey);
    let response: Awaited<ReturnType<Client['apiRequest']>>;
    try {
      response = await new Client({ accessToken: token, basePath: this.basePath, numberOfApiCallRetries: 0 }).apiRequest(request);
    } catch (error) {
      throw toHubSpotError(error, operation, [token]);
    }
    const body: unknown = await response.json().catch(() => undefined);
    const headers = Object.fromEntries([...response.headers.entries()].map(([name, value]) => [name.toLowerCase(), value]));
    // An answer with a status is always one of the CRM errors (src/crm/hubspot/errors.ts).
    const failure = response.ok ? null : (toHubSpotError({ code: response.status, body, headers }, operation, [token]) as Error);
    return { status: response.status, body, headers, failure };
  }
}

/** The inputs a 400 body pins its problems on, or undefined when any problem stays unexplained. */
function culpritsOf<T extends { properties: Record<string, string> }>(
  inputs: readonly T[],
  keyOf: (input: T) => string,
  body: unknown,
): Map<number, WriteOutcome> | undefined {
  const culprits = new Map<number, WriteOutcome>();
  const named = namedInputsOf(body);
  inputs.forEach((input, index) => {
    const reason = named.get(keyOf(input));
    if (reason !== undefined) culprits.set(index, { ok: false, code: reason.code, message: reason.message });
  });
  const issues = propertyIssuesOf(body);
  const { failed, unattributed } = attributeIssues(inputs, issues);
  for (const [index, issue] of failed) if (!culprits.has(index)) culprits.set(index, issueOutcome(issue));
  const unexplained = unattributed.length > 0 || (issues.length === 0 && culprits.size < named.size) || culprits.size === 0;
  return unexplained ? undefined : culprits;
}

/** A 403 as the expected answer of an API the portal or token may not have: HubSpot's reason, and what the API needs. */
function forbiddenReason(body: unknown, needs: string): string {
  const { message, category } = (typeof body === 'object' && body !== null ? body : {}) as { message?: unknown; category?: unknown };
  return `HubSpot answered 403${typeof category === 'string' ? ` ${category}` : ''}: ${typeof message === 'string' ? message : 'forbidden'} (${needs})`;
}

async function readContacts(t: HubSpotTransport, ids: readonly string[], names: readonly string[]): Promise<HubSpotContact[]> {
  const contactsRead: HubSpotContact[] = [];
  for (const part of chunk([...new Set(ids)], BATCH_LIMIT)) {
    const answer = await t.call('batch read contacts', ({ contacts }) =>
      contacts.batchApi.read({ inputs: part.map((id) => ({ id })), properties: [...names], propertiesWithHistory: [] }, false),
    );
    // A 207 lists unknown ids in errors[]; they are simply left out.
    contactsRead.push(...parseAnswer(batchResponseSchema, answer, 'batch read contacts').results.map(toHubSpotContact));
  }
  return contactsRead;
}

async function readPropertyChangeTimes(
  t: HubSpotTransport,
  ids: readonly string[],
  names: readonly string[],
): Promise<Map<string, Record<string, number>>> {
  const times = new Map<string, Record<string, number>>();
  // HubSpot takes at most 50 inputs in a batch read that asks for property history.
  for (const part of chunk([...new Set(ids)], HISTORY_BATCH_LIMIT)) {
    const answer = await t.call('batch read contact history', ({ contacts }) =>
      contacts.batchApi.read({ inputs: part.map((id) => ({ id })), properties: [], propertiesWithHistory: [...names] }, false),
    );
    for (const result of parseAnswer(historyResponseSchema, answer, 'batch read contact history').results)
      times.set(result.id, changeTimesOf(result));
  }
  return times;
}

/** Batch updates of contacts or companies (the same v3 batch API), with HubSpot's silently kept values caught. */
async function updateObjects(
  t: HubSpotTransport,
  objectType: 'contacts' | 'companies',
  updates: readonly { id: string; properties: Record<string, string> }[],
): Promise<Map<string, WriteOutcome>> {
  const singular = objectType === 'contacts' ? 'contact' : 'company';
  const outcomes = new Map<string, WriteOutcome>();
  for (const part of chunk(
    coalesce(updates, (update) => update.id),
    BATCH_LIMIT,
  )) {
    const items = part.map(({ item }) => item);
    const { sent, answer, failed } = await t.writeBatch(
      `batch update ${objectType}`,
      items,
      (input) => input.id,
      (api, inputs) => api[objectType].batchApi.update({ inputs: inputs.map((input) => ({ id: input.id, properties: input.properties })) }),
    );
    for (const [input, outcome] of failed) outcomes.set(input.id, outcome);
    if (answer === undefined) continue;
    const parsed = parseAnswer(batchResponseSchema, answer, `batch update ${objectType}`);
    const written = new Map(parsed.results.map((result) => [result.id, result]));
    const missing = missingIdsOf(parsed.errors);
    for (const input of sent) {
      const result = written.get(input.id);
      if (result === undefined) {
        outcomes.set(
          input.id,
          missing.get(input.id) ?? { ok: false, code: 'OBJECT_NOT_FOUND', message: `${singular} ${input.id} was not updated` },
        );
        continue;
      }
      // A 2xx is not proof: HubSpot answers with the values it kept, and it keeps its own for some
      // writes (a move to an earlier lifecycle stage) without an error.
      const ignored = ignoredWrites(input.properties, result.properties);
      outcomes.set(input.id, ignored.length === 0 ? { ok: true, id: input.id, created: false } : ignoredWriteOutcome(ignored));
    }
  }
  return outcomes;
}

async function readCompanies(t: HubSpotTransport, ids: readonly string[], names: readonly string[]): Promise<HubSpotCompany[]> {
  const read: HubSpotCompany[] = [];
  for (const part of chunk([...new Set(ids)], BATCH_LIMIT)) {
    const answer = await t.call('batch read companies', ({ companies }) =>
      companies.batchApi.read({ inputs: part.map((id) => ({ id })), properties: [...names], propertiesWithHistory: [] }, false),
    );
    // A 207 lists unknown ids in errors[]; they are simply left out.
    read.push(
      ...parseAnswer(batchResponseSchema, answer, 'batch read companies').results.map((result) => ({
        id: result.id,
        properties: toHubSpotContact(result).properties,
      })),
    );
  }
  return read;
}

/** The companies each contact is associated with (v4 associations batch read, primary first). */
async function companiesOfContacts(t: HubSpotTransport, contactIds: readonly string[]): Promise<Map<string, string[]>> {
  const companies = new Map<string, string[]>();
  for (const part of chunk([...new Set(contactIds)], ASSOCIATION_BATCH_LIMIT)) {
    const answer = await t.call('batch read contact companies', ({ associations }) =>
      associations.batchApi.getPage('contacts', 'companies', { inputs: part.map((id) => ({ id })) }),
    );
    for (const result of parseAnswer(associationBatchSchema, answer, 'batch read contact companies').results) {
      const targets = [...result.to].sort(
        (a, b) => Number(isPrimaryCompany(b.associationTypes)) - Number(isPrimaryCompany(a.associationTypes)),
      );
      companies.set(
        String(result._from.id),
        targets.map((target) => String(target.toObjectId)),
      );
    }
  }
  return companies;
}

async function upsertContactsByEmail(
  t: HubSpotTransport,
  inputs: readonly { email: string; properties: Record<string, string> }[],
): Promise<Map<string, WriteOutcome>> {
  const outcomes = new Map<string, WriteOutcome>();
  const keyed = coalesce(
    inputs.map((input) => ({ email: input.email.trim().toLowerCase(), properties: input.properties })),
    (input) => input.email,
  );
  for (const part of chunk(keyed, BATCH_LIMIT)) {
    const items = part.map(({ item }) => item);
    const { sent, answer, failed } = await t.writeBatch(
      'batch upsert contacts',
      items,
      (input) => input.email,
      ({ contacts }, batch) =>
        contacts.batchApi.upsert({
          inputs: batch.map((input) => {
            // The email is the id; sending it as a property too would let HubSpot store a differently cased copy.
            const { email: _ignored, ...rest } = input.properties;
            return { id: input.email, idProperty: 'email', properties: rest };
          }),
        }),
    );
    for (const [input, outcome] of failed) outcomes.set(input.email, outcome);
    if (answer === undefined) continue;
    const parsed = parseAnswer(upsertResponseSchema, answer, 'batch upsert contacts');
    const byEmail = new Map(parsed.results.map((result) => [(result.properties.email ?? '').toLowerCase(), result]));
    sent.forEach((input, index) => {
      // Results carry the email; fall back to the position when a result lacks it.
      const result = byEmail.get(input.email) ?? (parsed.results.length === sent.length ? parsed.results[index] : undefined);
      outcomes.set(
        input.email,
        result === undefined
          ? { ok: false, code: 'NOT_WRITTEN', message: `contact ${input.email} is missing from the upsert answer` }
          : { ok: true, id: result.id, created: result._new },
      );
    });
  }
  return outcomes;
}

function noteInput(note: { contactId: string; html: string; at: Date }) {
  return {
    properties: { hs_timestamp: note.at.toISOString(), hs_note_body: note.html },
    associations: [
      {
        to: { id: note.contactId },
        types: [
          {
            associationCategory: 'HUBSPOT_DEFINED' as AssociationSpecAssociationCategoryEnum,
            associationTypeId: NOTE_TO_CONTACT_ASSOCIATION,
          },
        ],
      },
    ],
  };
}

async function addTimelineNote(t: HubSpotTransport, contactId: string, html: string, at: Date): Promise<string> {
  const created = await t.call('create note', ({ notes }) => notes.basicApi.create(noteInput({ contactId, html, at })));
  return parseAnswer(noteSchema, created, 'create note').id;
}

async function addTimelineNotes(
  t: HubSpotTransport,
  notes: readonly { contactId: string; html: string; at: Date }[],
): Promise<WriteOutcome[]> {
  const outcomes: WriteOutcome[] = [];
  for (const part of chunk([...notes], BATCH_LIMIT)) {
    let answer: unknown;
    try {
      answer = await t.call('batch create notes', ({ notes: api }) => api.batchApi.create({ inputs: part.map(noteInput) }));
    } catch (error) {
      if (!(error instanceof CrmRejectedError) || error.code === 'UNEXPECTED_RESPONSE') throw error;
      // Refused as a whole (one association to a deleted contact is enough): one at a time.
      for (const note of part) {
        try {
          outcomes.push({ ok: true, id: await addTimelineNote(t, note.contactId, note.html, note.at), created: true });
        } catch (single) {
          if (!(single instanceof CrmRejectedError)) throw single;
          outcomes.push({ ok: false, code: single.code, message: single.message });
        }
      }
      continue;
    }
    outcomes.push(...matchCreatedNotes(part, parseAnswer(noteBatchSchema, answer, 'batch create notes').results));
  }
  return outcomes;
}

async function findContactsChangedSince(
  t: HubSpotTransport,
  since: Date,
  names: readonly string[],
  after?: string,
): Promise<{ contacts: HubSpotContact[]; after?: string }> {
  const page = await t.call('search contacts', ({ contacts }) =>
    contacts.searchApi.doSearch({
      filterGroups: [
        { filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE' as FilterOperatorEnum, value: String(since.getTime()) }] },
      ],
      sorts: searchSorts([{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }]),
      properties: [...new Set(['lastmodifieddate', ...names])],
      limit: SEARCH_PAGE_SIZE,
      ...(after === undefined ? {} : { after }),
    }),
  );
  const parsed = parseAnswer(searchResponseSchema, page, 'search contacts');
  const next = parsed.paging?.next?.after;
  return { contacts: parsed.results.map(toHubSpotContact), ...(next === undefined ? {} : { after: next }) };
}

async function readContactsByEmail(t: HubSpotTransport, emails: readonly string[], names: readonly string[]): Promise<HubSpotContact[]> {
  const wanted = [...new Set(emails.map((email) => email.trim().toLowerCase()).filter((email) => email !== ''))];
  const found: HubSpotContact[] = [];
  for (const part of chunk(wanted, BATCH_LIMIT)) {
    const answer = await t.call('batch read contacts by email', ({ contacts }) =>
      contacts.batchApi.read(
        {
          inputs: part.map((id) => ({ id })),
          idProperty: 'email',
          properties: [...new Set(['email', ...names])],
          propertiesWithHistory: [],
        },
        false,
      ),
    );
    // A 207 lists unknown emails in errors[]; they are simply left out.
    found.push(...parseAnswer(batchResponseSchema, answer, 'batch read contacts by email').results.map(toHubSpotContact));
  }
  return found;
}

async function listContacts(
  t: HubSpotTransport,
  names: readonly string[],
  after?: string,
): Promise<{ contacts: HubSpotContact[]; after?: string }> {
  const page = await t.call('list contacts', ({ contacts }) =>
    contacts.basicApi.getPage(BATCH_LIMIT, after, [...names], undefined, undefined, false),
  );
  const parsed = parseAnswer(searchResponseSchema, page, 'list contacts');
  const next = parsed.paging?.next?.after;
  return { contacts: parsed.results.map(toHubSpotContact), ...(next === undefined ? {} : { after: next }) };
}

async function countContacts(t: HubSpotTransport): Promise<number> {
  const answer = await t.call('count contacts', ({ contacts }) =>
    contacts.searchApi.doSearch({ filterGroups: [], properties: ['hs_object_id'], limit: 1 }),
  );
  return parseAnswer(searchTotalSchema, answer, 'count contacts').total;
}

async function ensureProperties(
  t: HubSpotTransport,
  objectType: 'contacts' | 'companies',
  group: { name: string; label: string },
  definitions: readonly PropertyDefinition[],
  dryRun: boolean,
): Promise<{ missing: string[]; created: string[] }> {
  const existing = parseAnswer(
    propertyListSchema,
    await t.call(`list ${objectType} properties`, ({ properties }) => properties.coreApi.getAll(objectType, false)),
    `list ${objectType} properties`,
  );
  const names = new Set(existing.results.map((property) => property.name));
  const wanted = [...new Map(definitions.map((definition) => [definition.name, definition])).values()];
  const missing = wanted.filter((definition) => !names.has(definition.name));
  if (dryRun || missing.length === 0) return { missing: missing.map((definition) => definition.name), created: [] };

  await ensureGroup(t, objectType, group);
  const created: string[] = [];
  for (const part of chunk(missing, BATCH_LIMIT)) {
    const answer = await t.call(`create ${objectType} properties`, ({ properties }) =>
      properties.batchApi.create(objectType, {
        inputs: part.map((definition) => toPropertyCreate(definition, group.name) as PropertyCreate),
      }),
    );
    const parsed = parseAnswer(propertyBatchResponseSchema, answer, `create ${objectType} properties`);
    created.push(...parsed.results.map((property) => property.name));
    // A property another installer created meanwhile is fine; anything else is a real refusal.
    const refused = (parsed.errors ?? []).filter((error) => error.category !== 'OBJECT_ALREADY_EXISTS');
    const first = refused[0];
    if (first !== undefined) {
      throw new CrmRejectedError(
        'hubspot',
        first.category ?? 'VALIDATION_ERROR',
        `HubSpot create ${objectType} properties: ${first.message ?? 'refused'}`,
      );
    }
  }
  return { missing: missing.map((definition) => definition.name), created };
}

async function ensureGroup(
  t: HubSpotTransport,
  objectType: 'contacts' | 'companies',
  group: { name: string; label: string },
): Promise<void> {
  const { properties } = await t.apis();
  try {
    await t.limiter.acquire(t.limiterKey);
    await properties.groupsApi.getByName(objectType, group.name);
    return;
  } catch (error) {
    if (apiFailureOf(error)?.status !== 404) throw toHubSpotError(error, 'read property group', [t.lastToken]);
  }
  try {
    await t.limiter.acquire(t.limiterKey);
    await properties.groupsApi.create(objectType, { name: group.name, label: group.label });
  } catch (error) {
    const failure = apiFailureOf(error);
    // Created by a concurrent install: the group is there, which is all we need.
    if (failure?.status === 409 || describeBody(failure?.body, failure?.status ?? 0).category === 'OBJECT_ALREADY_EXISTS') return;
    throw toHubSpotError(error, 'create property group', [t.lastToken]);
  }
}

/** One cheap read (a single contact id) whose rate-limit headers tell the usage (docs/reference/hubspot-api.md §4.2). */
async function readContactProperties(t: HubSpotTransport): Promise<ContactPropertyInfo[]> {
  const answer = parseAnswer(
    propertyDefinitionsSchema,
    await t.call('list contact properties', ({ properties }) => properties.coreApi.getAll('contacts', false)),
    'list contact properties',
  );
  return answer.results.map((property) => ({
    name: property.name,
    label: property.label,
    type: property.type,
    fieldType: property.fieldType ?? null,
    options: property.type === 'enumeration' ? (property.options ?? []).map((option) => option.value) : null,
    readOnly: property.modificationMetadata?.readOnlyValue ?? false,
  }));
}

async function apiUsage(t: HubSpotTransport): Promise<ApiLimitUsage[]> {
  const { headers, failure } = await t.rawRequest('read API usage', { method: 'GET', path: '/crm/v3/objects/contacts', qs: { limit: 1 } });
  if (failure) throw failure;
  const usage: ApiLimitUsage[] = [];
  const windowMax = Number(headers['x-hubspot-ratelimit-max']);
  const windowRemaining = Number(headers['x-hubspot-ratelimit-remaining']);
  const intervalMs = Number(headers['x-hubspot-ratelimit-interval-milliseconds']);
  if (Number.isFinite(windowMax) && Number.isFinite(windowRemaining) && windowMax > 0) {
    const seconds = Number.isFinite(intervalMs) && intervalMs > 0 ? intervalMs / 1000 : 10;
    usage.push({ name: `Requests per ${seconds} s window`, used: windowMax - windowRemaining, max: windowMax });
    // The account's own burst limit (it depends on the HubSpot tier): the pacing follows it. A
    // lesson that cannot be saved leaves the pacing as it was; the usage is still reported.
    await t.limiter.learn?.(t.limiterKey, { max: windowMax, intervalMs: seconds * 1000 }).catch(() => undefined);
  }
  // Daily headers are not sent for OAuth-authorised requests.
  const dailyMax = Number(headers['x-hubspot-ratelimit-daily']);
  const dailyRemaining = Number(headers['x-hubspot-ratelimit-daily-remaining']);
  if (Number.isFinite(dailyMax) && Number.isFinite(dailyRemaining) && dailyMax > 0) {
    usage.push({ name: 'Daily API requests', used: dailyMax - dailyRemaining, max: dailyMax });
  }
  return usage;
}

/**
 * Every page of the campaigns list, kept to those starting in [from, until): the list has no date
 * filter (query parameters: sort, after, limit, name, properties). A 403 — the portal lacks
 * Marketing Hub Professional, or the token the `marketing.campaigns.read` scope
 * (developers.hubspot.com, Campaigns API: "Scope requirements") — is HubSpot's answer, not a fault.
 */
async function campaignsStartingBetween(t: HubSpotTransport, from: Date, until: Date): Promise<Result<ScheduledCampaign[], string>> {
  const first = from.toISOString().slice(0, 10);
  const last = until.toISOString().slice(0, 10);
  const campaigns: ScheduledCampaign[] = [];
  let after: string | undefined;
  do {
    const qs: Record<string, string | number> = { limit: CAMPAIGN_PAGE_SIZE, sort: 'hs_name', properties: CAMPAIGN_PROPERTIES.join(',') };
    if (after !== undefined) qs.after = after;
    const { status, body, failure } = await t.rawRequest('list marketing campaigns', {
      method: 'GET',
      path: '/marketing/v3/campaigns',
      qs,
    });
    if (status === 403)
      return err(
        forbiddenReason(body, 'the campaigns API needs Marketing Hub Professional or Enterprise and the marketing.campaigns.read scope'),
      );
    if (failure) throw failure;
    const page = parseAnswer(campaignPageSchema, body, 'list marketing campaigns');
    for (const campaign of page.results) {
      const startDate = campaign.properties.hs_start_date?.slice(0, 10) ?? null;
      if (startDate === null || startDate < first || startDate >= last) continue;
      campaigns.push({
        id: campaign.id,
        name: campaign.properties.hs_name ?? campaign.id,
        startDate,
        endDate: campaign.properties.hs_end_date?.slice(0, 10) ?? null,
        type: null,
        status: campaign.properties.hs_campaign_status ?? null,
        url: null,
      });
    }
    after = page.paging?.next?.after;
  } while (after !== undefined);
  return ok(campaigns.sort((a, b) => a.startDate.localeCompare(b.startDate) || a.name.localeCompare(b.name)));
}

/**
 * Both owner lists, every page: the active owners, then the archived ones (`archived=true`
 * answers those only). A 403 (the token lacks `crm.objects.owners.read`) is HubSpot's answer.
 */
async function listOwners(t: HubSpotTransport): Promise<Result<HubSpotOwner[], string>> {
  const owners: HubSpotOwner[] = [];
  for (const archived of [false, true]) {
    let after: string | undefined;
    do {
      const qs: Record<string, string | number> = { limit: OWNER_PAGE_SIZE, archived: String(archived) };
      if (after !== undefined) qs.after = after;
      const { status, body, failure } = await t.rawRequest('list owners', { method: 'GET', path: '/crm/v3/owners', qs });
      if (status === 403) return err(forbiddenReason(body, 'the owners API needs the crm.objects.owners.read scope'));
      if (failure) throw failure;
      const page = parseAnswer(ownerPageSchema, body, 'list owners');
      for (const owner of page.results) {
        owners.push({
          id: owner.id,
          email: owner.email ?? null,
          firstName: owner.firstName ?? null,
          lastName: owner.lastName ?? null,
          archived: owner.archived ?? archived,
        });
      }
      after = page.paging?.next?.after;
    } while (after !== undefined);
  }
  return ok(owners);
}

/**
 * The 2026-03 subscription preferences API (the date-versioned successor of v4's
 * `/communication-preferences/v4/statuses/{subscriberIdString}/unsubscribe-all`, scope
 * `subscriptions-status-write`):
 * https://developers.hubspot.com/docs/api-reference/2026-03/communication-preferences/guide.
 * Not the CRM: `hs_email_optout` is read-only there ("is a read only property; its value cannot be
 * set", https://integrate.hubspot.com/t/batch-update-email-information-via-api/15722), and not v3's
 * `/unsubscribe`, which takes one subscription type and refuses a portal-wide unsubscribe
 * (https://developers.hubspot.com/docs/api-reference/legacy/communication-preferences/v3/unsubscribe-contact).
 */
async function unsubscribeFromAllEmail(t: HubSpotTransport, emails: readonly string[]): Promise<Map<string, WriteOutcome>> {
  const outcomes = new Map<string, WriteOutcome>();
  for (const email of new Set(emails.map((e) => e.trim().toLowerCase()).filter((e) => e !== ''))) {
    const { status, body, failure } = await t.rawRequest('unsubscribe from all email', {
      method: 'POST',
      path: `/communication-preferences/2026-03/statuses/${encodeURIComponent(email)}/unsubscribe-all`,
      qs: { channel: 'EMAIL' },
    });
    if (failure === null) {
      outcomes.set(email, { ok: true, id: email, created: false });
      continue;
    }
    // A refusal of this address (missing scope, invalid address) is its outcome; anything else is retried.
    if (!(failure instanceof CrmRejectedError)) throw failure;
    const { category, message } = describeBody(body, status);
    outcomes.set(email, { ok: false, code: category, message });
  }
  return outcomes;
}

/** Archives contacts in batches of 100. */
async function archiveContacts(t: HubSpotTransport, ids: readonly string[]): Promise<void> {
  for (const part of chunk(
    [...new Set(ids)].map((id) => ({ item: { id, properties: {} } })),
    BATCH_LIMIT,
  )) {
    await t.writeBatch(
      'batch archive contacts',
      part.map(({ item }) => item),
      (input) => input.id,
      (api, inputs) => api.contacts.batchApi.archive({ inputs: inputs.map((input) => ({ id: input.id })) }),
    );
  }
}

/** Creates the HubSpot port for one account. */
export function createHubSpotAdapter(options: HubSpotAdapterOptions): HubSpotPort {
  const t = new HubSpotTransport(options);
  return {
    system: 'hubspot',
    listOwners: () => listOwners(t),
    unsubscribeFromAllEmail: (emails) => unsubscribeFromAllEmail(t, emails),
    campaignsStartingBetween: (from, until) => campaignsStartingBetween(t, from, until),
    readContacts: (ids, names) => readContacts(t, ids, names),
    readPropertyChangeTimes: (ids, names) => readPropertyChangeTimes(t, ids, names),
    updateContacts: (updates) => updateObjects(t, 'contacts', updates),
    updateCompanies: (updates) => updateObjects(t, 'companies', updates),
    readCompanies: (ids, names) => readCompanies(t, ids, names),
    companiesOfContacts: (contactIds) => companiesOfContacts(t, contactIds),
    upsertContactsByEmail: (inputs) => upsertContactsByEmail(t, inputs),
    addTimelineNote: (contactId, html, at) => addTimelineNote(t, contactId, html, at),
    addTimelineNotes: (notes) => addTimelineNotes(t, notes),
    findContactsChangedSince: (...args) => findContactsChangedSince(t, ...args),
    readContactsByEmail: (emails, names) => readContactsByEmail(t, emails, names),
    listContacts: (names, after) => listContacts(t, names, after),
    countContacts: () => countContacts(t),
    ensureContactProperties: (group, definitions, dryRun) => ensureProperties(t, 'contacts', group, definitions, dryRun),
    ensureCompanyProperties: (group, definitions, dryRun) => ensureProperties(t, 'companies', group, definitions, dryRun),
    readContactProperties: () => readContactProperties(t),
    apiUsage: () => apiUsage(t),
    archiveContacts: (ids) => archiveContacts(t, ids),
  };
}
