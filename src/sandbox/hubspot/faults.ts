import { z } from 'zod';

/** Mulberry32: a tiny seeded PRNG, so chaos runs replay exactly with the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** When a fault fires: the next N times, with a probability, or (neither given) every time. */
const chance = z.object({ next: z.number().int().min(0).optional(), probability: z.number().min(0).max(1).optional() }).strict();

const httpFault = z
  .object({
    method: z.string().optional(),
    /** Exact path or a glob: `*` matches one path segment part, `**` anything (`/crm/v3/objects/*\/batch/**`). */
    path: z.string().min(1),
    /** Answers this error instead of handling the request (after `delayMs`, when both are given). */
    status: z
      .number()
      .int()
      .refine((status) => status === 429 || (status >= 500 && status <= 599), 'status must be 429 or 5xx')
      .optional(),
    /**
     * Holds the request this long before it is handled: a slow answer, whose write lands after
     * whatever happened in the portal meanwhile (a user's edit, another client's write).
     */
    delayMs: z.number().int().min(1).max(60_000).optional(),
    /** For 429: which limit the body reports (default TEN_SECONDLY_ROLLING, SECONDLY on search paths). */
    policyName: z.enum(['TEN_SECONDLY_ROLLING', 'SECONDLY', 'DAILY']).optional(),
    count: z.number().int().min(1).optional(),
    probability: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((fault) => fault.status !== undefined || fault.delayMs !== undefined, 'an HTTP fault needs a status, a delayMs or both');

/** Body of `POST /__sandbox/faults` (replaces the current configuration). */
export const faultConfigSchema = z
  .object({
    seed: z.number().int().optional(),
    webhooks: z
      .object({
        /** Delivers a successfully delivered request a second time (same events, same eventIds). */
        duplicate: chance.optional(),
        /** Never delivers an event. */
        drop: chance.optional(),
        /** Shuffles the events inside one request. */
        reorderWithin: chance.optional(),
        /** Holds a request back until the next one has gone out (or 1 s passed). */
        reorderBetween: chance.optional(),
        /** Waits before the first attempt of each request. */
        delayMs: z
          .union([z.number().int().min(0), z.object({ min: z.number().int().min(0), max: z.number().int().min(0) }).strict()])
          .optional(),
      })
      .strict()
      .optional(),
    http: z.array(httpFault).optional(),
    /** The webhooks journal (journal.ts). */
    journal: z
      .object({
        /** Cuts an entry file's download off halfway: the connection closes mid-body. */
        dropStream: chance.optional(),
        /** `next` finds its offset already past the 3-day retention (404), as after a long outage. */
        expireOffset: chance.optional(),
        /** Holds every journal answer and entry file this long: a slow feed. */
        delayMs: z.number().int().min(1).max(60_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type FaultConfig = z.output<typeof faultConfigSchema>;
export type HttpFault = z.output<typeof httpFault>;
type WebhookFaultName = 'duplicate' | 'drop' | 'reorderWithin' | 'reorderBetween';
type JournalFaultName = 'dropStream' | 'expireOffset';

export interface FaultCounters {
  /** HTTP errors answered instead of the real handling. */
  httpInjected: number;
  /** HTTP requests held back (counted when the hold begins). */
  httpDelayed: number;
  dropped: number;
  duplicated: number;
  reorderedWithin: number;
  reorderedBetween: number;
  delayed: number;
  journalStreamsDropped: number;
  journalOffsetsExpired: number;
}

const DEFAULT_SEED = 1;

function globToRegExp(glob: string): RegExp {
  const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const body = glob
    .split('**')
    .map((part) => part.split('*').map(escape).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** Holds the active fault knobs and decides, reproducibly, when each one fires. */
export class FaultController {
  private config: FaultConfig = {};
  private http: { rule: HttpFault; pattern: RegExp; remaining: number | undefined }[] = [];
  private random = seededRandom(DEFAULT_SEED);
  readonly counters: FaultCounters = {
    httpInjected: 0,
    httpDelayed: 0,
    dropped: 0,
    duplicated: 0,
    reorderedWithin: 0,
    reorderedBetween: 0,
    delayed: 0,
    journalStreamsDropped: 0,
    journalOffsetsExpired: 0,
  };

  /** Validates and installs a configuration (throws a ZodError on an invalid one). */
  set(input: unknown): FaultConfig {
    const config = faultConfigSchema.parse(input);
    this.config = structuredClone(config);
    this.http = (config.http ?? []).map((rule) => ({ rule, pattern: globToRegExp(rule.path), remaining: rule.count }));
    this.random = seededRandom(config.seed ?? DEFAULT_SEED);
    return this.current();
  }

  clear(): void {
    this.set({});
  }

  /** The configuration with counts that are left. */
  current(): FaultConfig {
    const view: FaultConfig = structuredClone(this.config);
    if (this.http.length > 0) {
      view.http = this.http.map(({ rule, remaining }) => (remaining === undefined ? rule : { ...rule, count: remaining }));
    } else {
      delete view.http;
    }
    return view;
  }

  /** A number in [0, 1) from the seeded sequence. */
  next(): number {
    return this.random();
  }

  /** Whether a webhook fault fires now (consumes one of `next`). */
  roll(name: WebhookFaultName): boolean {
    const fires = this.fires(this.config.webhooks?.[name]);
    if (fires) {
      const counter = (
        { duplicate: 'duplicated', drop: 'dropped', reorderWithin: 'reorderedWithin', reorderBetween: 'reorderedBetween' } as const
      )[name];
      this.counters[counter] += 1;
    }
    return fires;
  }

  /** Whether a journal fault fires now (consumes one of `next`). */
  rollJournal(name: JournalFaultName): boolean {
    const fires = this.fires(this.config.journal?.[name]);
    if (fires) this.counters[name === 'dropStream' ? 'journalStreamsDropped' : 'journalOffsetsExpired'] += 1;
    return fires;
  }

  /** Delay of journal answers, 0 when none is configured. */
  journalDelayMs(): number {
    return this.config.journal?.delayMs ?? 0;
  }

  private fires(knob: z.output<typeof chance> | undefined): boolean {
    if (knob === undefined) return false;
    if (knob.next !== undefined && knob.next > 0) {
      knob.next -= 1;
      return true;
    }
    if (knob.probability !== undefined) return this.random() < knob.probability;
    return knob.next === undefined;
  }

  /** Delay before a webhook request, 0 when none is configured. */
  delayMs(): number {
    const delay = this.config.webhooks?.delayMs;
    if (delay === undefined) return 0;
    const ms = typeof delay === 'number' ? delay : delay.min + Math.floor(this.random() * (Math.max(delay.max, delay.min) - delay.min + 1));
    if (ms > 0) this.counters.delayed += 1;
    return ms;
  }

  /** The HTTP fault (error, delay or both) for a request, if one matches and fires (consumes its count). */
  matchHttp(method: string, path: string): HttpFault | undefined {
    for (const [index, entry] of this.http.entries()) {
      if (entry.rule.method !== undefined && entry.rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!entry.pattern.test(path)) continue;
      if (entry.rule.probability !== undefined && this.random() >= entry.rule.probability) continue;
      if (entry.remaining !== undefined) {
        entry.remaining -= 1;
        if (entry.remaining <= 0) this.http.splice(index, 1);
      }
      if (entry.rule.status !== undefined) this.counters.httpInjected += 1;
      if (entry.rule.delayMs !== undefined) this.counters.httpDelayed += 1;
      return entry.rule;
    }
    return undefined;
  }

  resetCounters(): void {
    for (const key of Object.keys(this.counters) as (keyof FaultCounters)[]) this.counters[key] = 0;
  }
}
