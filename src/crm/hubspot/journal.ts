/**
 * The HubSpot webhooks journal (2026-03) over HTTP: a client credentials token of the app, the
 * local journal of one portal (earliest, next by offset), the entry files at the URLs the API
 * returns, and the journal's subscriptions. `@hubspot/api-client` has no journal API, hence `fetch`.
 * Facts and sources: docs/reference/hubspot-webhooks-journal.md.
 */
import { z } from 'zod';
import { CrmRateLimitedError, CrmRejectedError, CrmTransientError } from '../errors.ts';

const VERSION = '2026-03';

/**
 * What the app's client credentials token asks for (reference §1): journal data, its subscriptions,
 * and reading the contacts it subscribes to.
 */
export const JOURNAL_TOKEN_SCOPES = [
  'developer.webhooks_journal.read',
  'developer.webhooks_journal.subscriptions.read',
  'developer.webhooks_journal.subscriptions.write',
  'crm.objects.contacts.read',
] as const;

/** The longest the app waits for one journal call or entry file. */
const REQUEST_TIMEOUT_MS = 30_000;
/** A token is renewed this long before it expires. */
const TOKEN_MARGIN_MS = 60_000;

/** `next` answered 404: the offset is past the 3-day retention (or was never in the journal). */
export class JournalOffsetExpired extends Error {
  override readonly name = 'JournalOffsetExpired';
  constructor(readonly offset: string) {
    super(`journal offset ${offset} has expired or does not exist`);
  }
}

/** `JournalFetchResponse`: where an entry is and the pre-signed URL of its file (reference §2). */
const FetchResponseSchema = z.object({ currentOffset: z.string().min(1), expiresAt: z.string(), url: z.url() });
export type JournalPointer = z.infer<typeof FetchResponseSchema>;

const id = z.union([z.number().int(), z.string().regex(/^\d+$/)]).transform(String);

/** One event of an entry file (reference §3; the inferred parts are marked there). */
const JournalEventSchema = z.object({
  type: z.string().optional(),
  portalId: id,
  occurredAt: z
    .union([z.number().int().nonnegative(), z.iso.datetime({ offset: true })])
    .transform((at) => (typeof at === 'number' ? at : Date.parse(at))),
  action: z.string(),
  objectTypeId: z.string().optional(),
  objectId: id,
  propertyChanges: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  primaryObjectId: id.optional(),
  mergedObjectIds: z.array(id).optional(),
  newObjectId: id.optional(),
});
export type JournalEvent = z.infer<typeof JournalEventSchema>;

const JournalFileSchema = z.object({
  offset: z.string().optional(),
  publishedAt: z.string().optional(),
  journalEvents: z.array(JournalEventSchema),
});
export type JournalFile = z.infer<typeof JournalFileSchema>;

const SubscriptionSchema = z.object({
  id: id,
  subscriptionType: z.string(),
  portalId: id.nullable().optional(),
  actions: z.array(z.string()),
  objectTypeId: z.string().nullable().optional(),
  properties: z.array(z.string()).nullable().optional(),
});
export type JournalSubscription = z.infer<typeof SubscriptionSchema>;

export interface NewJournalSubscription {
  subscriptionType: string;
  portalId: number;
  actions: string[];
  objectTypeId?: string;
  properties?: string[];
}

export interface JournalClientOptions {
  /** `https://api.hubapi.com`, or a sandbox. */
  basePath: string;
  clientId: string;
  clientSecret: string;
  now?: () => number;
}

/** The failure of a journal call, in the adapters' retry classes (src/crm/errors.ts). */
async function failure(response: Response, what: string): Promise<Error> {
  const body = (await response.json().catch(() => ({}))) as { category?: unknown; message?: unknown; policyName?: unknown };
  const message = `${what}: HTTP ${response.status}${typeof body.message === 'string' ? ` ${body.message}` : ''}`;
  if (response.status === 429) {
    // Over a per-second limit the next second will do; over the rolling window, its 10 s.
    const fallbackSeconds = body.policyName === 'SECONDLY' ? 1 : 10;
    return new CrmRateLimitedError('hubspot', Number(response.headers.get('retry-after') ?? fallbackSeconds) * 1000, message);
  }
  if (response.status >= 500) return new CrmTransientError('hubspot', message, response.status);
  return new CrmRejectedError(
    'hubspot',
    typeof body.category === 'string' ? body.category : `HTTP_${response.status}`,
    message,
    response.status,
  );
}

