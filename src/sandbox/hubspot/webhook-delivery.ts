import { createHash, createHmac } from 'node:crypto';
import type { FaultController } from './faults.ts';
import type { ChangeEvent } from './model.ts';
import { OBJECT_TYPES } from './object-types.ts';
import type { SandboxConfig } from './sandbox-config.ts';
import type { SandboxStore } from './store.ts';

/** One notification as HubSpot posts it (an element of the JSON array body). */
export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  changeSource: string;
  sourceId?: string;
  changeFlag?: string;
  propertyName?: string;
  propertyValue?: string;
  primaryObjectId?: number;
  mergedObjectIds?: number[];
  newObjectId?: number;
  numberOfPropertiesMoved?: number;
}

export interface DeliveryAttempt {
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  error?: string;
}

export type DeliveryState = 'held' | 'pending' | 'retrying' | 'delivered' | 'failed' | 'dropped' | 'cancelled';

/** One request (a batch of ≤ 100 events) and every attempt made to deliver it. */
export interface DeliveryRecord {
  id: string;
  targetUrl: string;
  state: DeliveryState;
  events: WebhookEvent[];
  attempts: DeliveryAttempt[];
  duplicateOf?: string;
  reordered?: boolean;
  nextAttemptAt?: string;
}

const MAX_EVENTS_PER_REQUEST = 100;
const HOLD_FOR_REORDER_MS = 1000;
const LOG_LIMIT = 5000;
const USER_AGENT = 'HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nio-http-client) - WebhooksExecutorDaemon-executor';

/** Signs a delivery like HubSpot: v3 = base64(HMAC-SHA256(secret, METHOD + URI + body + timestamp)), v1 = hex(SHA-256(secret + body)). */
export function signDelivery(clientSecret: string, url: string, body: string, timestamp: number): { v1: string; v3: string } {
  return {
    v1: createHash('sha256')
      .update(clientSecret + body)
      .digest('hex'),
    v3: createHmac('sha256', clientSecret).update(`POST${url}${body}${timestamp}`).digest('base64'),
  };
}

/**
 * Turns CRM changes into app-webhook deliveries: matches active subscriptions, batches events that
 * happen close together (≤ 100 per request), signs each attempt, retries failures (non-2xx,
 * connection error, or slower than the timeout) on the configured schedule, applies the webhook
 * fault knobs, and keeps a log of every request.
 */
