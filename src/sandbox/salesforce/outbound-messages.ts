/**
 * Outbound Message delivery like Salesforce's: committed changes that match a rule queue a
 * notification (coalesced per record while it waits), a background sender batches up to 100 per
 * SOAP request with the record's state at send time, anything but `Ack true` is retried on the
 * backoff schedule, and a notification is dropped once the schedule (the 24 h window) is used up.
 * Delivery timing runs on the wall clock, independent of the org's injectable `now`.
 */
import { httpError } from './errors.ts';
import type { FaultInjector } from './faults.ts';
import { KEY_PREFIXES } from './ids.ts';
import { buildNotificationsEnvelope, isAckReply } from './outbound-envelope.ts';
import { outboundRuleInputSchema, type DeliveryLogEntry, type OutboundRule, type PendingNotification } from './outbound-rules.ts';
import type { SandboxConfig } from './sandbox-config.ts';
import { INTEGRATION_USER_ID } from './seed.ts';
import { formatDateTime } from './sf-time.ts';
import type { OrgStore } from './state-store.ts';
import type { TokenService } from './tokens.ts';
import type { ChangeEvent } from './types.ts';

const MAX_NOTIFICATIONS_PER_MESSAGE = 100;
const MAX_LOG_ENTRIES = 1000;

interface PostOutcome {
  ok: boolean;
  status: number | null;
  error: string | null;
}

export interface OutboundDeps {
  store: OrgStore;
  config: SandboxConfig;
  faults: FaultInjector;
  tokens: TokenService;
  url: () => string;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

export class OutboundMessages {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  /** Aborted on reset and close: deliveries of an older generation leave the state alone. */
  private generation = new AbortController();
  private closed = false;
  private readonly sessions = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly deps: OutboundDeps) {}

  start(): void {
    this.deps.store.onChange((events) => this.onChanges(events));
    this.schedule();
  }

  rules(): OutboundRule[] {
    return this.deps.store.state.outboundRules;
  }