/** Fetch with a deadline; a network failure or timeout is transient. */
async function timedFetch(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    throw new CrmTransientError('hubspot', `${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export class HubSpotJournalClient {
  private token: { value: string; expiresAt: number } | undefined;
  private readonly now: () => number;
  private readonly basePath: string;

  constructor(private readonly options: JournalClientOptions) {
    this.now = options.now ?? Date.now;
    this.basePath = options.basePath.replace(/\/+$/, '');
  }

  /** The app's client credentials token, fetched again shortly before it expires. */
  private async accessToken(): Promise<string> {
    if (this.token !== undefined && this.token.expiresAt - TOKEN_MARGIN_MS > this.now()) return this.token.value;
    const response = await timedFetch(
      `${this.basePath}/oauth/v1/token`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: this.options.clientId,
          client_secret: this.options.clientSecret,
          scope: JOURNAL_TOKEN_SCOPES.join(' '),
        }),
      },
      'client credentials token',
    );
    if (!response.ok) throw await failure(response, 'client credentials token');
    const body = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() }).parse(await response.json());
    this.token = { value: body.access_token, expiresAt: this.now() + body.expires_in * 1000 };
    return this.token.value;
  }

  private async call(method: 'GET' | 'POST', path: string, what: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${await this.accessToken()}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await timedFetch(
      `${this.basePath}${path}`,
      { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
      what,
    );
    // A token revoked or expired early: fetched again on the next call.
    if (response.status === 401) this.token = undefined;
    return response;
  }

  private async pointer(response: Response, what: string): Promise<JournalPointer | null> {
    if (response.status === 204) return null;
    if (!response.ok) throw await failure(response, what);
    return FetchResponseSchema.parse(await response.json());
  }

  /** The oldest entry the portal's local journal still keeps; null when it is empty. */
  async earliest(portalId: string): Promise<JournalPointer | null> {
    const what = 'journal earliest';
    return this.pointer(
      await this.call('GET', `/webhooks-journal/journal-local/${VERSION}/earliest?installPortalId=${portalId}`, what),
      what,
    );
  }

  /** The entry after `offset`; null when there is none yet; JournalOffsetExpired on a 404. */
  async next(portalId: string, offset: string): Promise<JournalPointer | null> {
    const what = 'journal next';
    const response = await this.call(
      'GET',
      `/webhooks-journal/journal-local/${VERSION}/offset/${encodeURIComponent(offset)}/next?installPortalId=${portalId}`,
      what,
    );
    if (response.status === 404) throw new JournalOffsetExpired(offset);
    return this.pointer(response, what);
  }

  /** An entry's events, read from its pre-signed URL (no Authorization header, reference §2). */
  async read(pointer: JournalPointer): Promise<JournalFile> {
    const what = 'journal entry file';
    const response = await timedFetch(pointer.url, { method: 'GET', headers: { Accept: 'application/json' } }, what);
    if (!response.ok) throw await failure(response, what);
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      // A file cut off mid-stream is read again from the same offset.
      throw new CrmTransientError('hubspot', `${what}: ${error instanceof Error ? error.message : 'unreadable body'}`);
    }
    return JournalFileSchema.parse(json);
  }

  async subscriptions(): Promise<JournalSubscription[]> {
    const what = 'journal subscriptions';
    const response = await this.call('GET', `/webhooks-journal/subscriptions/${VERSION}`, what);
    if (!response.ok) throw await failure(response, what);
    return z.object({ results: z.array(SubscriptionSchema) }).parse(await response.json()).results;
  }

  async subscribe(subscription: NewJournalSubscription): Promise<JournalSubscription> {
    const what = 'journal subscription';
    const response = await this.call('POST', `/webhooks-journal/subscriptions/${VERSION}`, what, subscription);
    if (!response.ok) throw await failure(response, what);
    return SubscriptionSchema.parse(await response.json());
  }
}
