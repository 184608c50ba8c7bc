/**
 * The webhooks journal (2026-03) of the sandbox portal: every CRM change that matches a journal
 * subscription is written, in order, into entries identified by a UUID offset, kept for 3 days and
 * served as JSON files at pre-signed URLs (docs/reference/hubspot-webhooks-journal.md). Fed from the
 * same change events as the webhook dispatcher (webhook-delivery.ts).
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ChangeEvent, ChangeKind } from './model.ts';
import { OBJECT_TYPES } from './object-types.ts';
import type { SandboxConfig } from './sandbox-config.ts';

/** "changes that occurred for your subscriptions over the past 3 days" (reference §2). */
export const JOURNAL_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;
/** How long an entry's pre-signed file URL works. */
const FILE_URL_TTL_MS = 15 * 60 * 1000;
/** Changes this close together go into one entry (HubSpot publishes entries, not single events). */
const ENTRY_WINDOW_MS = 50;

export const SUBSCRIPTION_TYPES = [
  'OBJECT',
  'ASSOCIATION',
  'EVENT',
  'APP_LIFECYCLE_EVENT',
  'LIST_MEMBERSHIP',
  'GDPR_PRIVACY_DELETION',
] as const;
export const ACTIONS = [
  'CREATE',
  'UPDATE',
  'DELETE',
  'MERGE',
  'RESTORE',
  'ASSOCIATION_ADDED',
  'ASSOCIATION_REMOVED',
  'SNAPSHOT',
  'APP_INSTALL',
  'APP_UNINSTALL',
  'ADDED_TO_LIST',
  'REMOVED_FROM_LIST',
  'GDPR_DELETE',
] as const;
export type JournalAction = (typeof ACTIONS)[number];
export type SubscriptionType = (typeof SUBSCRIPTION_TYPES)[number];

/** The scopes of the journal API (reference §1). */
export const JOURNAL_SCOPES = {
  read: 'developer.webhooks_journal.read',
  subscriptionsRead: 'developer.webhooks_journal.subscriptions.read',
  subscriptionsWrite: 'developer.webhooks_journal.subscriptions.write',
} as const;

export interface JournalSubscription {
  id: number;
  appId: number;
  subscriptionType: SubscriptionType;
  portalId: number;
  actions: JournalAction[];
  objectTypeId?: string;
  properties?: string[];
  objectIds?: number[];
  createdAt: number;
  updatedAt: number;
}

/** One event of an entry file (reference §3). */
export interface JournalEvent {
  type: SubscriptionType;
  portalId: number;
  occurredAt: string;
  action: JournalAction;
  objectTypeId: string;
  objectId: number;
  propertyChanges?: Record<string, string>;
  primaryObjectId?: number;
  mergedObjectIds?: number[];
  newObjectId?: number;
}

export interface JournalEntry {
  offset: string;
  portalId: number;
  publishedAt: number;
  events: JournalEvent[];
}

export interface ClientCredentialsGrant {
  scopes: string[];
  expiresAt: number;
}

const ACTION_OF_KIND: Readonly<Record<ChangeKind, JournalAction>> = {
  creation: 'CREATE',
  propertyChange: 'UPDATE',
  deletion: 'DELETE',
  merge: 'MERGE',
  restore: 'RESTORE',
  privacyDeletion: 'GDPR_DELETE',
};

/** Where an entry stands relative to an offset. */
export type NextEntry = { kind: 'entry'; entry: JournalEntry } | { kind: 'none' } | { kind: 'expired' };