export class WebhookDispatcher {
  private readonly log: DeliveryRecord[] = [];
  private pending: WebhookEvent[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private held: { delivery: DeliveryRecord; timer: NodeJS.Timeout } | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private nextDeliveryId = 1;
  private closed = false;
  private muted = 0;

  constructor(
    private readonly store: SandboxStore,
    private readonly config: SandboxConfig,
    private readonly faults: FaultController,
  ) {}

  /** Runs `work` with no change event turned into a webhook (a bulk import of historical records). */
  withoutWebhooks<T>(work: () => T): T {
    this.muted += 1;
    try {
      return work();
    } finally {
      this.muted -= 1;
    }
  }

  /** Whether changes are being made without webhooks now (`withoutWebhooks`). */
  isMuted(): boolean {
    return this.muted > 0;
  }

  /** Receives every CRM change; queues one event per matching active subscription. */
  handle(change: ChangeEvent): void {
    const info = OBJECT_TYPES[change.objectType];
    const settings = this.store.webhookSettings;
    if (!info.webhooks || settings === undefined || this.closed || this.muted > 0) return;
    const subscriptionType = `${info.singular}.${change.kind}`;
    for (const subscription of this.store.subscriptions.values()) {
      if (!subscription.active || subscription.eventType !== subscriptionType) continue;
      if (change.kind === 'propertyChange' && subscription.propertyName !== change.propertyName) continue;
      const event: WebhookEvent = {
        eventId: this.store.newEventId(),
        subscriptionId: Number(subscription.id),
        portalId: this.config.portalId,
        appId: this.config.appId,
        occurredAt: change.occurredAt,
        subscriptionType,
        attemptNumber: 0,
        objectId: Number(change.objectId),
        changeSource: change.origin.changeSource,
      };
      if (change.origin.sourceId !== undefined) event.sourceId = change.origin.sourceId;
      if (change.kind === 'creation') event.changeFlag = 'NEW';
      if (change.kind === 'deletion' || change.kind === 'privacyDeletion') event.changeFlag = 'DELETED';
      if (change.merge !== undefined) {
        event.primaryObjectId = Number(change.merge.primaryObjectId);
        event.mergedObjectIds = change.merge.mergedObjectIds.map(Number);
        event.newObjectId = Number(change.merge.newObjectId);
        event.numberOfPropertiesMoved = change.merge.numberOfPropertiesMoved;
      }
      if (change.kind === 'propertyChange') {
        event.propertyName = change.propertyName ?? '';
        event.propertyValue = change.propertyValue ?? '';
      }
      if (this.faults.roll('drop')) {
        this.record({ id: this.newId(), targetUrl: settings.targetUrl, state: 'dropped', events: [event], attempts: [] });
        continue;
      }
      this.pending.push(event);
    }
    if (this.pending.length >= MAX_EVENTS_PER_REQUEST) this.flush();
    else if (this.pending.length > 0 && this.flushTimer === undefined) {
      this.flushTimer = this.later(() => this.flush(), this.config.webhookBatchWindowMs);
    }
  }

  /** The delivery log, oldest first. */
  deliveries(): DeliveryRecord[] {
    return structuredClone(this.log);
  }

  /** Forgets queued events, pending retries and the log. */
  reset(): void {
    this.cancelAll();
    this.log.length = 0;
    this.closed = false;
  }

  /** Stops timers and aborts requests in flight. */
  close(): void {
    this.closed = true;
    this.cancelAll();
  }

  private cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.flushTimer = undefined;
    if (this.held !== undefined) this.held.delivery.state = 'cancelled';
    this.held = undefined;
    this.pending = [];
    for (const controller of this.inFlight) controller.abort(new Error('sandbox closed'));
    for (const wake of this.waiting.splice(0)) wake();
    for (const record of this.log) if (record.state === 'retrying' || record.state === 'pending') record.state = 'cancelled';
  }

  private flush(): void {
    if (this.flushTimer !== undefined) this.clear(this.flushTimer);
    this.flushTimer = undefined;
    const targetUrl = this.store.webhookSettings?.targetUrl;
    while (this.pending.length > 0 && targetUrl !== undefined) {
      const events = this.pending.splice(0, MAX_EVENTS_PER_REQUEST);
      const delivery: DeliveryRecord = { id: this.newId(), targetUrl, state: 'pending', events, attempts: [] };
      if (events.length > 1 && this.faults.roll('reorderWithin')) {
        delivery.events = this.shuffled(events);
        delivery.reordered = true;
      }
      this.record(delivery);
      const held = this.held;
      if (held !== undefined) {
        // A held request goes out right after the one that overtakes it.
        this.held = undefined;
        this.clear(held.timer);
        this.dispatch(delivery);
        held.delivery.state = 'pending';
        this.dispatch(held.delivery);
      } else if (this.faults.roll('reorderBetween')) {
        delivery.state = 'held';
        delivery.reordered = true;
        const timer = this.later(() => {
          this.held = undefined;
          delivery.state = 'pending';
          this.dispatch(delivery);
        }, HOLD_FOR_REORDER_MS);
        this.held = { delivery, timer };
      } else {
        this.dispatch(delivery);
      }
    }
    this.pending = [];
  }

  private dispatch(delivery: DeliveryRecord): void {
    const delay = this.faults.delayMs();
    if (delay > 0) this.later(() => void this.attempt(delivery), delay);
    else void this.attempt(delivery);
  }