  /** Adds a rule; 400 INVALID_FIELD / INVALID_TYPE when it names what the org lacks. */
  addRule(input: unknown): OutboundRule {
    const parsed = outboundRuleInputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw httpError(400, 'INVALID_INPUT', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid rule'}`);
    }
    const { store } = this.deps;
    const obj = store.schema.object(parsed.data.object);
    if (!obj) throw httpError(400, 'INVALID_TYPE', `sObject type '${parsed.data.object}' is not supported.`);
    const canonical = (name: string) => {
      const field = store.schema.field(obj.name, name);
      if (!field) throw httpError(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type ${obj.name}`);
      return field.name;
    };
    const integrationUserId = parsed.data.integrationUserId ?? INTEGRATION_USER_ID;
    if (!store.get('User', integrationUserId)) throw httpError(400, 'INVALID_CROSS_REFERENCE_KEY', `no such user: ${integrationUserId}`);
    const rule: OutboundRule = {
      ...parsed.data,
      object: obj.name,
      fields: [...new Set(parsed.data.fields.map(canonical))],
      whenFieldsChange: parsed.data.whenFieldsChange.map(canonical),
      integrationUserId,
      id: store.newId(KEY_PREFIXES.OutboundAction),
      createdDate: formatDateTime(this.deps.config.now()),
    };
    store.state.outboundRules.push(rule);
    store.markDirty();
    return rule;
  }

  removeRule(id: string): boolean {
    const { state } = this.deps.store;
    const before = state.outboundRules.length;
    state.outboundRules = state.outboundRules.filter((r) => r.id !== id);
    state.outboundQueue = state.outboundQueue.filter((p) => p.ruleId !== id);
    this.deps.store.markDirty();
    return state.outboundRules.length < before;
  }

  clearRules(): void {
    this.deps.store.state.outboundRules = [];
    this.deps.store.state.outboundQueue = [];
    this.deps.store.markDirty();
  }

  deliveries(): DeliveryLogEntry[] {
    return this.deps.store.state.deliveries;
  }

  pending(): PendingNotification[] {
    return this.deps.store.state.outboundQueue;
  }

  /** Makes every waiting notification due now (Setup's "Retry" button on the outbound queue). */
  retryNow(): number {
    const now = Date.now();
    const waiting = this.pending().filter((p) => !this.inFlight.has(p.id));
    for (const p of waiting) p.dueAt = now;
    this.schedule();
    return waiting.length;
  }

  /** Cancels in-flight deliveries and waits for them, so a reset org starts with a quiet queue. */
  async reset(): Promise<void> {
    await this.stopDeliveries();
    this.generation = new AbortController();
    this.sessions.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stopDeliveries();
  }

  private async stopDeliveries(): Promise<void> {
    this.generation.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.running]);
  }

  private onChanges(events: ChangeEvent[]): void {
    for (const event of events) {
      if (event.kind === 'delete') continue;
      for (const rule of this.rules()) {
        if (!rule.active || rule.object !== event.type || !rule.triggerOn.includes(event.kind)) continue;
        if (
          event.kind === 'update' &&
          rule.whenFieldsChange.length > 0 &&
          !rule.whenFieldsChange.some((f) => event.changedFields.includes(f))
        )
          continue;
        if (!rule.fireOnIntegrationUserChanges && event.userId === rule.integrationUserId) continue;
        this.enqueue(rule, event.type, event.id);
      }
    }
    this.schedule();
  }

  private enqueue(rule: OutboundRule, type: string, recordId: string): void {
    const { state } = this.deps.store;
    // While a notification waits, later changes ride along: it carries the latest state when sent.
    if (state.outboundQueue.some((p) => p.ruleId === rule.id && p.recordId === recordId && !this.inFlight.has(p.id))) return;
    const now = Date.now();
    state.outboundQueue.push({
      id: this.deps.store.newId(KEY_PREFIXES.OutboundNotification),
      ruleId: rule.id,
      type,
      recordId,
      queuedAt: now,
      attempts: 0,
      dueAt: now,
    });
    this.deps.store.markDirty();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = this.pending().filter((p) => !this.inFlight.has(p.id));
    if (waiting.length === 0) return;
    const next = Math.min(...waiting.map((p) => p.dueAt));
    this.timer = setTimeout(() => this.tick(), Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    const now = Date.now();
    const due = this.pending().filter((p) => p.dueAt <= now && !this.inFlight.has(p.id));
    const byRule = new Map<string, PendingNotification[]>();
    for (const p of due) byRule.set(p.ruleId, [...(byRule.get(p.ruleId) ?? []), p]);
    for (const [ruleId, items] of byRule) {
      const rule = this.rules().find((r) => r.id === ruleId);
      if (!rule) continue;
      for (let i = 0; i < items.length; i += MAX_NOTIFICATIONS_PER_MESSAGE) {
        const batch = items.slice(i, i + MAX_NOTIFICATIONS_PER_MESSAGE);
        for (const p of batch) this.inFlight.add(p.id);
        const run = this.deliver(rule, batch).finally(() => {
          for (const p of batch) this.inFlight.delete(p.id);
          this.running.delete(run);
          this.deps.store.markDirty();
          this.schedule();
        });
        this.running.add(run);
      }
    }
    this.schedule();
  }

  private sessionId(rule: OutboundRule): string | null {
    if (!rule.includeSessionId) return null;
    const cached = this.sessions.get(rule.id);
    if (cached && cached.expiresAt > this.deps.config.now() + 60_000) return cached.token;
    const issued = this.deps.tokens.issue(rule.integrationUserId, { withRefreshToken: false, scope: 'api' });
    this.sessions.set(rule.id, { token: issued.access_token, expiresAt: this.deps.config.now() + this.deps.config.accessTokenTtlMs });
    return issued.access_token;
  }

  private removeFromQueue(ids: ReadonlySet<string>): void {
    const { state } = this.deps.store;
    state.outboundQueue = state.outboundQueue.filter((p) => !ids.has(p.id));
  }

  private log(entry: Omit<DeliveryLogEntry, 'id' | 'at'>): void {
    const { state } = this.deps.store;
    this.deps.config.logger.debug(
      {
        ruleId: entry.ruleId,
        outcome: entry.outcome,
        notifications: entry.notificationIds.length,
        attempt: entry.attempt,
        status: entry.status,
      },
      'salesforce sandbox: outbound message',
    );
    state.deliveries.push({ id: `delivery-${state.deliveries.length + 1}-${Date.now()}`, at: formatDateTime(Date.now()), ...entry });
    if (state.deliveries.length > MAX_LOG_ENTRIES) state.deliveries.splice(0, state.deliveries.length - MAX_LOG_ENTRIES);
  }

  private async deliver(rule: OutboundRule, batch: PendingNotification[]): Promise<void> {
    const { faults, store } = this.deps;
    const signal = this.generation.signal;
    const base = { ruleId: rule.id, endpointUrl: rule.endpointUrl, status: null, error: null };
    const dropped = batch.filter(() => faults.outbound('drop'));
    if (dropped.length > 0) {
      this.removeFromQueue(new Set(dropped.map((p) => p.id)));
      this.log({
        ...base,
        notificationIds: dropped.map((p) => p.id),
        recordIds: dropped.map((p) => p.recordId),
        attempt: 0,
        outcome: 'dropped-by-fault',
        faults: ['drop'],
      });
    }
    let items = batch.filter((p) => !dropped.includes(p) && store.get(p.type, p.recordId) !== undefined);
    if (items.length === 0) return;
    const applied: string[] = [];
    if (items.length > 1 && faults.outbound('reorder')) {
      items = faults.shuffle(items);
      applied.push('reorder');
    }
    const delayMs = faults.outboundDelayMs();
    if (delayMs > 0) {
      applied.push(`delay:${delayMs}`);
      await sleep(delayMs, signal);
      if (signal.aborted) return;
    }
    const body = buildNotificationsEnvelope(store.schema, {
      orgId: this.deps.config.orgId,
      actionId: rule.id,
      sessionId: this.sessionId(rule),
      instanceUrl: this.deps.url(),
      apiVersion: rule.apiVersion,
      nullFields: rule.nullFields,
      notifications: items.map((p) => ({ id: p.id, type: p.type, record: store.get(p.type, p.recordId) ?? {}, fields: rule.fields })),
    });
    const duplicate = faults.outbound('duplicate');
    if (duplicate) applied.push('duplicate');
    const outcome = await this.post(rule.endpointUrl, body, signal);
    if (duplicate && !signal.aborted) await this.post(rule.endpointUrl, body, signal);
    // A reset or close happened meanwhile: the queue and log this delivery belonged to are gone.
    if (signal.aborted) return;
    const attempt = Math.max(...items.map((p) => p.attempts)) + 1;
    const logged = {
      ...base,
      notificationIds: items.map((p) => p.id),
      recordIds: items.map((p) => p.recordId),
      attempt,
      status: outcome.status,
      error: outcome.error,
      faults: applied,
    };
    if (outcome.ok) {
      this.removeFromQueue(new Set(items.map((p) => p.id)));
      this.log({ ...logged, outcome: 'acked' });
      return;
    }
    const delays = this.deps.config.outboundRetryDelaysMs;
    const expired = new Set<string>();
    for (const item of items) {
      const current = this.pending().find((p) => p.id === item.id);
      if (!current) continue;
      current.attempts += 1;
      const delay = delays[current.attempts - 1];
      if (delay === undefined) expired.add(current.id);
      else current.dueAt = Date.now() + delay;
    }
    this.removeFromQueue(expired);
    this.log({ ...logged, outcome: expired.size === items.length ? 'expired' : 'failed' });
  }

  private async post(url: string, body: string, cancel: AbortSignal): Promise<PostOutcome> {
    const timeout = AbortSignal.timeout(this.deps.config.outboundTimeoutMs);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""' },
        body,
        signal: AbortSignal.any([timeout, cancel]),
      });
      const reply = await response.text();
      if (response.status === 200 && isAckReply(reply)) return { ok: true, status: 200, error: null };
      return {
        ok: false,
        status: response.status,
        error: response.status === 200 ? 'reply is not an Ack true envelope' : `HTTP ${response.status}`,
      };
    } catch (error) {
      return { ok: false, status: null, error: error instanceof Error ? error.message : String(error) };
    }
  }
}