export class Journal {
  private entries: JournalEntry[] = [];
  readonly subscriptions = new Map<number, JournalSubscription>();
  private readonly tokens = new Map<string, ClientCredentialsGrant>();
  private pending: JournalEvent[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private nextSubscriptionId = 1;
  /** Signs the entries' file URLs (the sandbox's stand-in for S3 pre-signing). */
  private readonly signingKey = randomBytes(32);

  /** The portals that installed the app: the server's first, and each one added to it. */
  private readonly portals: Set<number>;

  constructor(private readonly config: SandboxConfig) {
    this.portals = new Set([config.portalId]);
  }

  /** Another portal of the server installed the app: its changes can be subscribed to. */
  addPortal(portalId: number): void {
    this.portals.add(portalId);
  }

  hasPortal(portalId: number): boolean {
    return this.portals.has(portalId);
  }

  /** Issues a client credentials token for the requested scopes. */
  issueToken(scopes: string[]): { token: string; expiresIn: number } {
    const token = `CC${randomBytes(36).toString('base64url')}`;
    const now = this.config.now();
    for (const [old, grant] of this.tokens) if (grant.expiresAt < now) this.tokens.delete(old);
    this.tokens.set(token, { scopes, expiresAt: now + this.config.accessTokenTtlMs });
    return { token, expiresIn: Math.floor(this.config.accessTokenTtlMs / 1000) };
  }

  grant(token: string): ClientCredentialsGrant | undefined {
    return this.tokens.get(token);
  }

  newSubscription(input: Omit<JournalSubscription, 'id' | 'appId' | 'createdAt' | 'updatedAt'>): JournalSubscription {
    const now = this.config.now();
    const subscription: JournalSubscription = {
      ...input,
      id: this.nextSubscriptionId++,
      appId: this.config.appId,
      createdAt: now,
      updatedAt: now,
    };
    this.subscriptions.set(subscription.id, subscription);
    return subscription;
  }

  /**
   * Receives every CRM change of a portal (the app's journal spans every portal that installed it);
   * journals it when a subscription of that portal asks for it. The caller leaves out what its
   * portal's webhooks do not carry either (a muted bulk import).
   */
  handle(change: ChangeEvent, portalId = this.config.portalId): void {
    const event = this.toEvent(change, portalId);
    if (event === undefined) return;
    const last = this.pending[this.pending.length - 1];
    // One update of a record writes one event with all its changed properties.
    if (
      event.action === 'UPDATE' &&
      last?.portalId === event.portalId &&
      last?.action === 'UPDATE' &&
      last.objectId === event.objectId &&
      last.objectTypeId === event.objectTypeId &&
      last.occurredAt === event.occurredAt
    ) {
      last.propertyChanges = { ...last.propertyChanges, ...event.propertyChanges };
    } else {
      this.pending.push(event);
    }
    this.flushTimer ??= setTimeout(() => this.flush(), ENTRY_WINDOW_MS);
  }

  private toEvent(change: ChangeEvent, portalId: number): JournalEvent | undefined {
    const info = OBJECT_TYPES[change.objectType];
    const action = ACTION_OF_KIND[change.kind];
    const type: SubscriptionType = change.kind === 'privacyDeletion' ? 'GDPR_PRIVACY_DELETION' : 'OBJECT';
    const matching = [...this.subscriptions.values()].filter(
      (s) =>
        s.portalId === portalId &&
        s.subscriptionType === type &&
        s.actions.includes(action) &&
        (type === 'GDPR_PRIVACY_DELETION' || s.objectTypeId === info.typeId) &&
        (s.objectIds === undefined || s.objectIds.includes(Number(change.objectId))),
    );
    if (matching.length === 0) return undefined;
    const event: JournalEvent = {
      type,
      portalId,
      occurredAt: new Date(change.occurredAt).toISOString(),
      action,
      objectTypeId: info.typeId,
      objectId: Number(change.objectId),
    };
    if (change.kind === 'propertyChange') {
      const name = change.propertyName ?? '';
      // A subscription without `properties` takes every property; one with a list only those.
      if (!matching.some((s) => s.properties === undefined || s.properties.includes(name))) return undefined;
      event.propertyChanges = { [name]: change.propertyValue ?? '' };
    }
    if (change.merge !== undefined) {
      event.primaryObjectId = Number(change.merge.primaryObjectId);
      event.mergedObjectIds = change.merge.mergedObjectIds.map(Number);
      event.newObjectId = Number(change.merge.newObjectId);
    }
    return event;
  }

  /** Publishes the pending events as one entry per portal. */
  flush(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const byPortal = new Map<number, JournalEvent[]>();
    for (const event of this.pending) {
      const events = byPortal.get(event.portalId) ?? [];
      events.push(event);
      byPortal.set(event.portalId, events);
    }
    for (const [portalId, events] of byPortal)
      this.entries.push({ offset: randomUUID(), portalId, publishedAt: this.config.now(), events });
    this.pending = [];
  }

  /** Drops the entries older than the retention. */
  private prune(): void {
    const oldest = this.config.now() - JOURNAL_RETENTION_MS;
    const keepFrom = this.entries.findIndex((entry) => entry.publishedAt >= oldest);
    this.entries = keepFrom === -1 ? [] : this.entries.slice(keepFrom);
  }

  private visible(portalId: number | undefined): JournalEntry[] {
    this.prune();
    return portalId === undefined ? this.entries : this.entries.filter((entry) => entry.portalId === portalId);
  }

  earliest(portalId?: number): JournalEntry | undefined {
    return this.visible(portalId)[0];
  }

  latest(portalId?: number): JournalEntry | undefined {
    const entries = this.visible(portalId);
    return entries[entries.length - 1];
  }

  /** The entry after `offset`; `expired` when the offset is no longer (or never was) in the journal. */
  next(offset: string, portalId?: number): NextEntry {
    const entries = this.visible(portalId);
    const index = entries.findIndex((entry) => entry.offset === offset);
    if (index === -1) return { kind: 'expired' };
    const entry = entries[index + 1];
    return entry === undefined ? { kind: 'none' } : { kind: 'entry', entry };
  }

  /** The retention passes every entry up to and including `offset` (the expired-offset fault). */
  expireThrough(offset: string): void {
    const index = this.entries.findIndex((entry) => entry.offset === offset);
    if (index !== -1) this.entries = this.entries.slice(index + 1);
  }

  /** Every entry now in the journal passes the retention. */
  expireAll(): void {
    this.flush();
    this.entries = [];
  }

  entry(offset: string): JournalEntry | undefined {
    this.prune();
    return this.entries.find((entry) => entry.offset === offset);
  }

  /** The `JournalFetchResponse` of an entry: its offset and a pre-signed URL of its file. */
  fetchResponse(baseUrl: string, entry: JournalEntry): { currentOffset: string; expiresAt: string; url: string } {
    const expires = this.config.now() + FILE_URL_TTL_MS;
    const url = `${baseUrl}/__journal-files/${entry.offset}.json?expires=${expires}&signature=${this.sign(entry.offset, expires)}`;
    return { currentOffset: entry.offset, expiresAt: new Date(expires).toISOString(), url };
  }

  /** Whether a file URL's signature is this journal's and it has not expired. */
  validFileUrl(offset: string, expires: number, signature: string): boolean {
    if (!Number.isSafeInteger(expires) || expires < this.config.now()) return false;
    const expected = Buffer.from(this.sign(offset, expires));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private sign(offset: string, expires: number): string {
    return createHmac('sha256', this.signingKey).update(`${offset}:${expires}`).digest('base64url');
  }

  reset(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.pending = [];
    this.entries = [];
    this.subscriptions.clear();
    this.tokens.clear();
  }

  close(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }
}