  private async attempt(delivery: DeliveryRecord): Promise<void> {
    await this.acquire();
    if (this.closed || delivery.state === 'cancelled') return this.release();
    const attemptNumber = delivery.attempts.length;
    const body = JSON.stringify(delivery.events.map((event) => ({ ...event, attemptNumber })));
    const timestamp = this.config.now();
    const signature = signDelivery(this.config.clientSecret, delivery.targetUrl, body, timestamp);
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(new Error('timeout')), this.config.webhookTimeoutMs);
    const started = Date.now();
    const attempt: DeliveryAttempt = { attemptNumber, startedAt: new Date(timestamp).toISOString(), durationMs: 0, statusCode: null };
    try {
      const response = await fetch(delivery.targetUrl, {
        method: 'POST',
        body,
        signal: controller.signal,
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': USER_AGENT,
          'X-HubSpot-Signature': signature.v1,
          'X-HubSpot-Signature-Version': 'v1',
          'X-HubSpot-Signature-v3': signature.v3,
          'X-HubSpot-Request-Timestamp': String(timestamp),
          'X-HubSpot-Timeout-Millis': String(this.config.webhookTimeoutMs),
        },
      });
      attempt.statusCode = response.status;
      await response.arrayBuffer();
    } catch (error) {
      const reason: unknown = controller.signal.reason;
      attempt.error =
        controller.signal.aborted && reason instanceof Error ? reason.message : error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
      attempt.durationMs = Date.now() - started;
      this.release();
    }
    delivery.attempts.push(attempt);
    this.settle(delivery, attempt);
  }

  private settle(delivery: DeliveryRecord, attempt: DeliveryAttempt): void {
    delete delivery.nextAttemptAt;
    if (delivery.state === 'cancelled') return;
    const ok = attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300 && attempt.error === undefined;
    if (this.closed) {
      delivery.state = ok ? 'delivered' : 'cancelled';
      return;
    }
    if (ok) {
      delivery.state = 'delivered';
      if (delivery.duplicateOf === undefined && this.faults.roll('duplicate')) {
        const copy: DeliveryRecord = {
          id: this.newId(),
          targetUrl: delivery.targetUrl,
          state: 'pending',
          events: delivery.events,
          attempts: [],
          duplicateOf: delivery.id,
        };
        this.record(copy);
        void this.attempt(copy);
      }
      return;
    }
    const wait = this.config.webhookRetryDelaysMs[attempt.attemptNumber];
    if (wait === undefined || delivery.duplicateOf !== undefined) {
      delivery.state = 'failed';
      return;
    }
    delivery.state = 'retrying';
    delivery.nextAttemptAt = new Date(this.config.now() + wait).toISOString();
    this.later(() => void this.attempt(delivery), wait);
  }

  private async acquire(): Promise<void> {
    const limit = Math.max(1, this.store.webhookSettings?.maxConcurrentRequests ?? 10);
    while (this.active >= limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
  }

  private release(): void {
    this.active -= 1;
    this.waiting.shift()?.();
  }

  /** A seeded shuffle that always changes the order of two or more events. */
  private shuffled(events: readonly WebhookEvent[]): WebhookEvent[] {
    const copy = [...events];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.faults.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as WebhookEvent, copy[i] as WebhookEvent];
    }
    if (copy.every((event, index) => event === events[index])) copy.push(copy.shift() as WebhookEvent);
    return copy;
  }

  private record(delivery: DeliveryRecord): void {
    this.log.push(delivery);
    if (this.log.length > LOG_LIMIT) {
      const index = this.log.findIndex((entry) => entry.state !== 'retrying' && entry.state !== 'pending' && entry.state !== 'held');
      this.log.splice(index === -1 ? 0 : index, 1);
    }
  }

  private newId(): string {
    return `d-${this.nextDeliveryId++}`;
  }

  private later(fn: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private clear(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }
}
